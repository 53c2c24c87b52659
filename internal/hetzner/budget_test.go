package hetzner

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// rateLimitHandler answers every request with the RateLimit-* headers that
// reply returns for the n-th request (0-based), and records request bodies.
// Like the real API it stamps Date from the clock its resets are on, now;
// without now it sends no Date.
type rateLimitHandler struct {
	now   func() time.Time
	reply func(n int) (status, limit, remaining int, reset time.Time)

	mu     sync.Mutex
	n      int
	bodies []string
}

func (h *rateLimitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	n := h.n
	h.n++
	h.bodies = append(h.bodies, string(body))
	h.mu.Unlock()
	status, limit, remaining, reset := h.reply(n)
	if h.now != nil {
		w.Header().Set("Date", h.now().UTC().Format(http.TimeFormat))
	} else {
		w.Header()["Date"] = nil // keeps net/http from stamping the wall clock
	}
	w.Header().Set("RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, `{"error":{"code":"rate_limit_exceeded","message":"limit of 3600 requests per hour reached"}}`)
		return
	}
	writeJSON(w, status, `{}`)
}

func (h *rateLimitHandler) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

func TestBudgetPacesWhenRemainingIsLow(t *testing.T) {
	const limit = 3600 // refills one request per second
	tests := []struct {
		name      string
		remaining int
		reserve   int
		skew      time.Duration // the server's clock minus the client's
		wantGap   time.Duration // spacing between requests once paced
	}{
		{name: "plenty left", remaining: 3000, wantGap: 0},
		{name: "just below the default reserve of 360", remaining: 300, wantGap: 1200 * time.Millisecond},
		{name: "a tenth of the reserve", remaining: 36, wantGap: 10 * time.Second},
		{name: "a tenth of the reserve, server clock 10 min ahead", remaining: 36, skew: 10 * time.Minute, wantGap: 10 * time.Second},
		{name: "a tenth of the reserve, server clock 10 min behind", remaining: 36, skew: -10 * time.Minute, wantGap: 10 * time.Second},
		{name: "empty bucket is capped by MaxRateLimitWait", remaining: 0, wantGap: time.Minute},
		{name: "custom reserve not reached", remaining: 300, reserve: 100, wantGap: 0},
		{name: "custom reserve", remaining: 50, reserve: 100, wantGap: 2 * time.Second},
		{name: "pacing disabled", remaining: 5, reserve: -1, wantGap: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			serverNow := func() time.Time { return clock.Now().Add(tt.skew) }
			h := &rateLimitHandler{now: serverNow, reply: func(int) (int, int, int, time.Time) {
				// Like the real API: full again after one second per
				// missing request.
				return http.StatusOK, limit, tt.remaining, serverNow().Add(time.Duration(limit-tt.remaining) * time.Second)
			}}
			c := newTestClient(t, newTestServer(t, h), Options{Clock: clock, RateLimitReserve: tt.reserve})

			const requests = 5
			for range requests {
				if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
					t.Fatal(err)
				}
			}
			// The first request learns the state, the second books the
			// spacing, the remaining three wait for their slot.
			sleeps := clock.slept()
			if tt.wantGap == 0 {
				if len(sleeps) != 0 {
					t.Fatalf("slept %v, want no pacing", sleeps)
				}
				return
			}
			if len(sleeps) != requests-2 {
				t.Fatalf("slept %v, want %d waits of %v", sleeps, requests-2, tt.wantGap)
			}
			for _, d := range sleeps {
				// RateLimit-Reset has whole seconds; allow for the rounding.
				if diff := d - tt.wantGap; diff < -tt.wantGap/100 || diff > tt.wantGap/100 {
					t.Fatalf("slept %v, want every wait to be %v", sleeps, tt.wantGap)
				}
			}
			if got := c.Budget(); got.Remaining != tt.remaining || got.Limit != limit || !got.Known {
				t.Fatalf("Budget() = %+v", got)
			}
		})
	}
}

func TestBudgetEstimatesRefillDuringPauses(t *testing.T) {
	clock := newFakeClock()
	h := &rateLimitHandler{now: clock.Now, reply: func(n int) (int, int, int, time.Time) {
		if n == 0 {
			return http.StatusOK, 3600, 300, clock.Now().Add(3300 * time.Second)
		}
		return http.StatusOK, 3600, 600, clock.Now().Add(3000 * time.Second)
	}}
	c := newTestClient(t, newTestServer(t, h), Options{Clock: clock})
	if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
		t.Fatal(err)
	}
	// Five idle minutes refill 300 requests: the bucket is above the
	// reserve again and nothing is paced.
	_ = clock.Sleep(context.Background(), 5*time.Minute)
	for range 3 {
		if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
			t.Fatal(err)
		}
	}
	if sleeps := clock.slept(); len(sleeps) != 1 {
		t.Fatalf("slept %v, want only the idle pause", sleeps)
	}
}

func TestBudgetWaitsOn429UntilReset(t *testing.T) {
	tests := []struct {
		name       string
		resetAfter time.Duration // RateLimit-Reset relative to the 429
		wantWait   time.Duration
	}{
		{name: "reset soon", resetAfter: 5 * time.Second, wantWait: 5 * time.Second},
		{name: "reset far away is bounded", resetAfter: 2 * time.Hour, wantWait: time.Minute},
		{name: "reset in the past waits one refill", resetAfter: -10 * time.Second, wantWait: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			h := &rateLimitHandler{now: clock.Now, reply: func(n int) (int, int, int, time.Time) {
				if n == 0 {
					return http.StatusTooManyRequests, 3600, 0, clock.Now().Add(tt.resetAfter)
				}
				return http.StatusCreated, 3600, 3000, clock.Now().Add(time.Hour)
			}}
			c := newTestClient(t, newTestServer(t, h), Options{Clock: clock, RateLimitReserve: -1})

			body := `{"name":"demo-control-1"}`
			if err := doRaw(context.Background(), c, http.MethodPost, "/servers", body); err != nil {
				t.Fatalf("request failed after the 429: %v", err)
			}
			if sleeps := clock.slept(); len(sleeps) != 1 || sleeps[0] != tt.wantWait {
				t.Fatalf("slept %v, want one wait of %v", sleeps, tt.wantWait)
			}
			got := h.requests()
			if len(got) != 2 || got[0] != body || got[1] != body {
				t.Fatalf("server saw bodies %q, want the body twice", got)
			}
			if n := c.Stats()[DefaultPhase]["POST /v1/servers"]; n != 2 {
				t.Fatalf("counted %d POST /v1/servers, want 2 (both attempts spend budget)", n)
			}
		})
	}
}

func TestBudget429HoldsBackEveryone(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(clock, 0, time.Minute, nil)
	h := http.Header{}
	h.Set("RateLimit-Limit", "3600")
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.FormatInt(clock.Now().Add(3*time.Second).Unix(), 10))
	b.observe(h, clock.Now())
	if got := b.backOffAfter429(clock.Now()); got != 3*time.Second {
		t.Fatalf("back-off = %v, want 3s", got)
	}
	// Another request arriving now, while the first one backs off, waits
	// for the same reset instead of hitting the empty bucket.
	if got := b.reserveSlot(); got < 3*time.Second {
		t.Fatalf("concurrent request waits %v, want at least 3s", got)
	}
}

func TestBudgetGivesUpAfterMaxRetries(t *testing.T) {
	clock := newFakeClock()
	h := &rateLimitHandler{now: clock.Now, reply: func(int) (int, int, int, time.Time) {
		return http.StatusTooManyRequests, 3600, 0, clock.Now().Add(2 * time.Second)
	}}
	c := newTestClient(t, newTestServer(t, h), Options{Clock: clock, MaxRetries: 2})
	err := doRaw(context.Background(), c, http.MethodGet, "/servers", "")
	if Classify(err) != ClassRateLimited || !hcloud.IsError(err, hcloud.ErrorCodeRateLimitExceeded) {
		t.Fatalf("err = %v (class %v), want rate_limit_exceeded", err, Classify(err))
	}
	if n := len(h.requests()); n != 3 {
		t.Fatalf("sent %d requests, want 1 + 2 retries", n)
	}
}

func TestBudgetWaitHonoursContext(t *testing.T) {
	h := &rateLimitHandler{now: time.Now, reply: func(int) (int, int, int, time.Time) {
		return http.StatusTooManyRequests, 3600, 0, time.Now().Add(time.Hour)
	}}
	c := newTestClient(t, newTestServer(t, h), Options{}) // real clock
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := doRaw(ctx, c, http.MethodGet, "/servers", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v; the wait did not honour the context", took)
	}
}

func TestBudgetIgnoresResponsesWithoutHeaders(t *testing.T) {
	clock := newFakeClock()
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{}`)
	}))
	c := newTestClient(t, srv, Options{Clock: clock})
	for range 3 {
		if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
			t.Fatal(err)
		}
	}
	if c.Budget().Known || len(clock.slept()) != 0 {
		t.Fatalf("budget %+v, slept %v: want unknown and no pacing", c.Budget(), clock.slept())
	}
}

func TestBudget429WaitFollowsTheServersDate(t *testing.T) {
	tests := []struct {
		name   string
		skew   time.Duration // the server's clock minus the client's
		noDate bool
	}{
		{name: "server clock 10 min ahead", skew: 10 * time.Minute},
		{name: "server clock 10 min behind", skew: -10 * time.Minute},
		{name: "clocks agree"},
		{name: "no Date: the local clock stands in", noDate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			serverNow := func() time.Time { return clock.Now().Add(tt.skew) }
			h := &rateLimitHandler{now: serverNow, reply: func(n int) (int, int, int, time.Time) {
				if n == 0 {
					return http.StatusTooManyRequests, 3600, 0, serverNow().Add(5 * time.Second)
				}
				return http.StatusOK, 3600, 3000, serverNow().Add(time.Hour)
			}}
			if tt.noDate {
				h.now = nil
			}
			c := newTestClient(t, newTestServer(t, h), Options{Clock: clock, RateLimitReserve: -1})
			if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
				t.Fatalf("request failed after the 429: %v", err)
			}
			// Reset and Date are five seconds apart, however far the
			// client's clock is off.
			if sleeps := clock.slept(); len(sleeps) != 1 || sleeps[0] != 5*time.Second {
				t.Fatalf("slept %v, want one wait of 5s", sleeps)
			}
		})
	}
}

// waitRecorder collects what OnRateLimitWait hears.
type waitRecorder struct {
	mu    sync.Mutex
	waits []RateLimitWait
}

func (r *waitRecorder) record(w RateLimitWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, w)
}

func (r *waitRecorder) got() []RateLimitWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RateLimitWait(nil), r.waits...)
}

func TestBudgetAnnouncesLongWaits(t *testing.T) {
	tests := []struct {
		name       string
		status     int // of every response
		remaining  int
		resetAfter time.Duration // of a 429
		want       []RateLimitWait
	}{
		{name: "429 with a long wait", status: http.StatusTooManyRequests, resetAfter: 42 * time.Second,
			want: []RateLimitWait{{Wait: 42 * time.Second, Remaining: 0, Limit: 3600}}},
		{name: "429 with a short wait", status: http.StatusTooManyRequests, resetAfter: 2 * time.Second},
		{name: "429 with a wait of exactly the threshold", status: http.StatusTooManyRequests, resetAfter: 3 * time.Second},
		// Request two books the spacing of 10 s; three and four wait it
		// out, one after the other, and each says so.
		{name: "paced", status: http.StatusOK, remaining: 36, want: []RateLimitWait{
			{Wait: 10 * time.Second, Remaining: 36, Limit: 3600},
			{Wait: 10 * time.Second, Remaining: 36, Limit: 3600},
		}},
		{name: "paced briefly", status: http.StatusOK, remaining: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			h := &rateLimitHandler{now: clock.Now, reply: func(n int) (int, int, int, time.Time) {
				if tt.status == http.StatusTooManyRequests && n > 0 {
					return http.StatusOK, 3600, 3000, clock.Now().Add(time.Hour)
				}
				reset := clock.Now().Add(time.Duration(3600-tt.remaining) * time.Second)
				if tt.status == http.StatusTooManyRequests {
					reset = clock.Now().Add(tt.resetAfter)
				}
				return tt.status, 3600, tt.remaining, reset
			}}
			var rec waitRecorder
			c := newTestClient(t, newTestServer(t, h), Options{Clock: clock, OnRateLimitWait: rec.record})
			for range 4 {
				if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
					t.Fatal(err)
				}
			}
			if got := rec.got(); !slices.Equal(got, tt.want) {
				t.Fatalf("announced %+v, want %+v (slept %v)", got, tt.want, clock.slept())
			}
		})
	}
}

func TestBudgetAnnouncesAWaitOnceForEveryoneQueuedBehindIt(t *testing.T) {
	clock := newFakeClock()
	var rec waitRecorder
	b := newBudget(clock, 0, time.Minute, rec.record)
	tooMany := func() {
		h := http.Header{}
		h.Set("Date", clock.Now().UTC().Format(http.TimeFormat))
		h.Set("RateLimit-Limit", "3600")
		h.Set("RateLimit-Remaining", "3")
		h.Set("RateLimit-Reset", strconv.FormatInt(clock.Now().Add(42*time.Second).Unix(), 10))
		b.observe(h, clock.Now())
	}
	tooMany()
	wait := b.backOffAfter429(clock.Now())
	// Another request arriving meanwhile waits as long, and is covered
	// by the line already printed.
	if got := b.reserveSlot(); got < 40*time.Second {
		t.Fatalf("queued request waits %v, want about 42s", got)
	}
	b.release()
	_ = clock.Sleep(context.Background(), wait)
	// The next 429 is a new wait, and announced again.
	tooMany()
	b.backOffAfter429(clock.Now())

	got := rec.got()
	want := RateLimitWait{Wait: 42 * time.Second, Remaining: 3, Limit: 3600}
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Fatalf("announced %+v, want %+v twice", got, want)
	}
	if line := got[0].String(); line != "Hetzner rate limit: waiting 42s, 3 requests left of 3600/h" {
		t.Fatalf("progress line %q", line)
	}
}
