package infra

import (
	"context"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// delete removes one resource: protection off first (the plan only deletes what this
// cluster owns), then what its kind must do first, then the delete; already gone
// counts as done.
func (r *run) delete(ctx context.Context, o *Resource) error {
	err := r.deleteOnce(ctx, o)
	if hetzner.Classify(err) == hetzner.ClassNotFound {
		return nil
	}
	return err
}

func (r *run) deleteOnce(ctx context.Context, o *Resource) error {
	ops := kinds.ops(o.Kind)
	if ops == nil {
		return fmt.Errorf("deleting a %s is not supported", o.Kind)
	}
	if o.Protected {
		if err := r.unprotect(ctx, ops, o); err != nil {
			return err
		}
	}
	if p, ok := ops.(preparer); ok {
		if err := p.beforeRemove(ctx, r, o); err != nil {
			return err
		}
	}
	return r.call(ctx, "delete "+o.Kind.Title()+" "+o.Name, func(ctx context.Context) error {
		a, err := ops.remove(ctx, r, o)
		if err == nil {
			err = r.wait(ctx, a)
		}
		return err
	})
}

func (r *run) unprotect(ctx context.Context, ops kindOps, o *Resource) error {
	p, ok := ops.(protector)
	if !ok {
		return fmt.Errorf("a %s has no protection", o.Kind)
	}
	var a *hcloud.Action
	if err := r.call(ctx, "remove delete protection of "+o.Name, func(ctx context.Context) error {
		var err error
		a, err = p.protect(ctx, r.api(), o.ID, false)
		return err
	}); err != nil {
		return err
	}
	return r.wait(ctx, a)
}
