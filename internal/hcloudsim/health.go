package hcloudsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// Load balancer health checks.
//
// A prober goroutine (started by Start) runs every service's health check
// against every target on the simulator's clock: a check is due every
// interval of simulated time, and its result is what a TCP connect or an
// HTTP request to the target answers. A target's status per listen port is
// unknown until `retries` results in a row agree, then healthy or
// unhealthy; it changes again only after `retries` results in a row say
// otherwise.
//
// Only loopback is ever dialed. A server target is probed on its public
// IPv4, which lives in 127.0.0.0/8 – also when the target uses its private
// IP, because the private 10.x address exists only as data. IP targets are
// probed only when they are loopback addresses; others, and servers without
// a public IPv4, stay unknown. A server that is not running fails its checks
// without a dial.
//
// The load stays small: a round of checks runs at most every probeRoundGap
// of real time. When simulated time runs faster than that, one probe stands
// for all the checks that fell due since the previous one.

const (
	probeRoundGap     = 50 * time.Millisecond // real time between two rounds, at least
	probeMinTimeout   = 250 * time.Millisecond
	probeParallel     = 8       // probes of one round in flight at once
	probeResponsePeek = 1 << 16 // bytes of an HTTP answer searched for health_check.http.response
)

// healthKey is one health status: a service's check of one target server
// (the target itself, or a server its label selector matches) or of an IP
// target (serverID 0).
type healthKey struct {
	svc      *lbService
	tgt      *lbTarget
	serverID int64
}

// healthState is the status of a healthKey and the run of equal results
// that leads to the next change.
type healthState struct {
	status  string // unknown, healthy, unhealthy
	lastOK  bool
	streak  int
	nextAt  time.Time // simulated time the next check is due
	probing bool      // a probe is in flight outside Server.mu
}

// probeJob is one check to run outside Server.mu.
type probeJob struct {
	key     healthKey
	ticks   int    // checks this probe answers for
	addr    string // loopback host:port; "" fails without a dial
	check   schema.LoadBalancerServiceHealthCheck
	timeout time.Duration // real time
}

type probeResult struct {
	job probeJob
	ok  bool
}

// pokeProber makes the prober look at the configuration again soon (a
// service or target may have appeared). It never blocks.
func (s *Server) pokeProber() {
	select {
	case s.probePoke <- struct{}{}:
	default:
	}
}

// startProber runs health checks until stop is called. lnMu held.
func (s *Server) startProber() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.probeStop = func() {
		cancel()
		<-done
	}
	go func() {
		defer close(done)
		s.runProber(ctx)
	}()
}

func (s *Server) runProber(ctx context.Context) {
	for {
		jobs, next := s.dueProbes()
		if len(jobs) > 0 {
			results := s.runProbes(ctx, jobs)
			if ctx.Err() != nil { // cut short by Close: not the targets' fault
				return
			}
			s.recordProbes(results)
		}
		if !s.waitForProbes(ctx, next) {
			return
		}
	}
}

// waitForProbes sleeps probeRoundGap of real time, then until next (in
// simulated time; forever when zero) or a poke. It reports false once ctx
// is done.
func (s *Server) waitForProbes(ctx context.Context, next time.Time) bool {
	gap := time.NewTimer(probeRoundGap)
	defer gap.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-gap.C:
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var due chan struct{}
	if !next.IsZero() {
		due = make(chan struct{})
		go func() {
			_ = s.clock.Sleep(wctx, next.Sub(s.clock.Now()))
			close(due)
		}()
	}
	select {
	case <-ctx.Done():
		return false
	case <-s.probePoke:
	case <-due:
	}
	return true
}

// dueProbes brings the health states in line with the load balancers'
// services and targets and hands out the checks that are due, with the
// simulated time the next one falls due (zero if none).
func (s *Server) dueProbes() ([]probeJob, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	now := s.clock.Now()
	targets := s.healthTargets()
	for k := range s.st.health {
		if _, ok := targets[k]; !ok {
			delete(s.st.health, k)
		}
	}
	var jobs []probeJob
	var next time.Time
	for k, addr := range targets {
		h := s.st.health[k]
		if h == nil {
			h = &healthState{status: "unknown", nextAt: now}
			s.st.health[k] = h
		}
		hc := k.svc.s.HealthCheck
		interval := time.Duration(hc.Interval) * time.Second
		if !h.probing && !h.nextAt.After(now) {
			ticks := 1 + int(now.Sub(h.nextAt)/interval)
			h.nextAt = h.nextAt.Add(time.Duration(ticks) * interval)
			h.probing = true
			jobs = append(jobs, probeJob{key: k, ticks: ticks, addr: addr, check: *hc, timeout: s.probeTimeout(hc.Timeout)})
		}
		if next.IsZero() || h.nextAt.Before(next) {
			next = h.nextAt
		}
	}
	return jobs, next
}

// healthTargets lists every health status the load balancers have, with
// the address its check dials ("" when the server is not running). Keys
// that cannot be probed are left out and render as unknown.
func (s *Server) healthTargets() map[healthKey]string {
	out := map[healthKey]string{}
	for _, lb := range s.st.loadBalancers {
		for _, svc := range lb.services {
			for _, t := range lb.targets {
				s.addHealthTargets(out, svc, t)
			}
		}
	}
	return out
}

func (s *Server) addHealthTargets(out map[healthKey]string, svc *lbService, t *lbTarget) {
	port := strconv.Itoa(svc.s.HealthCheck.Port)
	switch t.typ {
	case "server":
		if sv, ok := s.st.servers[t.serverID]; ok {
			addServerHealth(out, healthKey{svc, t, sv.ID}, sv, port)
		}
	case "label_selector":
		for _, sv := range s.st.servers {
			if t.sel.Matches(sv.Labels) {
				addServerHealth(out, healthKey{svc, t, sv.ID}, sv, port)
			}
		}
	case "ip":
		if ip, err := netip.ParseAddr(t.ip); err == nil && ip.IsLoopback() {
			out[healthKey{svc, t, 0}] = net.JoinHostPort(t.ip, port)
		}
	}
}

// addServerHealth adds a server's check: on its public loopback IPv4, even
// for use_private_ip targets, whose 10.x address is never dialed.
func addServerHealth(out map[healthKey]string, k healthKey, sv *server, port string) {
	switch {
	case sv.pip4 == nil:
	case sv.status != statusRunning:
		out[k] = ""
	default:
		out[k] = net.JoinHostPort(sv.publicV4(), port)
	}
}

// probeTimeout turns a check's timeout (simulated seconds) into real time:
// scaled with the clock, but long enough for a loopback answer.
func (s *Server) probeTimeout(seconds int) time.Duration {
	d := time.Duration(seconds) * time.Second
	if sp := s.clock.Speed(); sp > 1 {
		d = time.Duration(float64(d) / sp)
	}
	return max(d, probeMinTimeout)
}

// runProbes runs a round's probes, a few at a time, outside Server.mu: a
// probed service may itself call the simulator before it answers.
func (s *Server) runProbes(ctx context.Context, jobs []probeJob) []probeResult {
	out := make([]probeResult, len(jobs))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = probeResult{job: j, ok: j.addr != "" && probe(ctx, j) == nil}
		}()
	}
	wg.Wait()
	return out
}

// recordProbes applies a round's results: a status changes once `retries`
// results in a row (at least one) agree.
func (s *Server) recordProbes(results []probeResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range results {
		h := s.st.health[r.job.key]
		if h == nil { // the service or target went away meanwhile
			continue
		}
		h.probing = false
		if h.streak > 0 && h.lastOK == r.ok {
			h.streak += r.job.ticks
		} else {
			h.lastOK, h.streak = r.ok, r.job.ticks
		}
		if h.streak >= max(1, r.job.check.Retries) {
			h.status = "unhealthy"
			if h.lastOK {
				h.status = "healthy"
			}
		}
	}
}

// healthStatus renders the target's status per service for server sv (nil
// for IP targets).
func (s *Server) healthStatus(lb *loadBalancer, t *lbTarget, sv *server) []schema.LoadBalancerTargetHealthStatus {
	var id int64
	if sv != nil {
		id = sv.ID
	}
	out := []schema.LoadBalancerTargetHealthStatus{}
	for _, svc := range lb.services {
		status := "unknown"
		if h := s.st.health[healthKey{svc, t, id}]; h != nil {
			status = h.status
		}
		out = append(out, schema.LoadBalancerTargetHealthStatus{ListenPort: svc.s.ListenPort, Status: status})
	}
	return out
}

// probe runs one check: a TCP connect, or an HTTP(S) request whose status
// code and body must match the check.
func probe(ctx context.Context, j probeJob) error {
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	if j.check.Protocol == "tcp" {
		c, err := dialLoopback(ctx, "tcp", j.addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	return probeHTTP(ctx, j)
}

func probeHTTP(ctx context.Context, j probeJob) error {
	h := j.check.HTTP
	if h == nil {
		h = &schema.LoadBalancerServiceHealthCheckHTTP{Path: "/", StatusCodes: []string{"2??", "3??"}}
	}
	scheme := "http"
	if h.TLS || j.check.Protocol == "https" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+j.addr+h.Path, nil)
	if err != nil {
		return err
	}
	if h.Domain != "" {
		req.Host = h.Domain
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       dialLoopback,
			DisableKeepAlives: true,
			// Like Hetzner's checks: the target's certificate is not verified.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // health check of a test target
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, probeResponsePeek))
	if !statusMatches(h.StatusCodes, resp.StatusCode) {
		return fmt.Errorf("status %d not in %v", resp.StatusCode, h.StatusCodes)
	}
	if h.Response != "" && !strings.Contains(string(body), h.Response) {
		return errors.New("response does not contain the expected text")
	}
	return nil
}

// statusMatches matches a status code against patterns such as "200" or
// "2??"; no patterns means 2xx and 3xx, the API's default.
func statusMatches(patterns []string, code int) bool {
	if len(patterns) == 0 {
		patterns = []string{"2??", "3??"}
	}
	got := strconv.Itoa(code)
	for _, p := range patterns {
		if len(p) != len(got) {
			continue
		}
		match := true
		for i := range p {
			if p[i] != '?' && p[i] != got[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// dialLoopback dials only loopback IP literals: a health check must never
// leave the machine, whatever address a target names.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("health check refuses to dial %s: not a loopback address", addr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST: frequent probes leave no TIME_WAIT behind
	}
	return c, nil
}
