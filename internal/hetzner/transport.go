package hetzner

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// transport is the http.RoundTripper under hcloud-go. Every request of the
// client passes through it, which makes it the one place that can keep the
// shared rate-limit budget, count requests and log them.
//
// It retries only 429 responses: the API did not process those requests, so
// repeating them is safe even for creates. Every other retry decision belongs
// to Client.Retry, which knows what the operation is.
type transport struct {
	next       http.RoundTripper
	clock      Clock
	budget     *budget
	stats      *requestStats
	maxRetries int
	debug      *debugLog
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		resp, err := t.send(req, attempt)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests || attempt >= t.maxRetries || !canRewind(req) {
			return resp, nil
		}
		// Discard the 429 body so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if err := t.clock.Sleep(ctx, t.budget.backOffAfter429(t.clock.Now())); err != nil {
			return nil, fmt.Errorf("waiting for the Hetzner API rate limit to reset: %w", err)
		}
	}
}

// send makes one attempt: it waits for a slot in the budget, sends, counts
// and logs the request, and feeds the response headers back to the budget.
func (t *transport) send(req *http.Request, attempt int) (*http.Response, error) {
	ctx := req.Context()
	wait := t.budget.reserveSlot()
	defer t.budget.release()
	if err := t.clock.Sleep(ctx, wait); err != nil {
		return nil, fmt.Errorf("waiting for the Hetzner API rate limit: %w", err)
	}
	out, err := rewind(req, attempt)
	if err != nil {
		return nil, err
	}
	start := t.clock.Now()
	resp, err := t.next.RoundTrip(out)
	t.stats.record(ctx, req.Method, req.URL.Path)
	t.debug.request(req, resp, err, t.clock.Now().Sub(start))
	if err != nil {
		return nil, err
	}
	t.budget.observe(resp.Header, t.clock.Now())
	return resp, nil
}

// canRewind reports whether req can be sent again: it has no body or a
// body that can be recreated.
func canRewind(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind returns the request for the given attempt: the original first, then
// clones with a fresh body (a RoundTripper must not modify its request).
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 {
		return req, nil
	}
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("rewind request body for retry: %w", err)
		}
		out.Body = body
	}
	return out, nil
}

// debugLog writes one line per request. It is shared by concurrent requests,
// hence the mutex; it never prints headers, so the token cannot leak.
type debugLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (d *debugLog) request(req *http.Request, resp *http.Response, err error, took time.Duration) {
	if d == nil || d.w == nil {
		return
	}
	took = took.Round(time.Millisecond)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		fmt.Fprintf(d.w, "hetzner: %s %s error %s: %v\n", req.Method, req.URL.Path, took, err)
		return
	}
	fmt.Fprintf(d.w, "hetzner: %s %s %d %s\n", req.Method, req.URL.Path, resp.StatusCode, took)
}
