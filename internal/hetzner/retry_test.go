package hetzner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func apiError(code hcloud.ErrorCode, msg string) error {
	return hcloud.Error{Code: code, Message: msg}
}

func TestRetry(t *testing.T) {
	locked := apiError(hcloud.ErrorCodeLocked, "server is locked")
	tests := []struct {
		name         string
		errs         []error // returned by successive attempts; nil after the end
		wantAttempts int
		wantErr      []string // substrings of the error; none means success
		wantCode     hcloud.ErrorCode
	}{
		{name: "succeeds at once", errs: nil, wantAttempts: 1},
		{
			name:         "locked then success",
			errs:         []error{locked, locked},
			wantAttempts: 3,
		},
		{
			name:         "transient and conflict then success",
			errs:         []error{apiError(hcloud.ErrorCodeServiceError, "try again"), apiError(hcloud.ErrorCodeConflict, "changed")},
			wantAttempts: 3,
		},
		{
			name:         "uniqueness is returned to the caller at once",
			errs:         []error{apiError(hcloud.ErrorCodeUniquenessError, "name is already used")},
			wantAttempts: 1,
			wantErr:      []string{"create server demo-control-1: name already in use", "uniqueness_error"},
			wantCode:     hcloud.ErrorCodeUniquenessError,
		},
		{
			name:         "sold out fails fast with a capacity message",
			errs:         []error{apiError(hcloud.ErrorCodeResourceUnavailable, "error during placement")},
			wantAttempts: 1,
			wantErr:      []string{"create server demo-control-1:", "no capacity", "another location"},
			wantCode:     hcloud.ErrorCodeResourceUnavailable,
		},
		{
			name:         "quota fails fast with a limit message",
			errs:         []error{apiError(hcloud.ErrorCodeResourceLimitExceeded, "server limit exceeded")},
			wantAttempts: 1,
			wantErr:      []string{"project limit reached"},
			wantCode:     hcloud.ErrorCodeResourceLimitExceeded,
		},
		{
			name:         "invalid input is not retried",
			errs:         []error{locked, apiError(hcloud.ErrorCodeInvalidInput, "invalid user_data")},
			wantAttempts: 2,
			wantErr:      []string{"create server demo-control-1: invalid user_data"},
			wantCode:     hcloud.ErrorCodeInvalidInput,
		},
		{
			name:         "rate limit is not retried again (the transport did)",
			errs:         []error{apiError(hcloud.ErrorCodeRateLimitExceeded, "limit reached")},
			wantAttempts: 1,
			wantCode:     hcloud.ErrorCodeRateLimitExceeded,
			wantErr:      []string{"limit reached"},
		},
		{
			name:         "auth errors point at the token",
			errs:         []error{apiError(hcloud.ErrorCodeUnauthorized, "unable to authenticate")},
			wantAttempts: 1,
			wantErr:      []string{"HCLOUD_TOKEN"},
			wantCode:     hcloud.ErrorCodeUnauthorized,
		},
		{
			name:         "gives up after the bound",
			errs:         []error{locked, locked, locked, locked, locked, locked, locked, locked, locked, locked},
			wantAttempts: 4, // MaxRetries 3
			wantErr:      []string{"create server demo-control-1: still failing after 4 attempts", "server is locked"},
			wantCode:     hcloud.ErrorCodeLocked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c := newOfflineClient(t, Options{Clock: clock, MaxRetries: 3, PollInterval: 100 * time.Millisecond})
			attempts := 0
			err := c.Retry(context.Background(), "create server demo-control-1", func(context.Context) error {
				attempts++
				if attempts <= len(tt.errs) {
					return tt.errs[attempts-1]
				}
				return nil
			})
			if attempts != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", attempts, tt.wantAttempts)
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatal("err = nil, want an error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tt.wantCode != "" && !hcloud.IsError(err, tt.wantCode) {
				t.Errorf("error %v does not wrap the %s API error", err, tt.wantCode)
			}
			if got := len(clock.slept()); got != attempts-1 {
				t.Errorf("slept %d times for %d attempts", got, attempts)
			}
		})
	}
}

func TestRetryBackoffGrowsAndIsCapped(t *testing.T) {
	clock := newFakeClock()
	const base = 100 * time.Millisecond
	c := newOfflineClient(t, Options{Clock: clock, MaxRetries: 9, PollInterval: base})
	_ = c.Retry(context.Background(), "delete network demo", func(context.Context) error {
		return apiError(hcloud.ErrorCodeServiceError, "cannot remove subnet because servers are attached to it")
	})
	sleeps := clock.slept()
	if len(sleeps) != 9 {
		t.Fatalf("slept %d times, want 9", len(sleeps))
	}
	for i, d := range sleeps {
		full := min(base<<i, maxBackoffFactor*base)
		if d < full/2 || d > full {
			t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, full/2, full)
		}
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	c := newOfflineClient(t, Options{PollInterval: time.Hour}) // real clock
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.Retry(ctx, "attach server demo-worker-1 to network", func(context.Context) error {
		return apiError(hcloud.ErrorCodeLocked, "server is locked")
	})
	if !errors.Is(err, context.DeadlineExceeded) || !hcloud.IsError(err, hcloud.ErrorCodeLocked) {
		t.Fatalf("err = %v, want the deadline and the last API error", err)
	}
}

// newOfflineClient builds a Client that is never used for HTTP.
func newOfflineClient(t *testing.T, opts Options) *Client {
	t.Helper()
	opts.Token = testToken
	opts.Endpoint = "http://127.0.0.1:1/v1"
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
