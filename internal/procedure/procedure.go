// Package procedure runs the CLI's procedures (apply, destroy, and those to
// come) as lists of named steps. A step does one job on a state struct that
// the procedure defines: the fields it reads are what it needs, the fields it
// fills are what it leaves for the steps after it. Adding a stage to a
// procedure is adding a step to its list.
//
// The runner is deliberately small: it runs the steps in order, times each on
// the clock it is given, stops at the first error and names the step in it.
// Steps print their own progress lines (they know the counts and names worth
// telling); the runner's Trace adds one line per step for debugging.
package procedure

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Step is one named part of a procedure working on the state S.
type Step[S any] struct {
	// Name says what the step does in a few words ("observe", "bootstrap");
	// errors and timings carry it.
	Name string
	// Run does the step's work. It reads what earlier steps left in s and
	// fills in what later ones need.
	Run func(ctx context.Context, s *S) error
}

// Runner runs the steps of one procedure.
type Runner struct {
	// Procedure names what is run ("apply"); a step's error then reads
	// "apply stopped at <step>: …". Empty means "<step>: …".
	Procedure string
	// Clock times the steps; nil means the wall clock.
	Clock clock.Clock
	// Trace, when not nil, receives "==> <step>" as each step starts and a
	// line with its time as it ends.
	Trace io.Writer
}

// Timing is how long a step took.
type Timing struct {
	Step    string
	Elapsed time.Duration
}

// Error is the error of the step a procedure stopped at.
type Error struct {
	Procedure string
	Step      string
	Err       error
}

func (e *Error) Error() string {
	if e.Procedure == "" {
		return e.Step + ": " + e.Err.Error()
	}
	return e.Procedure + " stopped at " + e.Step + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs steps in order on s and returns the time each step that ran took.
// It stops at the first step that fails, and before a step when ctx is done,
// with an *Error naming that step.
func Run[S any](ctx context.Context, r Runner, steps []Step[S], s *S) ([]Timing, error) {
	c := clock.OrReal(r.Clock)
	var timings []Timing
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return timings, &Error{Procedure: r.Procedure, Step: st.Name, Err: err}
		}
		if r.Trace != nil {
			fmt.Fprintf(r.Trace, "==> %s\n", st.Name)
		}
		start := c.Now()
		err := st.Run(ctx, s)
		elapsed := clock.Since(c, start)
		timings = append(timings, Timing{Step: st.Name, Elapsed: elapsed})
		if r.Trace != nil {
			outcome := "done"
			if err != nil {
				outcome = "failed"
			}
			fmt.Fprintf(r.Trace, "    %s %s after %s\n", st.Name, outcome, elapsed.Round(time.Millisecond))
		}
		if err != nil {
			return timings, &Error{Procedure: r.Procedure, Step: st.Name, Err: err}
		}
	}
	return timings, nil
}

// Lift turns steps on a part T of a larger state S into steps on S, so that
// a procedure can include another package's steps in its own list. part
// returns the T inside s; it is called when each step runs, so an earlier
// step of S may be the one that creates it.
func Lift[S, T any](steps []Step[T], part func(s *S) *T) []Step[S] {
	out := make([]Step[S], len(steps))
	for i, st := range steps {
		out[i] = Step[S]{Name: st.Name, Run: func(ctx context.Context, s *S) error { return st.Run(ctx, part(s)) }}
	}
	return out
}
