package hcloudsim

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
)

// Server is a stateful Hetzner Cloud API simulator. It implements
// http.Handler; Start additionally serves it on a loopback listener.
//
// All state lives behind one mutex: requests are serialised, which keeps the
// model simple and race-free and is far faster than the real API anyway.
type Server struct {
	token   string
	clock   clock.Clock
	epoch   time.Time
	latency LatencyModel
	opts    Options

	api *http.ServeMux // /v1 routes, patterns double as stats keys
	sim *http.ServeMux // /_sim routes

	mu    sync.Mutex
	rng   *rand.Rand
	st    *state
	stats map[string]int64
	total int64
	// clients counts the requests by program (clientOf).
	clients map[string]int64
	corr    uint64

	faults Faults
	bucket tokenBucket

	// probePoke wakes the health prober (health.go) after a change.
	probePoke chan struct{}

	// listener state of Start/Close.
	lnMu      sync.Mutex
	http      *http.Server
	url       string
	doneCh    chan struct{}
	probeStop func() // ends the health prober and waits for it
}

// MaxPerPage is the largest page size the API accepts.
const MaxPerPage = 50

// DefaultPerPage is the API's page size when per_page is absent.
const DefaultPerPage = 25

// New builds a simulator with seeded catalogue data and no user resources.
func New(opts Options) *Server {
	s := &Server{opts: opts, latency: opts.Latency.withDefaults()}
	s.token = opts.Token
	if s.token == "" {
		s.token = randomToken()
	}
	s.epoch = opts.Epoch
	if s.epoch.IsZero() {
		s.epoch = time.Now().UTC().Truncate(time.Second)
	}
	s.clock = opts.Clock
	if s.clock == nil {
		s.clock = clock.NewScaled(s.epoch, opts.Speed)
	} else if opts.Epoch.IsZero() {
		s.epoch = s.clock.Now()
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.faults = cloneFaults(opts.Faults)
	s.bucket = newTokenBucket(opts.RateLimit, s.clock.Now())
	s.stats = map[string]int64{}
	s.clients = map[string]int64{}
	s.probePoke = make(chan struct{}, 1)
	s.st = newState(opts.publicV4Start())
	s.api = http.NewServeMux()
	s.sim = http.NewServeMux()
	s.routes()
	s.simRoutes()
	return s
}

// Token returns the bearer token clients must present.
func (s *Server) Token() string { return s.token }

// Clock returns the simulator's time source.
func (s *Server) Clock() clock.Clock { return s.clock }

// Now returns the current simulated time.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Elapsed returns how much simulated time has passed since the simulator started.
func (s *Server) Elapsed() time.Duration { return s.clock.Now().Sub(s.epoch) }

// Start serves the simulator on Options.Listen (127.0.0.1 with a random
// port by default) until ctx is cancelled or Close is called. It returns
// once the listener accepts connections.
func (s *Server) Start(ctx context.Context) error {
	addr := s.opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: the simulator only listens on loopback", addr)
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.http != nil {
		return errors.New("simulator already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.doneCh = make(chan struct{})
	s.startProber()
	srv, done := s.http, s.doneCh
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-done:
		}
	}()
	return nil
}

// URL is the base URL of a started simulator (without /v1).
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.url
}

// Endpoint is the value for HCLOUD_ENDPOINT / hcloud.WithEndpoint.
func (s *Server) Endpoint() string { return s.URL() + "/v1" }

// Close stops a started simulator and waits for its listener to finish.
func (s *Server) Close() error {
	s.lnMu.Lock()
	srv, done, stopProber := s.http, s.doneCh, s.probeStop
	s.probeStop = nil
	s.lnMu.Unlock()
	if srv == nil {
		return nil
	}
	if stopProber != nil {
		stopProber()
	}
	// A client may hold a connection it dialled but never used; net/http only
	// treats such connections as idle after 5 s, so a graceful shutdown waits
	// briefly for requests in flight and then closes whatever is left.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	<-done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down simulator: %w", err)
	}
	return nil
}

// logf writes a request log line when Options.Log is set.
func (s *Server) logf(format string, args ...any) {
	if s.opts.Log != nil {
		_, _ = fmt.Fprintf(s.opts.Log, format+"\n", args...)
	}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := io.ReadFull(crand.Reader, b); err != nil {
		panic(fmt.Sprintf("hcloudsim: read random token: %v", err))
	}
	return hex.EncodeToString(b)
}
