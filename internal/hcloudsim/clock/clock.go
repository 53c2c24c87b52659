// Package clock provides the simulated time source of the Hetzner Cloud
// simulator. Simulated time can run faster than real time so that a ten
// minute provisioning flow finishes in seconds, or be advanced by hand so that
// a test controls exactly when an action completes.
package clock

import (
	"sync"
	"time"
)

// Clock reports simulated time. Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current simulated time.
	Now() time.Time
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
// it to observe intermediate states (locked resources, running actions)
// without depending on scheduling.
type Manual struct {
	mu  sync.Mutex
	now time.Time
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

// Advance moves the clock forward by d (negative values are ignored so time
// never runs backwards).
func (c *Manual) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t if t is later than the current time.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
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
