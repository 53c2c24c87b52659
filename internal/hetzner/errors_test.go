package hetzner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestClassifyEveryErrorCode lists every code of hcloud-go's error.go (and a
// few seen in the wild) with the class callers rely on.
func TestClassifyEveryErrorCode(t *testing.T) {
	tests := []struct {
		code hcloud.ErrorCode
		want Class
	}{
		{hcloud.ErrorCodeServiceError, ClassTransient},
		{hcloud.ErrorCodeRateLimitExceeded, ClassRateLimited},
		{hcloud.ErrorCodeUnknownError, ClassTransient},
		{hcloud.ErrorCodeNotFound, ClassNotFound},
		{hcloud.ErrorCodeInvalidInput, ClassInvalid},
		{hcloud.ErrorCodeForbidden, ClassAuth},
		{hcloud.ErrorCodeUnauthorized, ClassAuth},
		{hcloud.ErrorCodeJSONError, ClassInvalid},
		{hcloud.ErrorCodeLocked, ClassLocked},
		{hcloud.ErrorCodeResourceLimitExceeded, ClassUnavailable},
		{hcloud.ErrorCodeResourceUnavailable, ClassUnavailable},
		{hcloud.ErrorCodeUniquenessError, ClassUniqueness},
		{hcloud.ErrorCodeProtected, ClassProtected},
		{hcloud.ErrorCodeMaintenance, ClassTransient},
		{hcloud.ErrorCodeConflict, ClassConflict},
		{hcloud.ErrorCodeRobotUnavailable, ClassTransient},
		{hcloud.ErrorCodeResourceLocked, ClassOther},
		{hcloud.ErrorCodeServerError, ClassTransient},
		{hcloud.ErrorCodeBadGateway, ClassTransient},
		{hcloud.ErrorCodeTimeout, ClassTransient},
		{hcloud.ErrorUnsupportedError, ClassInvalid},
		{hcloud.ErrorDeprecatedAPIEndpoint, ClassInvalid},

		{hcloud.ErrorCodeInvalidServerType, ClassInvalid},
		{hcloud.ErrorCodeServerNotStopped, ClassConflict},
		{hcloud.ErrorCodeNetworksOverlap, ClassInvalid},
		{hcloud.ErrorCodePlacementError, ClassUnavailable},
		{hcloud.ErrorCodeServerAlreadyAttached, ClassAlreadyApplied},
		{hcloud.ErrorCodePrimaryIPAssigned, ClassConflict},
		{hcloud.ErrorCodePrimaryIPDatacenterMismatch, ClassInvalid},
		{hcloud.ErrorCodePrimaryIPVersionMismatch, ClassInvalid},
		{hcloud.ErrorCodeServerHasIPv4, ClassConflict},
		{hcloud.ErrorCodeServerHasIPv6, ClassConflict},
		{hcloud.ErrorCodePrimaryIPAlreadyAssigned, ClassConflict},
		{hcloud.ErrorCodeServerIsLoadBalancerTarget, ClassConflict},

		{hcloud.ErrorCodeIPNotOwned, ClassInvalid},
		{hcloud.ErrorCodeSourcePortAlreadyUsed, ClassAlreadyApplied},
		{hcloud.ErrorCodeCloudResourceIPNotAllowed, ClassInvalid},
		{hcloud.ErrorCodeServerNotAttachedToNetwork, ClassConflict},
		{hcloud.ErrorCodeTargetAlreadyDefined, ClassAlreadyApplied},
		{hcloud.ErrorCodeInvalidLoadBalancerType, ClassInvalid},
		{hcloud.ErrorCodeLoadBalancerAlreadyAttached, ClassAlreadyApplied},
		{hcloud.ErrorCodeTargetsWithoutUsePrivateIP, ClassInvalid},
		{hcloud.ErrorCodeLoadBalancerNotAttachedToNetwork, ClassConflict},
		{hcloud.ErrorCodeMissingIPv4, ClassInvalid},

		{hcloud.ErrorCodeIPNotAvailable, ClassConflict},
		{hcloud.ErrorCodeNoSubnetAvailable, ClassUnavailable},
		{hcloud.ErrorCodeVSwitchAlreadyUsed, ClassInvalid},

		{hcloud.ErrorCodeNoSpaceLeftInLocation, ClassUnavailable},
		{hcloud.ErrorCodeVolumeAlreadyAttached, ClassAlreadyApplied},

		{hcloud.ErrorCodeFirewallAlreadyApplied, ClassAlreadyApplied},
		{hcloud.ErrorCodeIncompatibleNetworkType, ClassInvalid},
		{hcloud.ErrorCodeResourceInUse, ClassConflict},
		{hcloud.ErrorCodeServerAlreadyAdded, ClassInvalid},
		{hcloud.ErrorCodeFirewallResourceNotFound, ClassNotFound},
		{hcloud.ErrorCodeFirewallManagedByLabelSelector, ClassInvalid},
		{hcloud.ErrorCodePrivateNetOnlyServer, ClassInvalid},
		{hcloud.ErrorCodeFirewallAlreadyRemoved, ClassAlreadyApplied}, //nolint:staticcheck // deprecated but may still be sent

		{hcloud.ErrorCodeCAARecordDoesNotAllowCA, ClassOther},
		{hcloud.ErrorCodeCADNSValidationFailed, ClassOther},
		{hcloud.ErrorCodeCATooManyAuthorizationsFailedRecently, ClassOther},
		{hcloud.ErrorCodeCATooManyCertificatedIssuedForRegisteredDomain, ClassOther},
		{hcloud.ErrorCodeCATooManyDuplicateCertificates, ClassOther},
		{hcloud.ErrorCodeCloudNotVerifyDomainDelegatedToZone, ClassOther},
		{hcloud.ErrorCodeDNSZoneNotFound, ClassNotFound},
		{hcloud.ErrorCodeDNSZoneIsSecondaryZone, ClassInvalid},

		// Codes missing from hcloud-go's list.
		{"server_limit_exceeded", ClassUnavailable},
		{"must_be_unassigned", ClassConflict},
		{"floating_ip_assigned", ClassConflict},
		{"token_readonly", ClassAuth},
		{"limit_reached", ClassRateLimited},
		{"brand_new_code", ClassOther},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			err := hcloud.Error{Code: tt.code, Message: "message"}
			if got := Classify(err); got != tt.want {
				t.Errorf("Classify(%s) = %v, want %v", tt.code, got, tt.want)
			}
			wrapped := fmt.Errorf("create server demo-control-1: %w", err)
			if got := Classify(wrapped); got != tt.want {
				t.Errorf("Classify(wrapped %s) = %v, want %v", tt.code, got, tt.want)
			}
			// An action that failed with the same code means the same.
			actErr := &ActionError{ID: 1, Command: "create_server", Code: string(tt.code), Message: "message"}
			if got := Classify(actErr); got != tt.want {
				t.Errorf("Classify(ActionError %s) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassifyOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassNone},
		{"plain error", errors.New("boom"), ClassOther},
		{"canceled", fmt.Errorf("list servers: %w", context.Canceled), ClassOther},
		{"client closed", ErrClosed, ClassOther},
		{"deadline", context.DeadlineExceeded, ClassTransient},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, ClassTransient},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, ClassTransient},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ClassTransient},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), ClassTransient},
		{"hcloud action error", hcloud.ActionError{Code: "resource_unavailable", Message: "error during placement"}, ClassUnavailable},
		{"hcloud action error, unknown code", hcloud.ActionError{Code: "action_failed", Message: "failed"}, ClassOther},
		{"non-JSON 503", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 503), ClassTransient},
		{"non-JSON 502", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 502), ClassTransient},
		{"non-JSON 423", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 423), ClassLocked},
		{"non-JSON 429", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 429), ClassRateLimited},
		{"non-JSON 404", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 404), ClassNotFound},
		{"non-JSON 400", fmt.Errorf("hcloud: %w %d", hcloud.ErrStatusCode, 400), ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestClassifyResponses runs real responses through hcloud-go, so the
// classification sees errors exactly as callers do.
func TestClassifyResponses(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        Class
	}{
		{"locked", http.StatusLocked, "application/json", `{"error":{"code":"locked","message":"server is locked"}}`, ClassLocked},
		{"uniqueness", http.StatusConflict, "application/json", `{"error":{"code":"uniqueness_error","message":"name is already used","details":{"fields":[{"name":"name"}]}}}`, ClassUniqueness},
		{"unavailable", http.StatusServiceUnavailable, "application/json", `{"error":{"code":"resource_unavailable","message":"error during placement"}}`, ClassUnavailable},
		{"unknown code with 5xx", http.StatusInternalServerError, "application/json", `{"error":{"code":"brand_new_code","message":"?"}}`, ClassTransient},
		{"unknown code with 4xx", http.StatusBadRequest, "application/json", `{"error":{"code":"brand_new_code","message":"?"}}`, ClassOther},
		{"HTML gateway error", http.StatusBadGateway, "text/html", `<html>bad gateway</html>`, ClassTransient},
		{"HTML 504", http.StatusGatewayTimeout, "text/html", `<html>timeout</html>`, ClassTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			c := newTestClient(t, srv, Options{})
			err := doRaw(context.Background(), c, http.MethodGet, "/servers/1", "")
			if got := Classify(err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	for c := ClassNone; c <= ClassAlreadyApplied; c++ {
		if s := c.String(); s == "" || s[0] == 'C' {
			t.Errorf("Class %d has no name: %q", int(c), s)
		}
	}
}
