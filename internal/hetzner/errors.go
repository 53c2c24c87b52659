package hetzner

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// Class groups errors by what the caller should do about them. The design
// rule is: locked waits and retries, uniqueness adopts or fails, capacity
// fails fast, and nothing retries forever.
type Class int

const (
	// ClassNone is the class of a nil error.
	ClassNone Class = iota
	// ClassOther is anything not covered below; not retried.
	ClassOther
	// ClassLocked: another action runs on the resource. Wait and retry.
	ClassLocked
	// ClassUniqueness: the name (or SSH key fingerprint) is taken. The
	// caller adopts the existing resource if its labels say it is ours and
	// fails otherwise.
	ClassUniqueness
	// ClassUnavailable: Hetzner cannot provide the resource now (sold-out
	// server type or location, placement failure, project limit). Retrying
	// does not help; fail fast with a capacity message.
	ClassUnavailable
	// ClassNotFound: the resource does not exist (anymore).
	ClassNotFound
	// ClassProtected: delete or rebuild protection is on.
	ClassProtected
	// ClassRateLimited: the request budget is exhausted (the transport
	// already waited and retried).
	ClassRateLimited
	// ClassTransient: server-side trouble or a network failure that is
	// likely to pass (5xx, service_error, timeouts, connection resets).
	ClassTransient
	// ClassInvalid: the request is wrong (invalid_input, json_error, …).
	ClassInvalid
	// ClassConflict: the resource's state conflicts with the request for
	// now (concurrent change, still in use, still assigned) and may
	// resolve once in-flight actions finish.
	ClassConflict
	// ClassAuth: the token is missing, invalid or lacks permission.
	ClassAuth
	// ClassAlreadyApplied: the requested relation already exists (already
	// attached, applied, defined). For idempotent steps this usually
	// means success, but the caller must check it is the desired relation.
	ClassAlreadyApplied
)

func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassOther:
		return "other"
	case ClassLocked:
		return "locked"
	case ClassUniqueness:
		return "uniqueness"
	case ClassUnavailable:
		return "unavailable"
	case ClassNotFound:
		return "not_found"
	case ClassProtected:
		return "protected"
	case ClassRateLimited:
		return "rate_limited"
	case ClassTransient:
		return "transient"
	case ClassInvalid:
		return "invalid"
	case ClassConflict:
		return "conflict"
	case ClassAuth:
		return "auth"
	case ClassAlreadyApplied:
		return "already_applied"
	default:
		return "Class(" + strconv.Itoa(int(c)) + ")"
	}
}

// Classify returns the class of err. It understands hcloud-go API errors
// (by code, falling back to the HTTP status for unknown codes), action
// errors (hcloud.ActionError and *ActionError, by code), hcloud-go's
// non-JSON status errors, network errors and context errors, also when
// wrapped.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var apiErr hcloud.Error
	if errors.As(err, &apiErr) {
		if c, ok := classOfCode(string(apiErr.Code)); ok {
			return c
		}
		if resp := apiErr.Response(); resp != nil && resp.Response != nil {
			return classOfStatus(resp.StatusCode)
		}
		return ClassOther
	}
	var actErr *ActionError
	if errors.As(err, &actErr) {
		return classOfActionCode(actErr.Code)
	}
	var hcActErr hcloud.ActionError
	if errors.As(err, &hcActErr) {
		return classOfActionCode(hcActErr.Code)
	}
	if errors.Is(err, hcloud.ErrStatusCode) {
		return classOfStatus(statusFromMessage(err.Error()))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
		return ClassOther
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ClassTransient
	}
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) {
		return ClassTransient
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return ClassTransient
	}
	return ClassOther
}

func classOfActionCode(code string) Class {
	if c, ok := classOfCode(code); ok {
		return c
	}
	return ClassOther
}

// classOfCode maps an API error code to its class. The list follows
// hcloud-go's error.go plus codes seen in the wild (server_limit_exceeded,
// must_be_unassigned, floating_ip_assigned, limit_reached).
func classOfCode(code string) (Class, bool) {
	switch hcloud.ErrorCode(code) {
	case hcloud.ErrorCodeLocked:
		return ClassLocked, true

	case hcloud.ErrorCodeUniquenessError:
		return ClassUniqueness, true

	case hcloud.ErrorCodeResourceUnavailable, hcloud.ErrorCodePlacementError,
		hcloud.ErrorCodeResourceLimitExceeded, "server_limit_exceeded",
		hcloud.ErrorCodeNoSpaceLeftInLocation, hcloud.ErrorCodeNoSubnetAvailable:
		return ClassUnavailable, true

	case hcloud.ErrorCodeNotFound, hcloud.ErrorCodeFirewallResourceNotFound,
		hcloud.ErrorCodeDNSZoneNotFound:
		return ClassNotFound, true

	case hcloud.ErrorCodeProtected:
		return ClassProtected, true

	case hcloud.ErrorCodeRateLimitExceeded, "limit_reached":
		return ClassRateLimited, true

	case hcloud.ErrorCodeServiceError, hcloud.ErrorCodeServerError, hcloud.ErrorCodeUnknownError,
		hcloud.ErrorCodeBadGateway, hcloud.ErrorCodeTimeout, hcloud.ErrorCodeMaintenance,
		hcloud.ErrorCodeRobotUnavailable:
		return ClassTransient, true

	case hcloud.ErrorCodeInvalidInput, hcloud.ErrorCodeJSONError,
		hcloud.ErrorUnsupportedError, hcloud.ErrorDeprecatedAPIEndpoint,
		hcloud.ErrorCodeInvalidServerType, hcloud.ErrorCodeNetworksOverlap,
		hcloud.ErrorCodePrimaryIPDatacenterMismatch, hcloud.ErrorCodePrimaryIPVersionMismatch,
		hcloud.ErrorCodeIPNotOwned, hcloud.ErrorCodeCloudResourceIPNotAllowed,
		hcloud.ErrorCodeInvalidLoadBalancerType, hcloud.ErrorCodeTargetsWithoutUsePrivateIP,
		hcloud.ErrorCodeMissingIPv4, hcloud.ErrorCodeVSwitchAlreadyUsed,
		hcloud.ErrorCodeIncompatibleNetworkType, hcloud.ErrorCodeServerAlreadyAdded,
		hcloud.ErrorCodeFirewallManagedByLabelSelector, hcloud.ErrorCodePrivateNetOnlyServer,
		hcloud.ErrorCodeDNSZoneIsSecondaryZone:
		return ClassInvalid, true

	case hcloud.ErrorCodeConflict, hcloud.ErrorCodeResourceInUse, "must_be_unassigned",
		hcloud.ErrorCodeServerNotStopped, hcloud.ErrorCodeIPNotAvailable,
		hcloud.ErrorCodePrimaryIPAssigned, hcloud.ErrorCodePrimaryIPAlreadyAssigned,
		hcloud.ErrorCodeServerHasIPv4, hcloud.ErrorCodeServerHasIPv6,
		hcloud.ErrorCodeServerIsLoadBalancerTarget, "floating_ip_assigned",
		hcloud.ErrorCodeServerNotAttachedToNetwork, hcloud.ErrorCodeLoadBalancerNotAttachedToNetwork:
		return ClassConflict, true

	case hcloud.ErrorCodeUnauthorized, hcloud.ErrorCodeForbidden, "token_readonly":
		return ClassAuth, true

	case hcloud.ErrorCodeServerAlreadyAttached, hcloud.ErrorCodeLoadBalancerAlreadyAttached,
		hcloud.ErrorCodeFirewallAlreadyApplied, hcloud.ErrorCodeTargetAlreadyDefined,
		hcloud.ErrorCodeSourcePortAlreadyUsed, hcloud.ErrorCodeVolumeAlreadyAttached,
		hcloud.ErrorCodeFirewallAlreadyRemoved: //nolint:staticcheck // still sent by older API versions
		return ClassAlreadyApplied, true

	case hcloud.ErrorCodeResourceLocked, // locked by Hetzner: contact support
		hcloud.ErrorCodeCAARecordDoesNotAllowCA, hcloud.ErrorCodeCADNSValidationFailed,
		hcloud.ErrorCodeCATooManyAuthorizationsFailedRecently,
		hcloud.ErrorCodeCATooManyCertificatedIssuedForRegisteredDomain,
		hcloud.ErrorCodeCATooManyDuplicateCertificates,
		hcloud.ErrorCodeCloudNotVerifyDomainDelegatedToZone:
		return ClassOther, true
	}
	return ClassOther, false
}

func classOfStatus(status int) Class {
	switch {
	case status == http.StatusTooManyRequests:
		return ClassRateLimited
	case status == http.StatusLocked:
		return ClassLocked
	case status == http.StatusNotFound:
		return ClassNotFound
	case status == http.StatusConflict:
		return ClassConflict
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ClassAuth
	case status >= 500:
		return ClassTransient
	}
	return ClassOther
}

// statusFromMessage extracts N from hcloud-go's "server responded with
// status code N", the only place that error carries the status.
func statusFromMessage(msg string) int {
	i := strings.LastIndexByte(msg, ' ')
	n, err := strconv.Atoi(msg[i+1:])
	if err != nil {
		return 0
	}
	return n
}
