package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/membership"
)

// EtcdPlan is what apply does to etcd before the infrastructure step deletes
// or recreates control planes (docs/scale-down.md).
type EtcdPlan struct {
	// Survey is the membership with each member's health.
	Survey *membership.Survey `json:"survey"`
	// Dead are members whose machine is gone, does not answer, or runs no
	// etcd: they cannot leave by themselves, so a healthy control plane
	// removes them by ID, first.
	Dead []membership.Member `json:"dead"`
	// Leaving are the control planes that leave etcd themselves, in this
	// order: drained, taken out of the API load balancer, leadership handed
	// away, then EtcdLeaveCluster.
	Leaving []string `json:"leaving"`
}

func (e *EtcdPlan) empty() bool { return e == nil || len(e.Dead)+len(e.Leaving) == 0 }

// planEtcd looks at etcd when the plan touches control planes of a
// bootstrapped cluster — removes some, or recreates one whose server is gone —
// and decides what apply does to the members. Anything that would put the
// quorum at risk is a problem of the plan, so apply refuses before it writes.
func planEtcd(ctx context.Context, d Deps, res *PlanResult) {
	p := res.Plan
	if !p.Initialized {
		return
	}
	removing := p.ControlPlanesToRemove()
	if len(removing) == 0 && !createsControlPlane(p) {
		return
	}
	what := "removing control planes " + strings.Join(removing, ", ")
	if len(removing) == 0 {
		what = "recreating a control plane"
	}
	if d.InfrastructureOnly {
		if len(removing) > 0 {
			// Deleting the servers without their members leaving would cost
			// etcd its quorum (docs/scale-down.md).
			p.Problems = append(p.Problems, fmt.Sprintf("%s of a bootstrapped cluster: each must leave etcd before its server goes, which --infrastructure-only does not do; run apply without it", what))
		}
		return
	}
	mc, err := d.membershipClient()
	if err != nil {
		p.Problems = append(p.Problems, fmt.Sprintf("%s needs etcd's membership, read with the cluster's talosconfig: %v", what, err))
		return
	}
	survey, err := mc.Survey(ctx, controlPlaneNodes(res.Observed))
	if err != nil {
		p.Problems = append(p.Problems, fmt.Sprintf("%s needs a healthy etcd, and its members could not be read: %v; nothing is removed while etcd may have lost its quorum (with the majority of members gone, recover etcd from a snapshot first)", what, err))
		return
	}
	e := decideEtcd(survey, removing, p)
	res.Etcd = e
}

// decideEtcd is planEtcd's decision, pure: members without a working machine
// are removed by ID; the control planes the plan deletes leave in turn; and
// no control plane leaves while a member that stays is unhealthy, nor may the
// members that stay lose their majority.
func decideEtcd(s *membership.Survey, removing []string, p *infra.Plan) *EtcdPlan {
	e := &EtcdPlan{Survey: s, Dead: []membership.Member{}, Leaving: []string{}}
	gone := map[string]bool{}
	for _, m := range s.Members {
		if m.Health == membership.Healthy {
			continue
		}
		if m.Health == membership.NoMachine || slices.Contains(removing, m.Name) {
			e.Dead = append(e.Dead, m)
			gone[m.Name] = true
			p.Notes = append(p.Notes, fmt.Sprintf("etcd member %s (%s) is %s (%s): apply removes it by ID through a healthy control plane, without draining it", m.Name, m.IDHex, m.Health, m.Why))
		}
	}
	for _, name := range removing {
		if !gone[name] {
			e.Leaving = append(e.Leaving, name)
		}
	}
	stay, healthy := 0, 0
	var sick []string
	for _, m := range s.Members {
		if gone[m.Name] || slices.Contains(e.Leaving, m.Name) {
			continue
		}
		stay++
		if m.Health == membership.Healthy {
			healthy++
		} else {
			sick = append(sick, fmt.Sprintf("%s (%s: %s)", m.Name, m.Health, m.Why))
		}
	}
	switch {
	case len(sick) > 0 && !e.empty():
		p.Problems = append(p.Problems, fmt.Sprintf("etcd member %s is not healthy and stays in the cluster: no control plane is removed while a remaining member is unhealthy (the quorum would rest on fewer machines than it seems); repair it, or remove it from the cluster file too", strings.Join(sick, ", ")))
	case stay > 0 && healthy < stay/2+1:
		p.Problems = append(p.Problems, fmt.Sprintf("after the removals etcd would have %d members of which %d are healthy: that is no majority", stay, healthy))
	case stay == 0 && !e.empty():
		p.Problems = append(p.Problems, "the removals would leave etcd without a member")
	}
	return e
}

// createsControlPlane says whether the plan creates a control plane server.
func createsControlPlane(p *infra.Plan) bool {
	for _, c := range p.Changes {
		if c.Action == infra.ActionCreate && c.Ref.Kind == infra.KindServer && c.Desired.Labels[layout.LabelRole] == layout.RoleControlPlane {
			return true
		}
	}
	return false
}

// controlPlaneNodes are the observed control planes (including those a
// stopped run was removing) with the address their Talos API answers on;
// a server that is not running has none.
func controlPlaneNodes(observed *infra.State) []membership.Node {
	var out []membership.Node
	for _, r := range observed.Sorted() {
		if r.Server == nil || (r.Server.Role != layout.RoleControlPlane && r.Server.Role != layout.RoleLeavingControlPlane) {
			continue
		}
		n := membership.Node{Name: r.Name}
		if r.Server.Status == "running" && r.Server.PublicIPv4Addr.IsValid() {
			n.Addr = r.Server.PublicIPv4Addr.String()
		}
		out = append(out, n)
	}
	return out
}

// membershipClient talks to etcd through Talos with the talosconfig apply
// wrote, on the procedure's clock.
func (d Deps) membershipClient() (*membership.Client, error) {
	path := filepath.Join(d.StateDir, TalosconfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the cluster's talosconfig %s cannot be read (run from the machine, or with the --state-dir, that formed the cluster): %w", path, err)
	}
	mc, err := membership.New(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	mc.Clock, mc.Poll, mc.Timeout = d.Clock, d.TalosPollInterval, d.TalosTimeout
	return mc, nil
}

// removeControlPlanes takes control planes out of etcd before the
// infrastructure step deletes (or recreates) their servers: dead members
// by ID first, then each leaving control plane in turn, highest index
// first: cordon and drain it, relabel it so the kube-API load balancer no
// longer sends it traffic, hand etcd leadership away, leave, and wait
// until the control planes that stay no longer list it. Each part is
// skipped when a stopped run did it already.
func removeControlPlanes(ctx context.Context, s *applyState) error {
	e := s.res.Etcd
	if e.empty() {
		return nil
	}
	mc, err := s.d.membershipClient()
	if err != nil {
		return &fixFirst{err}
	}
	all := controlPlaneNodes(s.res.Observed)
	var witnesses []membership.Node
	for _, n := range all {
		if n.Addr != "" && !slices.Contains(e.Leaving, n.Name) && !slices.ContainsFunc(e.Dead, func(m membership.Member) bool { return m.Name == n.Name }) {
			witnesses = append(witnesses, n)
		}
	}
	for _, m := range e.Dead {
		fmt.Fprintf(s.w, "Removing etcd member %s (%s, %s) by ID...\n", m.Name, m.IDHex, m.Health)
		if err := mc.RemoveByID(ctx, m.Name, m.ID, witnesses); err != nil {
			return err
		}
		fmt.Fprintf(s.w, "  ✓ etcd member %s removed\n", m.Name)
	}
	if len(e.Leaving) == 0 {
		return nil
	}
	cs, err := s.kubeClient()
	if err != nil {
		return &fixFirst{fmt.Errorf("remove control planes %s: draining needs the cluster's API: %w", strings.Join(e.Leaving, ", "), err)}
	}
	s.d.Client.SetPhase("apply")
	for _, name := range e.Leaving {
		i := slices.IndexFunc(all, func(n membership.Node) bool { return n.Name == name })
		o := s.res.Observed.Get(infra.Ref{Kind: infra.KindServer, Name: name})
		if i < 0 || o == nil {
			return fmt.Errorf("control plane %s vanished from the observed servers", name)
		}
		if err := drainNode(ctx, cs, name, s.d, s.w); err != nil {
			return err
		}
		if err := infra.RetireControlPlane(ctx, s.d.Client, o); err != nil {
			return err
		}
		fmt.Fprintf(s.w, "  ✓ %s is out of the API load balancer's targets\n", name)
		if err := mc.Leave(ctx, all[i], witnesses); err != nil {
			return err
		}
		fmt.Fprintf(s.w, "  ✓ %s left etcd\n", name)
	}
	return nil
}

// kubeClient is the cluster's API from the kubeconfig apply wrote, made once.
func (s *applyState) kubeClient() (kubernetes.Interface, error) {
	if s.kube != nil {
		return s.kube, nil
	}
	cs, err := s.d.kubeClient()
	if err != nil {
		return nil, err
	}
	s.kube = cs
	return cs, nil
}
