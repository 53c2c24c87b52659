// Package clock provides the simulated time source of the Hetzner Cloud
// simulator. Simulated time can run faster than real time so that a ten
// minute provisioning flow finishes in seconds, or be advanced by hand so that
// a test controls exactly when an action completes.
package clock

import (
	"context"
	"sync"
	"time"

	iclock "github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Clock reports simulated time and waits on it. It is an iclock.Clock, so the
// simulator's time can be handed to every client that waits (the hetzner
// client, image builds, fake nodes, kubelets) and they all see one time.
// Implementations must be safe for concurrent use.
type Clock interface {
	iclock.Clock
	// Speed reports how many simulated seconds pass per real second; zero
	// means time only moves when advanced by hand.
	Speed() float64
}

// Scaled is a clock whose simulated time runs Speed times faster than the
// real clock. Tests can Pause it to observe an intermediate state without a
// race against the wall clock, Resume it, or Advance it by hand.
type Scaled struct {
	mu      sync.Mutex
	base    time.Time // simulated time at anchor
	anchor  time.Time // real time when base was taken
	speed   float64
	paused  bool
	realNow func() time.Time
}

// NewScaled returns a clock that starts at epoch and runs speed times faster
// than real time. A speed <= 0 is treated as 1.
func NewScaled(epoch time.Time, speed float64) *Scaled {
	return newScaled(epoch, speed, time.Now)
}

func newScaled(epoch time.Time, speed float64, realNow func() time.Time) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{base: epoch, anchor: realNow(), speed: speed, realNow: realNow}
}

// Sleep waits until d of simulated time has passed or ctx is done.
func (c *Scaled) Sleep(ctx context.Context, d time.Duration) error {
	return iclock.Follow(c, 0).Sleep(ctx, d)
}

// After fires once d of simulated time has passed.
func (c *Scaled) After(d time.Duration) <-chan time.Time { return iclock.Follow(c, 0).After(d) }

// NewTicker ticks every d of simulated time.
func (c *Scaled) NewTicker(d time.Duration) iclock.Ticker { return iclock.Follow(c, 0).NewTicker(d) }

// Now returns the simulated time.
func (c *Scaled) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Scaled) nowLocked() time.Time {
	if c.paused {
		return c.base
	}
	elapsed := c.realNow().Sub(c.anchor)
	return c.base.Add(time.Duration(float64(elapsed) * c.speed))
}

// Speed returns the acceleration factor (0 while paused).
func (c *Scaled) Speed() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return 0
	}
	return c.speed
}

// Pause freezes simulated time until Resume.
func (c *Scaled) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.anchor, c.paused = c.nowLocked(), c.realNow(), true
}

// Resume lets simulated time run again from where it was paused.
func (c *Scaled) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.anchor, c.paused = c.nowLocked(), c.realNow(), false
}

// Advance jumps simulated time forward by d (ignored when d <= 0).
func (c *Scaled) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.anchor = c.nowLocked().Add(d), c.realNow()
}

// Manual is a clock that only moves when Advance or Set is called. Tests use
// it to observe intermediate states (locked resources, running actions, a node
// that is rebooting) without depending on scheduling. Its waits end exactly
// when Advance or Set moves time past their deadline.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*manualWaiter
}

type manualWaiter struct {
	deadline time.Time
	ch       chan time.Time // buffer of one; receives once
}

// NewManual returns a manual clock set to start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start}
}

// Now returns the current simulated time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Speed is zero: a manual clock does not move on its own.
func (c *Manual) Speed() float64 { return 0 }

// Advance moves the clock forward by d and ends the waits that are due
// (negative values are ignored so time never runs backwards).
func (c *Manual) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireLocked()
}

// Set moves the clock to t if t is later than the current time.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
		c.fireLocked()
	}
}

func (c *Manual) fireLocked() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !c.now.Before(w.deadline) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// After returns a channel that receives the time once the clock has been
// advanced d past now (at once when d <= 0).
func (c *Manual) After(d time.Duration) <-chan time.Time { return c.after(d).ch }

func (c *Manual) after(d time.Duration) *manualWaiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &manualWaiter{deadline: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
		return w
	}
	c.waiters = append(c.waiters, w)
	return w
}

// Sleep waits until the clock has been advanced d past now or ctx is done.
func (c *Manual) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	w := c.after(d)
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.drop(w) // a wait nobody waits for must not count in Waiters
		return ctx.Err()
	}
}

func (c *Manual) drop(w *manualWaiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

// NewTicker ticks each time the clock has been advanced another d.
func (c *Manual) NewTicker(d time.Duration) iclock.Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &manualTicker{ch: make(chan time.Time, 1), cancel: cancel}
	go func() {
		for c.Sleep(ctx, d) == nil {
			select {
			case t.ch <- c.Now():
			default: // receiver is slow: drop the tick, as time.Ticker does
			}
		}
	}()
	return t
}

type manualTicker struct {
	ch     chan time.Time
	once   sync.Once
	cancel context.CancelFunc
}

func (t *manualTicker) C() <-chan time.Time { return t.ch }
func (t *manualTicker) Stop()               { t.once.Do(t.cancel) }

// Waiters reports how many waits are pending; tests use it to know that the
// code under test has started waiting before they advance the clock.
func (c *Manual) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// RealDuration converts a simulated duration into the real duration it takes
// on c. It returns 0 for clocks that do not move on their own.
func RealDuration(c Clock, simulated time.Duration) time.Duration {
	s := c.Speed()
	if s <= 0 {
		return 0
	}
	return time.Duration(float64(simulated) / s)
}
