// Package simtest starts a Hetzner Cloud simulator for a test and wires an
// hcloud-go client to it through a loopback-only transport.
package simtest

import (
	"context"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/loopback"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// DefaultSpeed is the clock acceleration of New: a 20 s server boot takes
// 20 ms of real time.
const DefaultSpeed = 1000

// Env is a running simulator plus a client configured for it.
type Env struct {
	Sim      *hcloudsim.Server
	Client   *hcloud.Client
	Endpoint string
	Token    string
	// Clock is the simulator's clock when New created it (opts.Clock was
	// nil): tests Pause it to observe intermediate states deterministically.
	Clock *clock.Scaled
}

// New starts a simulator on 127.0.0.1 with a fast clock (unless opts sets
// Speed or Clock), seed 1 (unless set), and registers its shutdown with
// t.Cleanup. The returned client polls actions every 2 ms of real time and
// retries like production code (5 retries) with a 1 ms backoff.
func New(t testing.TB, opts hcloudsim.Options) *Env {
	t.Helper()
	var clk *clock.Scaled
	if opts.Clock == nil {
		if opts.Speed == 0 {
			opts.Speed = DefaultSpeed
		}
		if opts.Epoch.IsZero() {
			opts.Epoch = time.Now().UTC().Truncate(time.Second)
		}
		clk = clock.NewScaled(opts.Epoch, opts.Speed)
		opts.Clock = clk
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if !opts.PublicIPv4Start.IsValid() {
		opts.PublicIPv4Start = AddressRange(t)
	}
	sim := hcloudsim.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	if err := sim.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := sim.Close(); err != nil {
			t.Errorf("close simulator: %v", err)
		}
	})
	env := &Env{Sim: sim, Endpoint: sim.Endpoint(), Token: sim.Token(), Clock: clk}
	env.Client = env.NewClient(t)
	return env
}

// NewClient builds another hcloud-go client for the simulator, e.g. with a
// different token or extra options.
func (e *Env) NewClient(t testing.TB, extra ...hcloud.ClientOption) *hcloud.Client {
	opts := append([]hcloud.ClientOption{
		hcloud.WithEndpoint(e.Endpoint),
		hcloud.WithToken(e.Token),
		hcloud.WithHTTPClient(LoopbackHTTPClient(t)),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(2 * time.Millisecond)}),
		hcloud.WithRetryOpts(hcloud.RetryOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond), MaxRetries: 5}),
		hcloud.WithApplication("hcloudsim-test", "0"),
	}, extra...)
	return hcloud.NewClient(opts...)
}

// Eventually polls cond until it holds or simTimeout of simulated time has
// passed; it sleeps only briefly between polls, so the deadline is measured
// on the simulator's clock, not on the wall clock.
func (e *Env) Eventually(t testing.TB, simTimeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := e.Sim.Now().Add(simTimeout)
	realLimit := time.Now().Add(30 * time.Second) // guards against a stopped clock
	for !cond() {
		if e.Sim.Now().After(deadline) || time.Now().After(realLimit) {
			t.Fatalf("condition not met within %v of simulated time", simTimeout)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

var (
	simCount atomic.Uint32
	claim    struct {
		once sync.Once
		r    *loopback.Range
		err  error
	}
)

// AddressRange is a start for hcloudsim.Options.PublicIPv4Start that no other
// simulator on the machine uses; New takes one when opts has none.
func AddressRange(t testing.TB) netip.Addr {
	t.Helper()
	start, err := nextAddressRange()
	if err != nil {
		t.Fatal(err)
	}
	return start
}

// nextAddressRange gives every simulator of this test process its own /24 of
// loopback addresses in a /16 this process holds (internal/hcloudsim/loopback),
// so that the fake nodes of test processes running at once (go test runs
// packages in parallel) never fight over an address. The range is held until
// the process exits.
func nextAddressRange() (netip.Addr, error) {
	claim.once.Do(func() {
		claim.r, claim.err = loopback.Claim(loopback.First + os.Getpid()%(loopback.Last-loopback.First+1))
	})
	if claim.err != nil {
		return netip.Addr{}, claim.err
	}
	return claim.r.Start(int(simCount.Add(1))), nil
}
