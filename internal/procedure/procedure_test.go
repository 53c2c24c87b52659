package procedure

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// fakeClock moves only when a step advances it, so timings are exact. The
// runner only asks it for the time; the embedded nil Clock stands for the
// rest, which the runner must not use.
type fakeClock struct {
	clock.Clock
	now time.Time
}

func (f *fakeClock) Now() time.Time          { return f.now }
func (f *fakeClock) advance(d time.Duration) { f.now = f.now.Add(d) }

type state struct {
	ran []string
}

func step(name string, c *fakeClock, took time.Duration, err error) Step[state] {
	return Step[state]{Name: name, Run: func(ctx context.Context, s *state) error {
		s.ran = append(s.ran, name)
		c.advance(took)
		return err
	}}
}

func TestRunRunsStepsInOrderAndTimesEach(t *testing.T) {
	c := &fakeClock{now: time.Unix(0, 0)}
	var trace bytes.Buffer
	s := &state{}
	timings, err := Run(context.Background(), Runner{Clock: c, Trace: &trace}, []Step[state]{
		step("observe", c, 2*time.Second, nil),
		step("image", c, 0, nil),
		step("infrastructure", c, 90*time.Second, nil),
	}, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.ran, ","); got != "observe,image,infrastructure" {
		t.Errorf("ran %s", got)
	}
	want := []Timing{{"observe", 2 * time.Second}, {"image", 0}, {"infrastructure", 90 * time.Second}}
	if len(timings) != len(want) {
		t.Fatalf("timings = %v, want %v", timings, want)
	}
	for i := range want {
		if timings[i] != want[i] {
			t.Errorf("timing %d = %v, want %v", i, timings[i], want[i])
		}
	}
	wantTrace := "==> observe\n    observe done after 2s\n==> image\n    image done after 0s\n==> infrastructure\n    infrastructure done after 1m30s\n"
	if trace.String() != wantTrace {
		t.Errorf("trace =\n%s\nwant\n%s", trace.String(), wantTrace)
	}
}

func TestRunStopsAtTheFirstErrorWithTheStepName(t *testing.T) {
	c := &fakeClock{}
	boom := errors.New("no capacity for cpx31 in fsn1")
	s := &state{}
	timings, err := Run(context.Background(), Runner{Procedure: "apply", Clock: c}, []Step[state]{
		step("observe", c, time.Second, nil),
		step("infrastructure", c, 3*time.Second, boom),
		step("bootstrap", c, time.Second, nil),
	}, s)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Step != "infrastructure" || pe.Procedure != "apply" {
		t.Fatalf("err = %#v, want a *procedure.Error of step infrastructure", err)
	}
	if got, want := err.Error(), "apply stopped at infrastructure: no capacity for cpx31 in fsn1"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	if got := strings.Join(s.ran, ","); got != "observe,infrastructure" {
		t.Errorf("ran %s, want the steps after the failing one skipped", got)
	}
	if len(timings) != 2 || timings[1] != (Timing{"infrastructure", 3 * time.Second}) {
		t.Errorf("timings = %v, want the failing step timed too", timings)
	}
	// Without a procedure name the step alone prefixes the error.
	_, err = Run(context.Background(), Runner{Clock: c}, []Step[state]{step("bootstrap", c, 0, boom)}, &state{})
	if got, want := err.Error(), "bootstrap: no capacity for cpx31 in fsn1"; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
}

func TestRunStopsWhenTheContextIsDone(t *testing.T) {
	c := &fakeClock{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &state{}
	cancelling := Step[state]{Name: "observe", Run: func(ctx context.Context, s *state) error {
		s.ran = append(s.ran, "observe")
		cancel() // the user pressed Ctrl-C while this step finished its work
		return nil
	}}
	_, err := Run(ctx, Runner{Procedure: "apply", Clock: c}, []Step[state]{cancelling, step("image", c, 0, nil)}, s)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Step != "image" {
		t.Errorf("err = %v, want it to name the step that did not start", err)
	}
	if got := strings.Join(s.ran, ","); got != "observe" {
		t.Errorf("ran %s after cancellation", got)
	}
}

func TestRunWithoutAClockUsesTheWallClock(t *testing.T) {
	timings, err := Run(context.Background(), Runner{}, []Step[state]{{Name: "nothing", Run: func(context.Context, *state) error { return nil }}}, &state{})
	if err != nil || len(timings) != 1 || timings[0].Elapsed < 0 {
		t.Fatalf("timings %v, err %v", timings, err)
	}
}

type outer struct {
	inner *state
}

func TestLiftRunsStepsOnAPartCreatedByAnEarlierStep(t *testing.T) {
	c := &fakeClock{}
	inner := []Step[state]{step("configure nodes", c, 0, nil), step("bootstrap", c, 0, errors.New("etcd"))}
	steps := append([]Step[outer]{{Name: "prepare", Run: func(_ context.Context, o *outer) error {
		o.inner = &state{}
		return nil
	}}}, Lift(inner, func(o *outer) *state { return o.inner })...)
	o := &outer{}
	_, err := Run(context.Background(), Runner{Clock: c}, steps, o)
	if err == nil || err.Error() != "bootstrap: etcd" {
		t.Fatalf("err = %v, want the lifted step's name", err)
	}
	if got := strings.Join(o.inner.ran, ","); got != "configure nodes,bootstrap" {
		t.Errorf("lifted steps ran %s", got)
	}
}
