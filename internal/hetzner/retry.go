package hetzner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxBackoffFactor caps Retry's delay at this many poll intervals (30 s
// against the real API), so a resource locked by a slow action is checked
// often enough.
const maxBackoffFactor = 30

// retryable reports whether an error of class c can pass by itself.
func retryable(c Class) bool {
	return c == ClassLocked || c == ClassTransient || c == ClassConflict
}

// Retry runs fn until it succeeds, returns an error that is not worth
// retrying, or MaxRetries retries have failed. Only ClassLocked,
// ClassTransient and ClassConflict are retried, with exponential backoff
// starting at PollInterval. op names the operation for the error message
// ("create server demo-control-1"); API errors such as uniqueness_error do
// not say which resource they are about, so op has to.
//
// fn must be safe to repeat: a create whose response was lost to a timeout
// may have succeeded, so create steps should treat a later
// ClassUniqueness as "adopt if ours", not as failure.
func (c *Client) Retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = fn(ctx)
		class := Classify(err)
		if class == ClassNone {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if !retryable(class) || attempt >= c.opts.MaxRetries {
			return explain(op, class, attempt+1, err)
		}
		if serr := c.clock.Sleep(ctx, backoff(c.opts.PollInterval, attempt)); serr != nil {
			return fmt.Errorf("%s: %w (last error: %w)", op, serr, err)
		}
	}
}

// backoff returns the delay before retry number attempt+1: base·2^attempt,
// capped, with "equal jitter" (between half and all of it) so that many
// steps retrying the same locked resource do not come back in lockstep.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 10)
	d = min(d, base*maxBackoffFactor)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
