package infra

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// Reporter follows an apply as it runs, for progress output.
type Reporter interface {
	Started(c *Change)
	Finished(c *Change, err error, elapsed time.Duration)
}

// Executor applies plans against Hetzner Cloud.
type Executor struct {
	Client *hetzner.Client
	// Images maps an architecture (amd64, arm64) to the ID of the Talos snapshot
	// servers of that architecture boot from.
	Images map[string]int64
	// Reporter receives progress; nil for none.
	Reporter Reporter
	// Parallelism bounds how many steps run at once (default 64). Steps spend most
	// of their time waiting for actions, which the client polls in shared batches,
	// and requests are paced by the client's shared budget whatever this is.
	Parallelism int
	// Now is the clock (default time.Now): elapsed times, and when a certificate
	// it uploads becomes valid.
	Now func() time.Time
}

// ErrProblems is returned when a plan has problems apply must not work around.
var ErrProblems = errors.New("the plan has problems that apply will not work around")

// Apply runs every change of the plan, as many at once as the dependencies allow.
// On the first failure it starts nothing new, lets running steps finish, and returns
// every error; it never deletes anything to undo a partial apply. Each step is
// idempotent, so running apply again continues where this one stopped.
func (e *Executor) Apply(ctx context.Context, p *Plan, desired, observed *State) error {
	if err := p.Err(); err != nil {
		return err
	}
	run := e.newRun(p, desired)
	for ref, r := range observed.Resources {
		run.ids[ref] = r.ID
	}
	for _, c := range p.Changes {
		if c.Desired != nil && c.Desired.External {
			run.ids[c.Ref] = c.Desired.ID
		}
	}
	return run.schedule(ctx, p)
}

func (e *Executor) newRun(p *Plan, desired *State) *run {
	return &run{e: e, plan: p, desired: desired, ids: map[Ref]int64{}, withNetwork: map[Ref]bool{}}
}

// run is the state of one Apply.
type run struct {
	e       *Executor
	desired *State

	mu          sync.Mutex
	ids         map[Ref]int64 // IDs of existing and created resources
	withNetwork map[Ref]bool  // subnets created as part of their network
	plan        *Plan
}

func (r *run) id(ref Ref) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[ref]
}

func (r *run) setID(ref Ref, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[ref] = id
}

// createdWithNetwork records subnets that their network's create request made.
func (r *run) createdWithNetwork(refs ...Ref) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range refs {
		r.withNetwork[ref] = true
	}
}

func (r *run) isCreatedWithNetwork(ref Ref) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.withNetwork[ref]
}

func (r *run) now() time.Time {
	if r.e.Now != nil {
		return r.e.Now()
	}
	return time.Now()
}

// schedule runs the plan's changes as a dependency graph.
func (r *run) schedule(ctx context.Context, p *Plan) error {
	type node struct {
		c       *Change
		waiting int
		next    []*node
	}
	nodes := map[Ref]*node{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action != ActionNoop {
			nodes[c.Ref] = &node{c: c}
		}
	}
	for _, n := range nodes {
		for _, dep := range n.c.DependsOn {
			if d, ok := nodes[dep]; ok {
				d.next = append(d.next, n)
				n.waiting++
			}
		}
	}
	par := r.e.Parallelism
	if par <= 0 {
		par = 64
	}
	sem := make(chan struct{}, par)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		failed bool
	)
	var start func(n *node)
	start = func(n *node) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", n.c.Ref, ctx.Err()))
				failed = true
				mu.Unlock()
				return
			}
			mu.Lock()
			stop := failed
			mu.Unlock()
			var err error
			if stop {
				<-sem
				return
			}
			// Subnets created inside their network's create request need no step.
			rep := r.e.Reporter
			if r.isCreatedWithNetwork(n.c.Ref) {
				rep = nil
			}
			if rep != nil {
				rep.Started(n.c)
			}
			begin := r.now()
			err = r.execute(ctx, n.c)
			<-sem
			if rep != nil {
				rep.Finished(n.c, err, r.now().Sub(begin))
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				failed = true
				return
			}
			for _, m := range n.next {
				m.waiting--
				if m.waiting == 0 && !failed {
					start(m)
				}
			}
		}()
	}
	mu.Lock()
	for _, c := range p.Changes {
		if n, ok := nodes[c.Ref]; ok && n.waiting == 0 {
			start(n)
		}
	}
	mu.Unlock()
	wg.Wait()
	return hetzner.Join(errs...)
}

// execute performs one change.
func (r *run) execute(ctx context.Context, c *Change) error {
	var err error
	switch c.Action {
	case ActionCreate:
		err = r.create(ctx, c.Desired)
	case ActionUpdate, ActionAdopt:
		err = r.update(ctx, c)
	case ActionDelete:
		err = r.delete(ctx, c.Observed)
	}
	var explained *hetzner.Error
	if err != nil && !errors.As(err, &explained) {
		// An explained Hetzner error names its operation and resource already.
		return fmt.Errorf("%s %s: %w", c.Action, c.Ref, err)
	}
	return err
}
