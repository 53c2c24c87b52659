package infra

import (
	"context"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// The hcloud client answers in a few shapes; these adapt them to what the kind
// tables return, so that each kind's call is one line.

// errOf keeps only the error of a call whose result is not needed.
func errOf[T any](_ T, _ *hcloud.Response, err error) error { return err }

// actionOf keeps the action a call started.
func actionOf(a *hcloud.Action, _ *hcloud.Response, err error) (*hcloud.Action, error) { return a, err }

// noAction is a call that starts no action.
func noAction(_ *hcloud.Response, err error) (*hcloud.Action, error) { return nil, err }

// getByName appends the resource called name, if there is one, to dst.
func getByName[T any](ctx context.Context, get func(context.Context, string) (*T, *hcloud.Response, error), name string, dst *[]*T) error {
	v, _, err := get(ctx, name)
	if v != nil {
		*dst = append(*dst, v)
	}
	return err
}

// createOne sends d's create request with retries and hands the answer to made. A
// name that is taken means an earlier run may have made the resource, so it is
// adopted instead. The operation's name carries what the kind says about the
// request (placer: type and location), so that the Hetzner layer's explanation
// of a capacity or limit failure names them; nothing here explains it again.
func createOne[O, T any](ctx context.Context, r *run, d *Resource, send func(context.Context, O) (T, *hcloud.Response, error), opts O, made func(T) error) error {
	var res T
	op := "create " + d.Kind.Title() + " " + d.Name
	if x, ok := kinds.ops(d.Kind).(placer); ok {
		op += " (" + x.placement(d) + ")"
	}
	err := r.call(ctx, op, func(ctx context.Context) error {
		var err error
		res, _, err = send(ctx, opts)
		return err
	})
	if err == nil {
		return made(res)
	}
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	return err
}

// created records the ID of a resource just created and waits for the actions its
// create started; when the create answer shows the resource (fresh holds it), it is
// then brought to its desired attributes, as a plan would.
func (r *run) created(ctx context.Context, d *Resource, id int64, fresh Cloud, actions ...*hcloud.Action) error {
	r.setID(d.Ref(), id)
	if err := r.wait(ctx, actions...); err != nil {
		return err
	}
	if o := r.observed(d, fresh); o != nil {
		return r.converge(ctx, d, o)
	}
	return nil
}
