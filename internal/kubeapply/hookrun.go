package kubeapply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// hooksDue decides whether this Apply runs hooks. An install (the addon was
// never applied to the end) always does, as Helm's install does. An upgrade
// runs them only when it changes something: Helm runs upgrade hooks on every
// upgrade, but here an unchanged set must write nothing, and an upgrade hook
// (typically a Job deleted after success) would be created anew each time.
// CRDs and namespaces are applied by now, so the dry runs of the remaining
// objects see the cluster they will be applied to.
func (a *Applier) hooksDue(ctx context.Context, res *Result, addon string, p *plan, installed, pruning bool) (bool, error) {
	if !installed {
		return true, nil
	}
	if len(hooksFor(p.hooks, PreUpgrade))+len(hooksFor(p.hooks, PostUpgrade)) == 0 {
		return false, nil
	}
	if pruning || res.Changed() {
		return true, nil
	}
	for _, obj := range p.main() {
		entry, _, _, err := a.ssa.Diff(ctx, obj.DeepCopy(), ssa.DiffOptions{Force: recreatable(obj.GroupVersionKind().GroupKind())})
		if err != nil {
			// The apply that follows would fail on the same object with the
			// same error; report it from here, before any hook ran.
			return false, applyError(addon, "objects (dry run)", err)
		}
		if entry.Action != ssa.UnchangedAction && entry.Action != ssa.SkippedAction {
			return true, nil
		}
	}
	return false, nil
}

// notRun lists the hooks this Apply did not run.
func notRun(hooks []Hook, ran bool, pre, post Phase) []Ref {
	var out []Ref
	for _, h := range hooks {
		if !ran || !(h.has(pre) || h.has(post)) {
			out = append(out, RefOf(h.Object))
		}
	}
	return out
}

// runHooks runs hooks one at a time, in the given order, as Helm does:
// delete the previous run's object (before-hook-creation), apply, wait for a
// Job or Pod to finish, then delete it on success or failure if its policy
// says so.
func (a *Applier) runHooks(ctx context.Context, res *Result, addon string, hooks []Hook) error {
	for _, h := range hooks {
		ref := RefOf(h.Object)
		if h.deletes(BeforeHookCreation) {
			if err := a.deleteAndWait(ctx, h.Object); err != nil {
				return fmt.Errorf("addon %s: hook %s: deleting the previous run: %w", addon, ref, err)
			}
		}
		opts := ssa.DefaultApplyOptions()
		opts.Force = recreatable(ref.GroupKind())
		entry, err := a.ssa.Apply(ctx, h.Object.DeepCopy(), opts)
		if err != nil {
			return applyError(addon, "hook "+ref.String(), err)
		}
		res.recordEntry(*entry)

		werr := a.waitFor(ctx, []Ref{ref}, WaitOptions{Timeout: a.opts.HookTimeout}, hookReadiness)
		policy := HookSucceeded
		if werr != nil {
			policy = HookFailed
		}
		if h.deletes(policy) {
			if err := a.deleteAndWait(ctx, h.Object); err != nil {
				return fmt.Errorf("addon %s: hook %s: deleting it (%s): %w", addon, ref, policy, err)
			}
		}
		if werr != nil {
			return fmt.Errorf("addon %s: hook %s: %w", addon, ref, werr)
		}
	}
	return nil
}

// deleteAndWait deletes obj and waits until it is gone, so the object
// created next under the same name is a new one.
func (a *Applier) deleteAndWait(ctx context.Context, obj *unstructured.Unstructured) error {
	ref := RefOf(obj)
	stub, gone, err := a.stub(ref)
	if err != nil || gone {
		return err
	}
	err = a.client.Delete(ctx, stub, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, a.opts.PollInterval, a.opts.HookTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := a.get(ctx, ref)
		switch {
		case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
			return true, nil
		case err != nil:
			return false, err
		}
		return false, nil
	})
}
