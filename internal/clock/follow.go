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
	deadline := f.src.Now().Add(d)
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		if !f.src.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (f *follower) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		_ = f.Sleep(context.Background(), d)
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
	go func() {
		for {
			if f.Sleep(ctx, d) != nil {
				return
			}
			select {
			case t.ch <- f.src.Now():
			default: // receiver is slow: drop the tick, as time.Ticker does
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
