package kubeapply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitOptions configures Wait.
type WaitOptions struct {
	// Timeout bounds the wait. Required.
	Timeout time.Duration
	// Interval between checks. Default Options.PollInterval.
	Interval time.Duration
	// Progress, if set, is called after each check that changed which
	// objects are ready, and after the first.
	Progress func(Progress)
}

// Progress is a snapshot of a Wait.
type Progress struct {
	Ready, Total int
	// Pending are the objects not ready yet, in the order Wait was given.
	Pending []ObjectStatus
}

// ObjectStatus is one object's readiness as last seen.
type ObjectStatus struct {
	Ref     Ref
	Message string
}

func (s ObjectStatus) String() string { return s.Ref.String() + " (" + s.Message + ")" }

// NotReadyError is Wait's error when objects did not become ready. It names
// each of them with what was last seen.
type NotReadyError struct {
	Pending []ObjectStatus
	// Failed is true when an object failed for good (a Job's Failed
	// condition) rather than the wait timing out.
	Failed bool
	Err    error
}

func (e *NotReadyError) Error() string {
	what := "not ready"
	if e.Failed {
		what = "failed"
	}
	parts := make([]string, len(e.Pending))
	for i, s := range e.Pending {
		parts[i] = s.String()
	}
	return fmt.Sprintf("kubeapply: %s: %s: %v", what, strings.Join(parts, ", "), e.Err)
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// errFailed ends a wait early when an object failed for good.
var errFailed = errors.New("failed")

// Wait waits until every object refs names is ready: Deployments available,
// DaemonSets and StatefulSets rolled out, CRDs Established, Jobs complete,
// and whatever else kstatus understands (see readiness).
func (a *Applier) Wait(ctx context.Context, refs []Ref, opts WaitOptions) error {
	return a.waitFor(ctx, refs, opts, readiness)
}

func (a *Applier) waitFor(ctx context.Context, refs []Ref, opts WaitOptions, judge func(*unstructured.Unstructured) (state, string)) error {
	if opts.Interval <= 0 {
		opts.Interval = a.opts.PollInterval
	}
	if opts.Timeout <= 0 {
		return fmt.Errorf("kubeapply: Wait needs a timeout")
	}
	pending := slices.Clone(refs)
	seen := map[Ref]string{} // last judgement of each object
	var last []ObjectStatus
	var lastReported []Ref
	first := true
	err := wait.PollUntilContextTimeout(ctx, opts.Interval, opts.Timeout, true, func(ctx context.Context) (bool, error) {
		var still []Ref
		last = last[:0]
		failedNow := false
		for _, ref := range pending {
			st, msg, err := a.check(ctx, ref, judge)
			if err != nil {
				// A failed read says nothing about the object (near the
				// deadline it is the rate limiter refusing): keep what the
				// last successful read said.
				if prev, ok := seen[ref]; ok {
					msg = prev
				}
			} else {
				seen[ref] = msg
			}
			if st == ready {
				continue
			}
			still = append(still, ref)
			last = append(last, ObjectStatus{Ref: ref, Message: msg})
			failedNow = failedNow || st == failed
		}
		pending = still
		if opts.Progress != nil && (first || !slices.Equal(still, lastReported)) {
			opts.Progress(Progress{Ready: len(refs) - len(still), Total: len(refs), Pending: slices.Clone(last)})
		}
		first, lastReported = false, still
		if failedNow {
			return false, errFailed
		}
		return len(still) == 0, nil
	})
	if err == nil {
		return nil
	}
	return &NotReadyError{Pending: slices.Clone(last), Failed: errors.Is(err, errFailed), Err: err}
}

// check reads ref and judges it. A read that fails leaves it pending with
// the error as its message (and the error, so Wait can tell): the next
// check may succeed.
func (a *Applier) check(ctx context.Context, ref Ref, judge func(*unstructured.Unstructured) (state, string)) (state, string, error) {
	obj, err := a.get(ctx, ref)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return pending, "not found", nil
	case err != nil:
		return pending, err.Error(), err
	}
	st, msg := judge(obj)
	return st, msg, nil
}

// Check judges each object refs names once, as Wait would, and returns the
// ones that are not ready (in the order given): what status reports of an
// addon. A read that fails is returned as an error.
func (a *Applier) Check(ctx context.Context, refs []Ref) ([]ObjectStatus, error) {
	var out []ObjectStatus
	for _, ref := range refs {
		st, msg, err := a.check(ctx, ref, readiness)
		if err != nil {
			return nil, fmt.Errorf("kubeapply: read %s: %w", ref, err)
		}
		if st != ready {
			out = append(out, ObjectStatus{Ref: ref, Message: msg})
		}
	}
	return out, nil
}
