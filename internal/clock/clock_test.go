package clock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// manualSource is a time source that moves only when the test says so.
type manualSource struct {
	mu  sync.Mutex
	now time.Time
}

func (m *manualSource) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualSource) advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

func TestFollowSleepWaitsForTheSource(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &manualSource{now: start}
	c := Follow(src, time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- c.Sleep(context.Background(), time.Hour) }()

	// Move the source a minute at a time until Sleep returns: however the
	// goroutine is scheduled, it must not return before an hour has passed on
	// the source since it started sleeping (and it started at or after start).
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Sleep: %v", err)
			}
			if elapsed := src.Now().Sub(start); elapsed < time.Hour {
				t.Fatalf("Sleep(1h) returned after %s of source time", elapsed)
			}
			return
		default:
		}
		src.advance(time.Minute)
		time.Sleep(time.Millisecond)
		if src.Now().Sub(start) > 48*time.Hour {
			t.Fatal("Sleep(1h) did not return after 48h of source time")
		}
	}
}

func TestFollowSleepStopsWithTheContext(t *testing.T) {
	src := &manualSource{now: time.Unix(0, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Follow(src, time.Millisecond).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestFollowAfterAndTicker(t *testing.T) {
	src := &manualSource{now: time.Unix(0, 0)}
	c := Follow(src, time.Millisecond)
	after := c.After(10 * time.Second)
	tick := c.NewTicker(5 * time.Second)
	defer tick.Stop()

	// The source moves before the goroutines behind After and the ticker may
	// have run: their deadlines must have been taken at the call.
	src.advance(10 * time.Second)
	select {
	case got := <-after:
		if want := time.Unix(10, 0); got.Before(want) {
			t.Fatalf("After delivered %v, want ≥ %v", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("After(10s) did not fire after 10s passed on the source")
	}
	select {
	case <-tick.C():
	case <-time.After(5 * time.Second):
		t.Fatal("ticker did not fire after its interval passed on the source")
	}
}

func TestRealSleepZeroReturnsAtOnce(t *testing.T) {
	if err := Real().Sleep(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if OrReal(nil) == nil {
		t.Fatal("OrReal(nil) returned nil")
	}
}

// ratedSource runs at a fixed speed against the wall clock.
type ratedSource struct {
	start time.Time
	speed float64
}

func (r ratedSource) Now() time.Time {
	return r.start.Add(time.Duration(float64(time.Since(r.start)) * r.speed))
}
func (r ratedSource) Speed() float64 { return r.speed }

func TestFollowRatedSourceSleepsBySpeed(t *testing.T) {
	src := ratedSource{start: time.Now(), speed: 1000}
	c := Follow(src, time.Hour) // polling would never return in time
	before := c.Now()
	if err := c.Sleep(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if elapsed := c.Now().Sub(before); elapsed < 10*time.Second {
		t.Fatalf("Sleep(10s) returned after %s on the source", elapsed)
	}
}
