package infra

import (
	"context"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// target is the resource an update is applied to, during one run.
type target struct {
	r    *run
	name string
	id   int64
	// actions are waited for together once every update has been sent.
	actions []*hcloud.Action
}

func (t *target) api() *hcloud.Client { return t.r.api() }

// call sends one request about the resource: op is what it does, "set rules of".
func (t *target) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return t.r.call(ctx, op+" "+t.name, fn)
}

// act sends one request that starts an action and waits for it. Hetzner locks a
// resource while one of its actions runs, so asking for the next change earlier
// only earns "locked".
func (t *target) act(ctx context.Context, op string, fn func(ctx context.Context) (*hcloud.Action, error)) error {
	err := t.call(ctx, op, func(ctx context.Context) error {
		a, err := fn(ctx)
		if err == nil {
			err = t.r.wait(ctx, a)
		}
		return err
	})
	// An earlier, interrupted run may have started the same change (an attach
	// still running when it was killed): the state it wanted is there.
	if hetzner.Classify(err) == hetzner.ClassAlreadyApplied {
		return nil
	}
	return err
}

// later sends one request whose action is waited for with the others at the end;
// op names the request in full ("add service 443").
func (t *target) later(ctx context.Context, op string, fn func(ctx context.Context) (*hcloud.Action, error)) error {
	return t.r.call(ctx, op, func(ctx context.Context) error {
		a, err := fn(ctx)
		if err == nil {
			t.waitLater(a)
		}
		return err
	})
}

// waitLater adds actions to wait for at the end.
func (t *target) waitLater(actions ...*hcloud.Action) { t.actions = append(t.actions, actions...) }

// plain is an update made by one request that starts no action; op says what it
// does ("update network").
func plain(op string, fn func(ctx context.Context, t *target) error) applyFunc {
	return func(ctx context.Context, t *target) error {
		return t.call(ctx, op, func(ctx context.Context) error { return fn(ctx, t) })
	}
}

// acting is an update made by one request that starts an action (see target.act).
func acting(op string, fn func(ctx context.Context, t *target) (*hcloud.Action, error)) applyFunc {
	return func(ctx context.Context, t *target) error {
		return t.act(ctx, op, func(ctx context.Context) (*hcloud.Action, error) { return fn(ctx, t) })
	}
}

// update applies a change's in-place updates, each as the kind that planned it
// said; actions left running are waited for together.
func (r *run) update(ctx context.Context, c *Change) error {
	id := c.Observed.ID
	if id == 0 {
		id = r.id(c.Ref)
	}
	t := &target{r: r, name: c.Desired.Name, id: id}
	for _, u := range c.Updates {
		if u.apply == nil {
			return fmt.Errorf("updating %s is not supported", u.Field)
		}
		if err := u.apply(ctx, t); err != nil {
			return err
		}
	}
	return r.wait(ctx, t.actions...)
}
