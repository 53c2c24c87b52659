package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Interrupted is the cause main gives the context when a signal stops the
// command, so the error users see says what happened instead of "context
// canceled".
type Interrupted struct{ Signal os.Signal }

func (i Interrupted) Error() string { return "interrupted (" + signalName(i.Signal) + ")" }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case nil:
		return "signal"
	}
	return s.String()
}

// resumeAdvice says, per command, what an interruption left behind. apply
// and destroy are idempotent, so the advice for both is to run them again.
var resumeAdvice = map[string]string{
	"apply":   "nothing was rolled back; run apply again to continue",
	"destroy": "nothing was restored; run destroy again to delete the rest",
}

// explainInterrupt replaces the error of a command stopped by a signal with
// one line that names the signal and what to do next. Other errors pass
// through unchanged.
func explainInterrupt(ctx context.Context, command string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var in, seen Interrupted
	if !errors.As(context.Cause(ctx), &in) {
		return err
	}
	// Code that checks ctx.Err() returns context.Canceled; net/http returns
	// the cause itself, wrapped in the URL error.
	if !errors.Is(err, context.Canceled) && !errors.As(err, &seen) {
		return err
	}
	if advice, ok := resumeAdvice[command]; ok {
		return fmt.Errorf("%w: %s", in, advice)
	}
	return in
}
