package infra

import (
	"context"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Action is what a plan does to one resource.
type Action string

// Actions.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update" // in place
	ActionAdopt  Action = "adopt"  // take over a resource that lacks some of our labels
	ActionDelete Action = "delete"
	ActionNoop   Action = "no-op"
)

// Update is one in-place change of one attribute. Field, From and To are for people
// (plan output); the kind that compared the resource also gave the update the code
// that makes it, so the executor never dispatches on Field.
type Update struct {
	Field string `json:"field"` // labels, rules, protection, dnsPtr <ip>, algorithm, type, publicInterface, ...
	From  string `json:"from"`
	To    string `json:"to"`
	// why replaces "<field> differ" in the change's reason when the field's
	// name alone would not tell people what happens ("start: server is off").
	why   string
	apply applyFunc
}

// applyFunc makes one update of the resource t is about.
type applyFunc func(ctx context.Context, t *target) error

// Change is one step of a plan.
type Change struct {
	Action   Action    `json:"action"`
	Ref      Ref       `json:"ref"`
	Desired  *Resource `json:"desired,omitempty"`  // nil for deletes
	Observed *Resource `json:"observed,omitempty"` // nil for creates
	Reason   string    `json:"reason"`
	Updates  []Update  `json:"updates,omitempty"`
	// DependsOn lists changes that must finish before this one starts.
	DependsOn []Ref `json:"dependsOn,omitempty"`
}

// Plan is the ordered list of changes that turns observed into desired.
type Plan struct {
	Cluster string   `json:"cluster"`
	Changes []Change `json:"changes"`
	// Initialized is true when the <cluster>-state marker exists: the cluster has
	// been bootstrapped, so servers must not be removed without draining them.
	Initialized bool `json:"initialized"`
	// Problems are differences this release cannot fix safely; apply refuses to run
	// while there are any.
	Problems []string `json:"problems,omitempty"`
	// Notes are decisions the plan made that the cluster file leaves open (a
	// pool's new servers placed in a fallback location); people should see them.
	Notes []string `json:"notes,omitempty"`
	// Unmanaged lists resources that carry the cluster label but are not ours to
	// change (for example a server someone labelled by hand); they are left alone.
	Unmanaged []string `json:"unmanaged,omitempty"`
}

// Counts returns how many resources the plan creates, updates (or adopts) and deletes.
func (p *Plan) Counts() (create, update, del int) {
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			create++
		case ActionUpdate, ActionAdopt:
			update++
		case ActionDelete:
			del++
		}
	}
	return create, update, del
}

// Err is nil when the plan can be applied, else an ErrProblems error that lists
// the problems.
func (p *Plan) Err() error {
	if len(p.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(p.Problems, "\n  "))
}

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool {
	c, u, d := p.Counts()
	return c+u+d > 0
}

// Diff compares the desired and observed states. It is pure.
func Diff(desired, observed *State) *Plan {
	p := &Plan{Cluster: desired.Cluster, Initialized: initialized(observed)}
	for _, d := range desired.Sorted() {
		o := observed.Get(d.Ref())
		if d.External {
			if o == nil {
				p.Problems = append(p.Problems, fmt.Sprintf("%s (ID %d) named in the cluster file does not exist", d, d.ID))
			}
			p.Changes = append(p.Changes, Change{Action: ActionNoop, Ref: d.Ref(), Desired: d, Observed: o, Reason: "external: used, never changed"})
			continue
		}
		if o == nil {
			p.Changes = append(p.Changes, Change{Action: ActionCreate, Ref: d.Ref(), Desired: d, Reason: createReason(d)})
			continue
		}
		p.Changes = append(p.Changes, compare(desired, d, o, p))
	}
	for _, o := range observed.Sorted() {
		if desired.Get(o.Ref()) != nil {
			continue
		}
		ops := kinds.ops(o.Kind)
		if pr, ok := ops.(pruner); !ok || !pr.deletable(desired, o) {
			if ops == nil || !ops.about().quiet {
				p.Unmanaged = append(p.Unmanaged, o.String())
			}
			continue
		}
		reason := "no longer in the cluster file"
		if r, ok := ops.(deleteReasoner); ok {
			reason = r.deleteReason(p, o)
		}
		p.Changes = append(p.Changes, Change{Action: ActionDelete, Ref: o.Ref(), Observed: o, Reason: reason})
	}
	addDependencies(p, desired, observed)
	return p
}

func createReason(d *Resource) string {
	if r, ok := kinds.ops(d.Kind).(reasoner); ok {
		return r.createReason(d)
	}
	return "does not exist yet"
}

// addDependencies fills DependsOn from the references between resources: creates wait
// for what they reference, deletes wait for what references them.
func addDependencies(p *Plan, desired, observed *State) {
	inPlan := map[Ref]Action{}
	for _, c := range p.Changes {
		inPlan[c.Ref] = c.Action
	}
	pending := func(ref Ref, action Action) bool { return inPlan[ref] == action }
	for i := range p.Changes {
		c := &p.Changes[i]
		var deps []Ref
		switch c.Action {
		case ActionCreate:
			for _, ref := range references(c.Desired) {
				if pending(ref, ActionCreate) {
					deps = append(deps, ref)
				}
			}
		case ActionDelete:
			for _, o := range observed.Resources {
				if !pending(o.Ref(), ActionDelete) {
					continue
				}
				if slices.Contains(references(o), c.Ref) {
					deps = append(deps, o.Ref())
				}
			}
		}
		sort.Slice(deps, func(a, b int) bool { return lessRef(deps[a], deps[b]) })
		c.DependsOn = deps
	}
}

// references lists the resources r needs to exist, as its kind says.
func references(r *Resource) []Ref {
	if rf, ok := kinds.ops(r.Kind).(referrer); ok {
		return rf.references(r)
	}
	return nil
}

// NodesToDrain are the Kubernetes nodes apply must cordon and drain before
// the plan deletes their servers: the workers of a bootstrapped cluster
// that the cluster file no longer has.
func (p *Plan) NodesToDrain() []string {
	return p.removedServers(layout.RoleWorker)
}

// ControlPlanesToRemove are the control planes of a bootstrapped cluster
// that the plan deletes, highest index first (the order the module's
// numbering gives up servers), including those a stopped run had started
// to remove. Each must leave etcd before its server goes.
func (p *Plan) ControlPlanesToRemove() []string {
	out := append(p.removedServers(layout.RoleControlPlane), p.removedServers(layout.RoleLeavingControlPlane)...)
	slices.SortFunc(out, func(a, b string) int {
		if d := serverIndex(b) - serverIndex(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return out
}

func (p *Plan) removedServers(role string) []string {
	if !p.Initialized {
		return nil
	}
	var out []string
	for _, ch := range p.Changes {
		if ch.Action == ActionDelete && ch.Ref.Kind == KindServer && ch.Observed.Labels[layout.LabelRole] == role {
			out = append(out, ch.Ref.Name)
		}
	}
	return out
}

// serverIndex is the number a server's name ends with (0 if none).
func serverIndex(name string) int {
	i := strings.LastIndexByte(name, '-')
	n, err := strconv.Atoi(name[i+1:])
	if err != nil {
		return 0
	}
	return n
}
