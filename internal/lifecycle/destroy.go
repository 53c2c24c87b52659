package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/procedure"
)

// ErrNotConfirmed is returned when the user does not confirm a destroy.
var ErrNotConfirmed = errors.New("destroy not confirmed; nothing was deleted")

// DestroyResult says what destroy did and what is left.
type DestroyResult struct {
	Deleted []string
	Left    []string // resources still labelled with the cluster afterwards
	Kept    []string // resources deliberately kept (Talos snapshots, volumes with --keep-volumes)
}

// Destroy deletes every resource labelled cluster=<name> (except an existing
// network or firewall the file names by ID), after confirm approves the list. It
// ends by listing the cluster's resources again and reporting anything left.
func Destroy(ctx context.Context, d Deps, c *config.Cluster, confirm func(summary []string) bool) (*DestroyResult, error) {
	d = d.withDefaults()
	s := &destroyState{d: d, c: c, w: d.progress(), confirm: confirm}
	_, err := procedure.Run(ctx, d.runner("destroy"), destroySteps(), s)
	err = releaseLock(s.lock, err)
	if err != nil {
		if errors.Is(err, ErrNotConfirmed) {
			return nil, ErrNotConfirmed // the user's answer, not a failure of a step
		}
		return s.result, withResumeHint("destroy", "Nothing was restored", err)
	}
	if len(s.result.Left) > 0 {
		return s.result, fmt.Errorf("destroy finished but these are left: %s", strings.Join(s.result.Left, ", "))
	}
	return s.result, nil
}

// destroyState is what destroy's steps share.
type destroyState struct {
	d       Deps
	lock    *lock.Lock
	kube    kubernetes.Interface // the cluster's API, when reachable
	kept    []string             // what destroy keeps on purpose (--keep-volumes)
	c       *config.Cluster
	w       io.Writer
	confirm func(summary []string) bool
	// observed and plan are what is deleted, summary how it is shown.
	observed *infra.State
	plan     *infra.Plan
	summary  []string
	// result is filled in by verify; nil until then.
	result *DestroyResult
}

// destroySteps is destroy, in order.
func destroySteps() []procedure.Step[destroyState] {
	return []procedure.Step[destroyState]{
		{Name: "lock", Run: func(ctx context.Context, s *destroyState) (err error) {
			s.lock, err = s.d.takeLock(ctx, s.c, "destroy")
			return err
		}},
		{Name: "observe", Run: observeForDestroy},
		{Name: "confirm", Run: confirmDestroy},
		{Name: "release", Run: releaseClusterResources},
		{Name: "delete", Run: deleteResources},
		{Name: "verify", Run: verifyDestroyed},
	}
}

// observeForDestroy finds everything of the cluster and plans its deletion.
func observeForDestroy(ctx context.Context, s *destroyState) error {
	s.d.Client.SetPhase("observe")
	observed, err := infra.Observe(ctx, s.d.Client, s.c)
	if err != nil {
		return err
	}
	if err := addAutoscaledServers(ctx, s.d, s.c, observed); err != nil {
		return err
	}
	if err := addCCMLoadBalancers(ctx, s.d, s.c, observed); err != nil {
		return err
	}
	if s.kube, err = clusterVolumes(ctx, s.d, s.c, observed, s.w); err != nil {
		return err
	}
	desired, err := infra.Desire(s.c, infra.Inputs{})
	if err != nil {
		return err
	}
	if s.d.KeepVolumes {
		// Servers are deleted with their volumes detached by Hetzner; the
		// volumes themselves stay, and verify lists them as kept.
		for ref, r := range observed.Resources {
			if r.Kind == infra.KindVolume {
				s.kept = append(s.kept, r.String()+" (--keep-volumes)")
				delete(observed.Resources, ref)
			}
		}
		sort.Strings(s.kept)
	}
	s.observed = observed
	s.plan = infra.DestroyPlan(observed, desired.ManagedSubnets)
	for _, ch := range s.plan.Changes {
		s.summary = append(s.summary, ch.Observed.String())
	}
	return nil
}

// confirmDestroy shows the list and asks; there is nothing to ask about when
// the list is empty.
func confirmDestroy(_ context.Context, s *destroyState) error {
	if len(s.summary) == 0 {
		fmt.Fprintf(s.w, "Nothing labelled cluster=%s exists.\n", s.c.Cluster.Name)
		return nil
	}
	if !s.confirm(s.summary) {
		return ErrNotConfirmed
	}
	return nil
}

func deleteResources(ctx context.Context, s *destroyState) error {
	if len(s.summary) == 0 {
		return nil
	}
	fmt.Fprintf(s.w, "Destroying %d resources of cluster %s...\n", len(s.summary), s.c.Cluster.Name)
	s.d.Client.SetPhase("destroy")
	ex := &infra.Executor{Client: s.d.Client, Reporter: &reporter{w: s.w}, Now: s.d.Clock.Now}
	if err := ex.Apply(ctx, s.plan, infra.FromCloud(s.c.Cluster.Name, s.c.Cluster.Domain, infra.Cloud{}), s.observed); err != nil {
		return err
	}
	return nil
}

// verifyDestroyed lists the cluster's resources again: what is left, and the
// snapshots destroy keeps on purpose.
func verifyDestroyed(ctx context.Context, s *destroyState) error {
	res := &DestroyResult{Deleted: s.summary}
	s.result = res
	s.d.Client.SetPhase("verify")
	inv, err := s.d.Client.Inventory(ctx, layout.ClusterSelector(s.c.Cluster.Name))
	if err != nil {
		return fmt.Errorf("check what is left: %w", err)
	}
	left := infra.FromCloud(s.c.Cluster.Name, s.c.Cluster.Domain, infra.CloudFromInventory(inv))
	for _, r := range left.Sorted() {
		if r.Kind != infra.KindSubnet && !r.External && !(s.d.KeepVolumes && r.Kind == infra.KindVolume) {
			res.Left = append(res.Left, r.String())
		}
	}
	res.Kept = append(res.Kept, s.kept...)
	for _, snap := range inv.Snapshots {
		res.Kept = append(res.Kept, fmt.Sprintf("snapshot %d (%s)", snap.ID, snap.Description))
	}
	return nil
}

// addAutoscaledServers adds the servers the cluster autoscaler created, when
// addons.clusterAutoscaler.cleanupEnabled asks for it (the module's
// hcloud/node-group cleanup, docs/terraform-parity.md). They carry hcloud/node-group=<cluster>-<pool>, not
// the cluster label, so they are found with a selector of their own.
func addAutoscaledServers(ctx context.Context, d Deps, c *config.Cluster, observed *infra.State) error {
	if !c.Addons.ClusterAutoscaler.CleanupEnabled || len(c.AutoscalerNodepools) == 0 {
		return nil
	}
	groups := make([]string, len(c.AutoscalerNodepools))
	for i, p := range c.AutoscalerNodepools {
		groups[i] = c.Cluster.Name + "-" + p.Name
	}
	sel := "hcloud/node-group in (" + strings.Join(groups, ",") + ")"
	var servers []*hcloud.Server
	err := d.Client.Retry(ctx, "list autoscaled servers ("+sel+")", func(ctx context.Context) error {
		var err error
		servers, err = d.Client.API().Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: sel, PerPage: 50}})
		return err
	})
	if err != nil {
		return err
	}
	addObserved(observed, c, infra.Cloud{Servers: servers})
	return nil
}

// ccmServiceLabel is the label the Hetzner cloud controller manager puts on
// every load balancer it makes for a Service of type LoadBalancer (its value
// is the Service's UID). It carries no cluster label.
const ccmServiceLabel = "hcloud-ccm/service-uid"

// addCCMLoadBalancers adds to observed the load balancers the cluster's CCM
// made, so that destroy leaves none behind (terraform destroy does). Such a
// load balancer is proven to be this cluster's by being attached to the
// cluster's network: the CCM attaches its load balancers to the network it
// was given (HCLOUD_NETWORK). One with the CCM's label in another network, or
// in none, may be another cluster's and is left alone.
func addCCMLoadBalancers(ctx context.Context, d Deps, c *config.Cluster, observed *infra.State) error {
	networks := map[int64]bool{}
	for _, r := range observed.Resources {
		if r.Kind == infra.KindNetwork && r.ID != 0 {
			networks[r.ID] = true
		}
	}
	if len(networks) == 0 {
		return nil
	}
	var lbs []*hcloud.LoadBalancer
	err := d.Client.Retry(ctx, "list the CCM's load balancers ("+ccmServiceLabel+")", func(ctx context.Context) error {
		var err error
		lbs, err = d.Client.API().LoadBalancer.AllWithOpts(ctx, hcloud.LoadBalancerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: ccmServiceLabel, PerPage: 50}})
		return err
	})
	if err != nil {
		return err
	}
	var ours []*hcloud.LoadBalancer
	for _, lb := range lbs {
		if slices.ContainsFunc(lb.PrivateNet, func(pn hcloud.LoadBalancerPrivateNet) bool { return pn.Network != nil && networks[pn.Network.ID] }) {
			ours = append(ours, lb)
		}
	}
	addObserved(observed, c, infra.Cloud{LoadBalancers: ours})
	return nil
}

// addObserved adds to observed the resources of found that it lacks: what
// destroy proved to be the cluster's although it carries no cluster label.
func addObserved(observed *infra.State, c *config.Cluster, found infra.Cloud) {
	for ref, r := range infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, found).Resources {
		if observed.Get(ref) == nil {
			observed.Resources[ref] = r
		}
	}
}
