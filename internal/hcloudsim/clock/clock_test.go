package clock

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

func TestScaled(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		speed float64
		real  time.Duration
		want  time.Duration
	}{
		{"real time", 1, time.Second, time.Second},
		{"hundred times", 100, time.Second, 100 * time.Second},
		{"non-positive speed means real time", 0, 2 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			realNow := epoch
			c := newScaled(epoch, tt.speed, func() time.Time { return realNow })
			realNow = realNow.Add(tt.real)
			if got := c.Now().Sub(epoch); got != tt.want {
				t.Fatalf("elapsed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestManual(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManual(start)
	c.Advance(time.Minute)
	c.Advance(-time.Hour)
	c.Set(start) // earlier: ignored
	if got := c.Now().Sub(start); got != time.Minute {
		t.Fatalf("elapsed = %v, want 1m", got)
	}
	if RealDuration(c, time.Hour) != 0 {
		t.Fatal("manual clock should need no real time")
	}
}

func TestScaledPauseResumeAdvance(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	realNow := epoch
	c := newScaled(epoch, 10, func() time.Time { return realNow })
	steps := []struct {
		name string
		do   func()
		want time.Duration
	}{
		{"runs", func() { realNow = realNow.Add(time.Second) }, 10 * time.Second},
		{"pause freezes", func() { c.Pause(); realNow = realNow.Add(time.Second) }, 10 * time.Second},
		{"advance while paused", func() { c.Advance(5 * time.Second) }, 15 * time.Second},
		{"resume continues", func() { c.Resume(); realNow = realNow.Add(time.Second) }, 25 * time.Second},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do()
			if got := c.Now().Sub(epoch); got != st.want {
				t.Fatalf("elapsed %v, want %v", got, st.want)
			}
		})
	}
}

func TestReadingReplicaRunsLikeTheOriginal(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	realNow := epoch
	orig := newScaled(epoch, 100, func() time.Time { return realNow })
	realNow = realNow.Add(time.Second)
	r := Read(orig)
	if !r.RealNow.Equal(realNow) || r.Speed != 100 || r.Paused {
		t.Fatalf("reading = %+v", r)
	}
	realNow = realNow.Add(2 * time.Second) // the reading travels to another process
	replica := r.replica(func() time.Time { return realNow })
	if got, want := replica.Now(), orig.Now(); !got.Equal(want) {
		t.Fatalf("replica says %v, original %v", got, want)
	}

	orig.Pause()
	r = Read(orig)
	if !r.Paused || r.Speed != 0 {
		t.Fatalf("paused reading = %+v", r)
	}
	frozen := r.replica(func() time.Time { return realNow })
	realNow = realNow.Add(time.Hour)
	if got := frozen.Now(); !got.Equal(r.Now) {
		t.Fatalf("replica of a paused clock moved to %v, want %v", got, r.Now)
	}
}

func TestManualWaitsEndWhenAdvanced(t *testing.T) {
	c := NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	after := c.After(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	slept := make(chan error, 1)
	go func() { slept <- c.Sleep(ctx, time.Hour) }()
	testwait.Eventually(t, 5*time.Second, "two pending waits", func() error {
		if n := c.Waiters(); n < 2 {
			return fmt.Errorf("%d pending", n)
		}
		return nil
	})
	c.Advance(time.Minute)
	<-after
	cancel()
	if err := <-slept; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(1h) after 1m and cancel = %v, want context.Canceled", err)
	}
	if n := c.Waiters(); n != 0 {
		t.Fatalf("%d waits still pending", n)
	}
}
