package kubeapply

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Apply makes the cluster hold exactly what set renders, in this order:
//
//  1. the inventory is widened to what it listed plus everything set
//     renders, before any object is written;
//  2. CRDs, then a wait until they are Established;
//  3. Namespaces;
//  4. pre-install (first apply) or pre-upgrade hooks, by weight;
//  5. cluster-scoped objects, then namespaced objects;
//  6. post-install or post-upgrade hooks;
//  7. objects the inventory listed that set no longer renders are pruned;
//  8. the inventory is narrowed to what set renders.
//
// An error at any step returns at once, naming the addon and the object;
// the inventory then still lists every object that may exist, and the next
// Apply prunes what it does not render. An unchanged object is not written
// (its resourceVersion stays), so applying the same set twice writes nothing.
func (a *Applier) Apply(ctx context.Context, set Set) (Result, error) {
	res := Result{Addon: set.Name}
	p, err := a.plan(set)
	if err != nil {
		return res, err
	}
	res.SkippedHooks = p.skipped
	old, err := a.readInventory(ctx, set.Name)
	if err != nil {
		return res, err
	}
	if err := a.writeInventory(ctx, set.Name, inventory{installed: old.installed, version: old.version, refs: old.refs.union(p.desired)}); err != nil {
		return res, err
	}

	if err := a.applyStage(ctx, &res, set.Name, "CRDs", p.crds); err != nil {
		return res, err
	}
	if err := a.waitEstablished(ctx, set.Name, p.crds); err != nil {
		return res, err
	}
	if err := a.applyStage(ctx, &res, set.Name, "namespaces", p.namespaces); err != nil {
		return res, err
	}

	prune := old.refs.minus(p.desired)
	pre, post := PreUpgrade, PostUpgrade
	if !old.installed {
		pre, post = PreInstall, PostInstall
	}
	runHooks, err := a.hooksDue(ctx, &res, set.Name, p, old.installed, len(prune) > 0)
	if err != nil {
		return res, err
	}
	if runHooks {
		if err := a.runHooks(ctx, &res, set.Name, hooksFor(p.hooks, pre)); err != nil {
			return res, err
		}
	}
	if err := a.applyStage(ctx, &res, set.Name, "cluster-scoped objects", p.cluster); err != nil {
		return res, err
	}
	if err := a.applyStage(ctx, &res, set.Name, "namespaced objects", p.namespaced); err != nil {
		return res, err
	}
	if runHooks {
		if err := a.runHooks(ctx, &res, set.Name, hooksFor(p.hooks, post)); err != nil {
			return res, err
		}
	}
	res.SkippedHooks = append(res.SkippedHooks, notRun(p.hooks, runHooks, pre, post)...)

	if err := a.deleteRefs(ctx, &res, set.Name, prune.sorted()); err != nil {
		return res, err
	}
	if err := a.writeInventory(ctx, set.Name, inventory{installed: true, version: set.Version, refs: p.desired}); err != nil {
		return res, err
	}
	return res, nil
}

// recreatable tells whether an object whose immutable fields changed is
// deleted and created anew (github.com/fluxcd/pkg/ssa's force apply). That
// is the only way such a change can land (a Job's template, a Service's
// clusterIP, a Deployment's selector after a chart upgrade, a StorageClass's
// parameters); volumes are the exception, since recreating them loses
// their data: their apply fails and names the object instead.
func recreatable(gk schema.GroupKind) bool {
	return gk != schema.GroupKind{Kind: "PersistentVolumeClaim"} && gk != schema.GroupKind{Kind: "PersistentVolume"}
}

// applyStage applies objs with one github.com/fluxcd/pkg/ssa ApplyAll per
// recreate rule: ApplyAll dry-runs the whole batch before it writes any of
// it, so an object the server refuses stops the batch before it starts.
func (a *Applier) applyStage(ctx context.Context, res *Result, addon, stage string, objs []*unstructured.Unstructured) error {
	var force, keep []*unstructured.Unstructured
	for _, obj := range objs {
		if recreatable(obj.GroupVersionKind().GroupKind()) {
			force = append(force, obj.DeepCopy())
		} else {
			keep = append(keep, obj.DeepCopy())
		}
	}
	for _, batch := range []struct {
		objs  []*unstructured.Unstructured
		force bool
	}{{force, true}, {keep, false}} {
		if len(batch.objs) == 0 {
			continue
		}
		opts := ssa.DefaultApplyOptions()
		opts.Force = batch.force
		opts.WaitInterval = a.opts.PollInterval
		cs, err := a.ssa.ApplyAll(ctx, batch.objs, opts)
		res.record(cs)
		if err != nil {
			return applyError(addon, stage, err)
		}
	}
	return nil
}

// applyError names the addon, and the object when ssa says which one the
// server refused.
func applyError(addon, stage string, err error) error {
	var dry *ssaerrors.DryRunErr
	if errors.As(err, &dry) && dry.InvolvedObject() != nil {
		return fmt.Errorf("addon %s: applying %s: %s: %w", addon, stage, RefOf(dry.InvolvedObject()), err)
	}
	return fmt.Errorf("addon %s: applying %s: %w", addon, stage, err)
}

// waitEstablished waits for the set's CRDs: custom resources of a CRD that
// is not Established yet are refused.
func (a *Applier) waitEstablished(ctx context.Context, addon string, crds []*unstructured.Unstructured) error {
	refs := make([]Ref, len(crds))
	for i, crd := range crds {
		refs[i] = RefOf(crd)
	}
	if err := a.Wait(ctx, refs, WaitOptions{Timeout: a.opts.EstablishTimeout}); err != nil {
		return fmt.Errorf("addon %s: waiting for CRDs to be Established: %w", addon, err)
	}
	return nil
}
