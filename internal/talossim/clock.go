package talossim

import (
	"sync"
	"time"
)

// Clock is the time source of a fake node. Reboots, installs and upgrades take
// simulated time: the node waits on After before it answers again.
// Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current simulated time.
	Now() time.Time
	// After returns a channel that receives the simulated time once d of
	// simulated time has passed (immediately when d <= 0).
	After(d time.Duration) <-chan time.Time
}

// RealClock returns a Clock backed by the wall clock.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TimeSource is anything that reports simulated time, e.g. the Hetzner
// simulator's clock.Scaled or clock.Manual.
type TimeSource interface {
	Now() time.Time
}

// PollingClock adapts a TimeSource that cannot notify (it only reports Now) into
// a Clock: After polls the source every Interval of real time. Use it to share
// the Hetzner simulator's clock with the fake nodes.
type PollingClock struct {
	Source   TimeSource
	Interval time.Duration // real polling interval; 5ms when zero
}

// Now returns the source's time.
func (c PollingClock) Now() time.Time { return c.Source.Now() }

// After fires once the source's time has moved d past the time of the call.
func (c PollingClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	deadline := c.Source.Now().Add(d)
	if d <= 0 {
		ch <- c.Source.Now()
		return ch
	}
	interval := c.Interval
	if interval <= 0 {
		interval = 5 * time.Millisecond
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for range t.C {
			if now := c.Source.Now(); !now.Before(deadline) {
				ch <- now
				return
			}
		}
	}()
	return ch
}

// ManualClock only moves when Advance is called. Timers created with After
// fire when Advance moves time past their deadline. Tests use it to hold a
// node in a transitional state (rebooting, installing) for as long as they
// need and then release it.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	deadline time.Time
	ch       chan time.Time
}

// NewManualClock returns a manual clock set to start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the current simulated time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that fires when the clock is advanced past now+d.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualWaiter{deadline: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock forward by d and fires due timers.
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !c.now.Before(w.deadline) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// Waiters reports how many timers are pending; tests use it to know that a
// node has started waiting before they advance the clock.
func (c *ManualClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}
