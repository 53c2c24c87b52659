package infra

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
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

// getByName appends the resource called name, if there is one, to dst.
func getByName[T any](ctx context.Context, get func(context.Context, string) (*T, *hcloud.Response, error), name string, dst *[]*T) error {
	v, _, err := get(ctx, name)
	if v != nil {
		*dst = append(*dst, v)
	}
	return err
}

// create makes d as its kind says.
func (r *run) create(ctx context.Context, d *Resource) error {
	ops := kinds.ops(d.Kind)
	if ops == nil {
		return fmt.Errorf("creating %s is not supported", d.Kind)
	}
	return ops.create(ctx, r, d)
}

// createOne sends a create request for d with retries. A name that is taken means
// an earlier run may have made the resource, so it is adopted instead: adopted is
// then true and err is the adoption's outcome.
func createOne[T any](ctx context.Context, r *run, d *Resource, send func(ctx context.Context) (T, *hcloud.Response, error)) (res T, adopted bool, err error) {
	err = r.call(ctx, "create "+d.Kind.Title()+" "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = send(ctx)
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return res, true, r.adopt(ctx, d)
	}
	return res, false, err
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
		return fmt.Errorf("a %s named %s already exists but does not carry the label cluster=%s; it belongs to something else, so hcloud-k8s will not touch it: rename or delete it, or pick another cluster name", d.Kind, d.Name, r.plan.Cluster)
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

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
