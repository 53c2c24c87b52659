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

// Follow returns a Clock that tells the time of src and waits until src has
// advanced by the requested duration, checking src every poll of real time
// (5 ms when poll <= 0). With a source that runs faster than real time, a
// ten-minute wait in the code under test passes in a fraction of a second;
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
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if !f.src.Now().Before(deadline) {
			return nil
		}
	}
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
