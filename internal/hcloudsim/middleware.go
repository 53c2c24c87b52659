package hcloudsim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds request bodies; far above the 32 KiB user_data limit.
const maxBodyBytes = 4 << 20

// ServeHTTP routes /v1 API calls through accounting, authentication, the
// rate limit and fault injection, and /_sim calls to the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.sim.ServeHTTP(w, r)
		return
	}
	_, pattern := s.api.Handler(r)
	key := pattern
	if key == "" {
		key = r.Method + " (unmatched)"
	}
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.serveAPI(rec, r, pattern, key)
	s.logf("%s %s -> %d (%s) [%s]", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond), key)
}

// serveAPI applies the cross-cutting behaviour of the real API in the order
// the real service appears to: authentication, rate limit, then the endpoint.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, pattern, key string) {
	pre := s.preflight(r, key)
	h := w.Header()
	h.Set("X-Correlation-Id", pre.correlation)
	h.Set("RateLimit-Limit", strconv.Itoa(pre.limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(pre.remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(pre.reset.Unix(), 10))
	// Date is on the simulated clock, like RateLimit-Reset (net/http would
	// stamp the wall clock): clients measure the reset against it.
	h.Set("Date", pre.now.UTC().Format(http.TimeFormat))
	if pre.delay > 0 {
		select {
		case <-time.After(pre.delay):
		case <-r.Context().Done():
			return
		}
	}
	if pre.err != nil {
		writeError(w, pre.err)
		return
	}
	if pattern == "" {
		writeError(w, errf(http.StatusNotFound, "not_found", "no route for %s %s", r.Method, r.URL.Path))
		return
	}
	s.api.ServeHTTP(w, r)
}

// preflightResult is what the locked part of request admission decided.
type preflightResult struct {
	now         time.Time // simulated time of admission
	correlation string
	limit       int
	remaining   int
	reset       time.Time
	delay       time.Duration
	err         error
}

func (s *Server) preflight(r *http.Request, key string) preflightResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats[key]++
	s.total++
	s.clients[clientOf(r.UserAgent())]++
	s.corr++
	now := s.clock.Now()
	res := preflightResult{now: now, correlation: fmt.Sprintf("%016x", s.corr)}
	f := &s.faults
	faulted := f.routeFaulted(key)
	if faulted && f.SlowRate > 0 && s.rng.Float64() < f.SlowRate {
		res.delay = time.Duration(f.SlowLatency)
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || got != s.token {
		res.limit, res.remaining, res.reset = s.bucket.peek(now)
		res.err = errf(http.StatusUnauthorized, "unauthorized", "unable to authenticate")
		return res
	}
	allowed := s.bucket.take(now)
	res.limit, res.remaining, res.reset = s.bucket.peek(now)
	switch {
	case !allowed:
		res.err = errf(http.StatusTooManyRequests, "rate_limit_exceeded", "limit of %d requests per hour reached", res.limit)
	case !faulted:
	case f.ServiceErrorRate > 0 && s.rng.Float64() < f.ServiceErrorRate:
		res.err = errf(http.StatusServiceUnavailable, "service_error", "simulated service error")
	case f.RateLimitRate > 0 && s.rng.Float64() < f.RateLimitRate:
		res.err = errf(http.StatusTooManyRequests, "rate_limit_exceeded", "simulated rate limit")
	case r.Method != http.MethodGet && f.LockedRate > 0 && s.rng.Float64() < f.LockedRate:
		res.err = errf(http.StatusLocked, "locked", "simulated lock: resource is locked")
	}
	return res
}

// endpoint adapts a handler to net/http: it reads the body outside the lock,
// runs the handler with the state settled to "now", and encodes the reply.
func (s *Server) endpoint(fn func(ctx context.Context, c *call) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			writeError(w, errf(http.StatusBadRequest, "json_error", "read request body: %v", err))
			return
		}
		c := &call{r: r, body: body}
		status, out := s.run(r.Context(), c, fn)
		writeJSON(w, status, out)
	}
}

func (s *Server) run(ctx context.Context, c *call, fn func(ctx context.Context, c *call) (int, any, error)) (int, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.r.Method != http.MethodGet {
		defer s.pokeProber() // a service or target may have changed
	}
	s.settle()
	status, v, err := fn(ctx, c)
	if err != nil {
		return encodeError(err)
	}
	b, err := marshalBody(v)
	if err != nil {
		return encodeError(err)
	}
	return status, b
}

func writeError(w http.ResponseWriter, err error) {
	status, body := encodeError(err)
	writeJSON(w, status, body)
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// clientOf names the program behind a User-Agent by its first product
// ("hcloud-k8s/dev hcloud-go/2.52.0" is hcloud-k8s), so that the requests of
// hcloud-k8s can be told from those of the cloud controller manager and the
// world's stand-ins.
func clientOf(ua string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	name, _, _ := strings.Cut(first, "/")
	if name == "" {
		return "unknown"
	}
	return name
}
