package hetzner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

const testToken = "test-token-0123456789abcdef"

// fakeClock never sleeps: Sleep advances its time and records the duration,
// so tests see exactly how long the code wanted to wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

// After advances the clock by d, like Sleep, and delivers at once.
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	_ = c.Sleep(context.Background(), d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// NewTicker is not used by this package; a fake that never sleeps could only
// tick in a busy loop.
func (c *fakeClock) NewTicker(time.Duration) clock.Ticker {
	panic("fakeClock: NewTicker is not used by the hetzner package")
}

// slept returns the positive sleeps so far.
func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// newTestServer starts an httptest server for h, closed at cleanup.
func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newTestClient builds a Client for srv that dials only loopback; opts may
// override everything but Endpoint and HTTPClient.
func newTestClient(t *testing.T, srv *httptest.Server, opts Options) *Client {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	opts.Endpoint = srv.URL + "/v1"
	opts.HTTPClient = simtest.LoopbackHTTPClient(t)
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Millisecond
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// doRaw sends one request through the client's hcloud-go stack.
func doRaw(ctx context.Context, c *Client, method, path, body string) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := c.API().NewRequest(ctx, method, path, r)
	if err != nil {
		return err
	}
	_, err = c.API().Do(req, nil)
	return err
}

// writeJSON answers with a JSON body and the given status.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
