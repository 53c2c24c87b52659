// Package clock is the one time source of the project. Everything that waits
// (Hetzner actions and rate limits, image builds, Talos and Kubernetes waits,
// the simulators' timed work) takes a Clock instead of calling time.Now or
// time.Sleep, so that production code runs on the wall clock while tests and
// the demo run the very same code on the simulator's scaled clock.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits. Implementations are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep blocks until d has passed on this clock or ctx is done, and then
	// returns ctx's error. A d <= 0 returns at once.
	Sleep(ctx context.Context, d time.Duration) error
	// After returns a channel that receives the clock's time once d has passed
	// (immediately when d <= 0). The channel has a buffer of one.
	After(d time.Duration) <-chan time.Time
	// NewTicker returns a ticker that fires every d (d must be > 0).
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks until stopped. Like time.Ticker it drops ticks for a
// slow receiver rather than queueing them.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Since returns the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// OrReal returns c, or the wall clock when c is nil; constructors use it so a
// zero-value dependency means production behaviour.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }
