package clock

import (
	"context"
	"sync"
	"time"
)

// Source reports a time that moves on its own or by hand, such as the Hetzner
// simulator's scaled clock; it cannot notify anyone when time passes.
type Source interface {
	Now() time.Time
}

// Rated is a Source that also reports how many of its seconds pass per real
// second (zero while it does not move on its own). Follow uses the rate to
// sleep through most of a wait in one real timer instead of polling.
type Rated interface {
	Source
	Speed() float64
}

// Follow returns a Clock that tells the time of src and waits until src has
// advanced by the requested duration, checking src every poll of real time
// (5 ms when poll <= 0). A Rated source with a positive speed is checked when
// the wait should be over by its rate, and at least every maxRatedCheck so that
// a pause or a jump is noticed. With a source that runs faster than real time,
// a ten-minute wait in the code under test passes in a fraction of a second;
// with a paused or manual source, waits last until someone advances it.
func Follow(src Source, poll time.Duration) Clock {
	if poll <= 0 {
		poll = 5 * time.Millisecond
	}
	return &follower{src: src, poll: poll}
}

type follower struct {
	src  Source
	poll time.Duration
}

func (f *follower) Now() time.Time { return f.src.Now() }

func (f *follower) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	return f.sleepUntil(ctx, f.src.Now().Add(d))
}

// sleepUntil waits until src reaches deadline. After and NewTicker take their
// deadline when they are called, not when their goroutine first runs: the
// source may move in between, and a deadline taken late would never come for
// a source that is advanced by hand.
func (f *follower) sleepUntil(ctx context.Context, deadline time.Time) error {
	if !f.src.Now().Before(deadline) {
		return nil
	}
	for {
		t := time.NewTimer(f.realWait(deadline))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if !f.src.Now().Before(deadline) {
			return nil
		}
	}
}

// maxRatedCheck bounds one real wait on a Rated source, so that a source
// paused or advanced during the wait is noticed soon.
const maxRatedCheck = 50 * time.Millisecond

// realWait is how long to wait in real time before looking at src again.
func (f *follower) realWait(deadline time.Time) time.Duration {
	r, ok := f.src.(Rated)
	if !ok {
		return f.poll
	}
	speed := r.Speed()
	if speed <= 0 {
		return f.poll
	}
	d := time.Duration(float64(deadline.Sub(f.src.Now())) / speed)
	return min(max(d, 100*time.Microsecond), maxRatedCheck)
}

func (f *follower) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	deadline := f.src.Now().Add(d)
	go func() {
		_ = f.sleepUntil(context.Background(), deadline)
		ch <- f.src.Now()
	}()
	return ch
}

func (f *follower) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &followTicker{ch: make(chan time.Time, 1), cancel: cancel}
	next := f.src.Now().Add(d)
	go func() {
		for {
			if f.sleepUntil(ctx, next) != nil {
				return
			}
			now := f.src.Now()
			select {
			case t.ch <- now:
			default: // receiver is slow: drop the tick, as time.Ticker does
			}
			// Keep the ticks on the interval grid, but skip the ones a jump
			// of the source has already passed instead of firing them in a burst.
			next = next.Add(d)
			if !now.Before(next) {
				next = now.Add(d)
			}
		}
	}()
	return t
}

type followTicker struct {
	ch     chan time.Time
	once   sync.Once
	cancel context.CancelFunc
}

func (t *followTicker) C() <-chan time.Time { return t.ch }
func (t *followTicker) Stop()               { t.once.Do(t.cancel) }
