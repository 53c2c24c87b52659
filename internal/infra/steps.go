package infra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Each step is idempotent: a create whose name is already taken adopts the resource
// if its labels say it belongs to this cluster (an earlier run may have created it
// and died before seeing the answer), and a delete of something already gone is done.

func (r *run) api() *hcloud.Client { return r.e.Client.API() }

// call runs one API write with the client's bounded retries.
func (r *run) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return r.e.Client.Retry(ctx, op, fn)
}

func (r *run) wait(ctx context.Context, actions ...*hcloud.Action) error {
	actions = slices.DeleteFunc(actions, func(a *hcloud.Action) bool { return a == nil })
	if len(actions) == 0 {
		return nil
	}
	return r.e.Client.WaitForActions(ctx, actions...)
}

// isOurs reports whether labels put a resource found by name in this cluster.
func (r *run) isOurs(labels map[string]string) bool {
	return labels[layout.LabelCluster] == r.plan.Cluster
}

// create makes d as its kind says.
func (r *run) create(ctx context.Context, d *Resource) error {
	ops := kinds.ops(d.Kind)
	if ops == nil {
		return fmt.Errorf("creating %s is not supported", d.Kind)
	}
	return ops.create(ctx, r, d)
}

// adopt handles a create that failed because the name is taken: if the resource of
// that name carries this cluster's label, an earlier run created it, so it is taken
// over and brought to its desired attributes; otherwise it belongs to someone else
// and apply stops rather than touch it.
func (r *run) adopt(ctx context.Context, d *Resource) error {
	var cloud Cloud
	if f, ok := kinds.ops(d.Kind).(finder); ok {
		if err := f.find(ctx, r.api(), d.Name, &cloud); err != nil {
			return fmt.Errorf("look up the existing %s %s: %w", d.Kind, d.Name, err)
		}
	}
	o := r.observed(d, cloud)
	if o == nil {
		return fmt.Errorf("the name %s is taken by a %s that could not be found", d.Name, d.Kind)
	}
	if !r.isOurs(o.Labels) {
		return errors.New(foreignName(d.Ref(), r.plan.Cluster, o.Labels[layout.LabelCluster]))
	}
	r.setID(d.Ref(), o.ID)
	return r.converge(ctx, d, o)
}

// observed is d as it stands in what the API returned, or nil.
func (r *run) observed(d *Resource, c Cloud) *Resource {
	return FromCloud(r.plan.Cluster, r.desired.Domain, c).Get(d.Ref())
}

// converge brings an existing resource (just created, or adopted) to its desired
// attributes with the same in-place updates a plan would make.
func (r *run) converge(ctx context.Context, d, o *Resource) error {
	scratch := &Plan{Cluster: r.plan.Cluster}
	ch := compare(r.desired, d, o, scratch)
	if len(scratch.Problems) > 0 {
		return errors.New(strings.Join(scratch.Problems, "\n  "))
	}
	if ch.Action == ActionNoop {
		return nil
	}
	return r.update(ctx, &ch)
}
