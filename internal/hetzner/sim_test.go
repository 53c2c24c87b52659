package hetzner

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/exp/actionutil"
)

// These tests run the package against the project's Hetzner simulator, so
// the wire format of actions, errors and locks is the real one.

func createServer(ctx context.Context, t *testing.T, c *Client, name string) hcloud.ServerCreateResult {
	t.Helper()
	res, _, err := c.API().Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: name, ServerType: &hcloud.ServerType{Name: "cx22"},
		Image: &hcloud.Image{Name: "debian-12"}, Location: &hcloud.Location{Name: "fsn1"},
		Labels: map[string]string{"cluster": "demo"},
	})
	if err != nil {
		t.Fatalf("create server %s: %v", name, err)
	}
	return res
}

func TestSimFailedActionIsReported(t *testing.T) {
	_, c := newSimClient(t, hcloudsim.Options{Faults: hcloudsim.Faults{FailCommands: map[string]int{"create_server": 1}}})
	ctx := context.Background()
	res := createServer(ctx, t, c, "demo-control-1")
	err := c.WaitForActions(ctx, actionutil.AppendNext(res.Action, res.NextActions)...)
	var actErr *ActionError
	if !errors.As(err, &actErr) {
		t.Fatalf("err = %v, want an *ActionError", err)
	}
	if actErr.Command != "create_server" || actErr.Code == "" || actErr.Message == "" || actErr.ID != res.Action.ID {
		t.Fatalf("ActionError = %+v", actErr)
	}
}

func TestSimRetryWaitsOutLock(t *testing.T) {
	_, c := newSimClient(t, hcloudsim.Options{})
	ctx := context.Background()
	res := createServer(ctx, t, c, "demo-worker-1")
	// The server is locked while create_server runs; powering it off right
	// away is refused with 423 locked until the action is done.
	var attempts int
	var lastErr error
	err := c.Retry(ctx, "power off server demo-worker-1", func(ctx context.Context) error {
		attempts++
		a, _, err := c.API().Server.Poweroff(ctx, res.Server)
		if err != nil {
			lastErr = err
			return err
		}
		return c.WaitForActions(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
	if attempts > 1 && Classify(lastErr) != ClassLocked {
		t.Fatalf("retried because of %v (class %v), want locked", lastErr, Classify(lastErr))
	}
	t.Logf("power off succeeded after %d attempts", attempts)
}

func TestSimBudgetNeverDrainsTheBucket(t *testing.T) {
	// A small bucket with the real refill rate (1/s) on a clock 200 times
	// faster than the wall clock: 200 requests per real second.
	env := simtest.New(t, hcloudsim.Options{Speed: 200, RateLimit: hcloudsim.RateLimitOptions{Limit: 50, RefillPerSecond: 1}})
	httpClient := simtest.LoopbackHTTPClient(t)
	t.Cleanup(httpClient.CloseIdleConnections)
	c, err := New(Options{
		Token: env.Token, Endpoint: env.Endpoint, HTTPClient: httpClient,
		// The budget measures RateLimit-Reset on the simulator's time, which
		// runs faster than the wall clock.
		Clock: env.Sim.Clock(), PollInterval: time.Second, MaxRetries: -1, RateLimitReserve: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// 150 requests from 10 goroutines: three times the bucket. Without
	// pacing the bucket empties after 50 and the API answers 429; with
	// MaxRetries -1 any 429 would surface as an error here.
	const workers, perWorker = 10, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				if _, err := c.API().Location.All(context.Background()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("request failed: %v (class %v)", err, Classify(err))
	}
	b := c.Budget()
	if b.Remaining < 1 || b.Waited == 0 {
		t.Fatalf("budget %+v: want pacing to have kept requests in the bucket", b)
	}
	t.Logf("budget after %d requests: %+v", c.Total(), b)
}

// simView is the simulator's clock in TestSimRateLimitWaitFollowsTheSimulatorsDate:
// skew off the client's fakeClock, and moving only when the client sleeps.
// The simulator only reads Now; it waits for nothing itself.
type simView struct {
	*fakeClock
	skew time.Duration
}

func (v simView) Now() time.Time { return v.fakeClock.Now().Add(v.skew) }
func (v simView) Speed() float64 { return 0 }

func TestSimRateLimitWaitFollowsTheSimulatorsDate(t *testing.T) {
	// The client's clock is 10 minutes ahead of the simulator's: measured
	// against it, every RateLimit-Reset lies in the past.
	clock := newFakeClock()
	env := simtest.New(t, hcloudsim.Options{
		Clock:     simView{fakeClock: clock, skew: -10 * time.Minute},
		RateLimit: hcloudsim.RateLimitOptions{Limit: 5, RefillPerSecond: 1},
	})
	httpClient := simtest.LoopbackHTTPClient(t)
	t.Cleanup(httpClient.CloseIdleConnections)
	var rec waitRecorder
	c, err := New(Options{
		Token: env.Token, Endpoint: env.Endpoint, HTTPClient: httpClient,
		Clock: clock, RateLimitReserve: -1, OnRateLimitWait: rec.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// The sixth request finds the bucket of five empty; it is full again
	// five seconds later by the simulator's Date.
	for range 6 {
		if err := doRaw(context.Background(), c, http.MethodGet, "/locations", ""); err != nil {
			t.Fatal(err)
		}
	}
	if sleeps := clock.slept(); len(sleeps) != 1 || sleeps[0] != 5*time.Second {
		t.Fatalf("slept %v, want one wait of 5s", sleeps)
	}
	got := rec.got()
	if len(got) != 1 || got[0].String() != "Hetzner rate limit: waiting 5s, 0 requests left of 5/h" {
		t.Fatalf("announced %+v, want the one wait of 5s", got)
	}
}
