package clock

import "time"

// Reading is one consistent look at a clock: what another process on the same
// host needs to run a replica of it (see Replica) without asking again for
// every Now. The simulator serves it at GET /_sim/clock.
type Reading struct {
	// Now is the simulated time at the moment of the reading.
	Now time.Time `json:"now"`
	// RealNow is the wall clock of the simulator's host at that moment.
	RealNow time.Time `json:"real_now"`
	// Speed is simulated seconds per real second; zero while paused and for a
	// clock that only moves by hand.
	Speed float64 `json:"speed"`
	// Paused says the time does not move on its own (a paused Scaled or a
	// Manual clock).
	Paused bool `json:"paused"`
}

// Read takes a reading of c.
func Read(c Clock) Reading {
	if s, ok := c.(*Scaled); ok {
		return s.reading()
	}
	speed := c.Speed()
	return Reading{Now: c.Now(), RealNow: time.Now(), Speed: speed, Paused: speed <= 0}
}

func (c *Scaled) reading() Reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Reading{Now: c.nowLocked(), RealNow: c.realNow(), Speed: c.speed, Paused: c.paused}
	if c.paused {
		r.Speed = 0
	}
	return r
}

// Replica returns a clock that runs like the clock r was taken from, on this
// host's wall clock: simulated time r.Now at real time r.RealNow, moving at
// r.Speed from there (or standing still when r.Paused). It does not notice a
// later pause, resume or jump of the original; a short-lived process such as
// the CLI under the demo does not need to.
func (r Reading) Replica() *Scaled {
	return r.replica(time.Now)
}

func (r Reading) replica(realNow func() time.Time) *Scaled {
	s := &Scaled{base: r.Now, anchor: r.RealNow, speed: r.Speed, paused: r.Paused, realNow: realNow}
	if s.paused || s.speed <= 0 {
		// Frozen at r.Now; the speed only matters after a Resume.
		s.base, s.anchor, s.paused = r.Now, realNow(), true
		if s.speed <= 0 {
			s.speed = 1
		}
	}
	return s
}
