package hetzner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// The full text of the messages people see most when Hetzner says no: these
// are the product's words, so a change to them must be deliberate.
func TestExplainedMessages(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		want      string
		wantRerun bool
	}{
		{
			name: "capacity",
			errs: []error{apiError(hcloud.ErrorCodeResourceUnavailable, "server type cpx32 is not available in fsn1")},
			want: `create server demo-worker-1 (cpx32 in fsn1): Hetzner has no capacity for this right now (Hetzner: "server type cpx32 is not available in fsn1", resource_unavailable); ` +
				"try another location or server type in the cluster file, or wait until Hetzner has stock again",
		},
		{
			name: "project limit",
			errs: []error{apiError(hcloud.ErrorCodeResourceLimitExceeded, "server limit exceeded")},
			want: `create server demo-worker-1 (cpx32 in fsn1): project limit reached (Hetzner: "server limit exceeded", resource_limit_exceeded); ` +
				"delete resources this project no longer needs, or ask Hetzner to raise the limit (Cloud Console: the project's Limits page)",
		},
		{
			name: "authentication",
			errs: []error{apiError(hcloud.ErrorCodeUnauthorized, "unable to authenticate")},
			want: `create server demo-worker-1 (cpx32 in fsn1): Hetzner refused the API token (Hetzner: "unable to authenticate", unauthorized); ` +
				"check that HCLOUD_TOKEN is valid, belongs to the cluster's project and has Read & Write permission",
		},
		{
			name: "locked",
			errs: []error{apiError(hcloud.ErrorCodeLocked, "server is locked"), apiError(hcloud.ErrorCodeLocked, "server is locked"),
				apiError(hcloud.ErrorCodeLocked, "server is locked"), apiError(hcloud.ErrorCodeLocked, "server is locked")},
			want: `create server demo-worker-1 (cpx32 in fsn1): still failing after 4 attempts: the resource stayed locked by another action (Hetzner: "server is locked", locked); ` +
				"wait for that action to finish",
			wantRerun: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newOfflineClient(t, Options{Clock: newFakeClock(), MaxRetries: 3, PollInterval: 100 * time.Millisecond})
			attempt := 0
			err := c.Retry(context.Background(), "create server demo-worker-1 (cpx32 in fsn1)", func(context.Context) error {
				attempt++
				return tt.errs[min(attempt, len(tt.errs))-1]
			})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("message:\n got %v\nwant %s", err, tt.want)
			}
			if RerunHelps(err) != tt.wantRerun {
				t.Errorf("RerunHelps = %v, want %v", RerunHelps(err), tt.wantRerun)
			}
			var e *Error
			if !errors.As(err, &e) || Classify(err) != Classify(tt.errs[0]) {
				t.Errorf("the API error's class does not survive the explanation: %#v", err)
			}
		})
	}
}

func TestJoinReportsAProjectWideCauseOnce(t *testing.T) {
	auth := func(op string) error {
		return explain(op, ClassAuth, 1, apiError(hcloud.ErrorCodeUnauthorized, "unable to authenticate"))
	}
	other := errors.New("list volumes: connection reset")
	err := Join(auth("list servers"), nil, auth("list networks"), other, auth("list firewalls"))
	want := `list servers: Hetzner refused the API token (Hetzner: "unable to authenticate", unauthorized); ` +
		"check that HCLOUD_TOKEN is valid, belongs to the cluster's project and has Read & Write permission\n" +
		"list volumes: connection reset"
	if err == nil || err.Error() != want {
		t.Fatalf("Join:\n got %v\nwant %s", err, want)
	}
	if Join(nil, nil) != nil {
		t.Error("Join of nothing is not nil")
	}
}
