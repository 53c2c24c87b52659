package hetzner

import (
	"errors"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// Error is a failed Hetzner operation explained for the person running the
// command: which operation on which resource, what happened in words, the
// API's own code and message, and what to do. It is built once, here, where
// the API error is understood; callers add only what they alone know (which
// step of a procedure was running) and decide from Rerun whether to suggest
// running the command again.
type Error struct {
	// Op names the operation and resource: "create server demo-worker-1
	// (cpx32 in fsn1)". API errors do not say which resource they are about.
	Op string
	// Class is what the caller should do about it (see Classify).
	Class Class
	// What says what happened, in words; "" when the API's message says it.
	What string
	// Advice says what to do; "" when there is nothing better than the API's
	// message. It never says "run it again": the procedure that ran the
	// operation says that, once, when Rerun allows.
	Advice string
	// Rerun is true when running the command again can succeed without any
	// change by the user (a lock that outlasted the retries, a flaky API).
	// It is false for capacity, limits, authentication and invalid requests.
	Rerun bool
	// Err is the API's error.
	Err error
}

func (e *Error) Error() string {
	msg, code := apiDetail(e.Err)
	out := e.Op + ": "
	switch {
	case e.What == "":
		out += msg
		if code != "" {
			out += " (" + code + ")"
		}
	case code != "":
		out += fmt.Sprintf("%s (Hetzner: %q, %s)", e.What, msg, code)
	default:
		out += e.What + ": " + msg
	}
	if e.Advice != "" {
		out += "; " + e.Advice
	}
	return out
}

func (e *Error) Unwrap() error { return e.Err }

// apiDetail is the API's message and error code, or the error's text and ""
// when it is not an API error.
func apiDetail(err error) (msg, code string) {
	var apiErr hcloud.Error
	if errors.As(err, &apiErr) && apiErr.Code != "" {
		return apiErr.Message, string(apiErr.Code)
	}
	var actErr *ActionError
	if errors.As(err, &actErr) && actErr.Code != "" {
		return actErr.Message, actErr.Code
	}
	var hcActErr hcloud.ActionError
	if errors.As(err, &hcActErr) && hcActErr.Code != "" {
		return hcActErr.Message, hcActErr.Code
	}
	return err.Error(), ""
}

// IsLimit reports whether err is a project limit (too many servers, IPs, …
// for the project's quota) rather than Hetzner being out of stock: both are
// ClassUnavailable, but only a limit is fixed by asking Hetzner to raise it.
func IsLimit(err error) bool {
	return hcloud.IsError(err, hcloud.ErrorCodeResourceLimitExceeded, "server_limit_exceeded")
}

// RerunHelps reports whether running the command again, unchanged, may get
// past err: true unless an error in err's chain says otherwise through a
// RerunHelps() bool method (an explained Hetzner error does; so may any
// layer's). Errors that say nothing (a Talos node that did not answer in
// time) are assumed to pass.
func RerunHelps(err error) bool {
	var r interface{ RerunHelps() bool }
	if errors.As(err, &r) {
		return r.RerunHelps()
	}
	return err != nil
}

// RerunHelps says whether a rerun alone may get past e (Error.Rerun).
func (e *Error) RerunHelps() bool { return e.Rerun }

// explain wraps err, which Retry gave up on after attempts tries, in an
// *Error with what the user can do about it.
func explain(op string, class Class, attempts int, err error) error {
	e := &Error{Op: op, Class: class, Err: err}
	switch class {
	case ClassUnavailable:
		if IsLimit(err) {
			e.What = "project limit reached"
			e.Advice = "delete resources this project no longer needs, or ask Hetzner to raise the limit (Cloud Console: the project's Limits page)"
			break
		}
		e.What = "Hetzner has no capacity for this right now"
		e.Advice = "try another location or server type in the cluster file, or wait until Hetzner has stock again"
	case ClassAuth:
		e.What = "Hetzner refused the API token"
		e.Advice = "check that HCLOUD_TOKEN is valid, belongs to the cluster's project and has Read & Write permission"
	case ClassUniqueness:
		e.What = "name already in use"
	case ClassProtected:
		e.What = "the resource is protected"
		e.Advice = "turn its protection off first"
	case ClassLocked:
		e.What = fmt.Sprintf("still failing after %d attempts: the resource stayed locked by another action", attempts)
		e.Advice = "wait for that action to finish"
		e.Rerun = true
	case ClassTransient, ClassConflict:
		e.What = fmt.Sprintf("still failing after %d attempts", attempts)
		e.Rerun = true
	case ClassRateLimited:
		e.What = "the API rate limit is used up"
		e.Advice = "the budget refills within the hour; other users of the project's tokens draw on it too"
		e.Rerun = true
	case ClassInvalid:
		// The API's message ("invalid user_data") is the explanation.
	default:
		e.Rerun = true
	}
	return e
}

// Join combines the errors of operations that ran in parallel. Errors that
// all have one cause for the whole project — the token refused, the rate
// limit used up — are reported once: ten "list …: Hetzner refused the API
// token" lines say nothing the first does not.
func Join(errs ...error) error {
	var out []error
	seen := map[Class]bool{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		if c := Classify(err); c == ClassAuth || c == ClassRateLimited {
			if seen[c] {
				continue
			}
			seen[c] = true
		}
		out = append(out, err)
	}
	return errors.Join(out...)
}
