package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// ErrNotConfirmed is returned when the user does not confirm a destroy.
var ErrNotConfirmed = errors.New("destroy not confirmed; nothing was deleted")

// DestroyResult says what destroy did and what is left.
type DestroyResult struct {
	Deleted []string
	Left    []string // resources still labelled with the cluster afterwards
	Kept    []string // resources deliberately kept (Talos snapshots)
}

// Destroy deletes every resource labelled cluster=<name> (except an existing
// network or firewall the file names by ID), after confirm approves the list. It
// ends by listing the cluster's resources again and reporting anything left.
func Destroy(ctx context.Context, d Deps, c *config.Cluster, confirm func(summary []string) bool) (*DestroyResult, error) {
	d = d.withSerialProgress()
	w := d.progress()
	d.Client.SetPhase("observe")
	observed, err := infra.Observe(ctx, d.Client, c)
	if err != nil {
		return nil, err
	}
	if err := addAutoscaledServers(ctx, d, c, observed); err != nil {
		return nil, err
	}
	desired, err := infra.Desire(c, infra.Inputs{})
	if err != nil {
		return nil, err
	}
	p := infra.DestroyPlan(observed, desired.ManagedSubnets)
	var summary []string
	for _, ch := range p.Changes {
		summary = append(summary, ch.Observed.String())
	}
	res := &DestroyResult{}
	if len(summary) == 0 {
		fmt.Fprintf(w, "Nothing labelled cluster=%s exists.\n", c.Cluster.Name)
	} else {
		if !confirm(summary) {
			return nil, ErrNotConfirmed
		}
		fmt.Fprintf(w, "Destroying %d resources of cluster %s...\n", len(summary), c.Cluster.Name)
		d.Client.SetPhase("destroy")
		ex := &infra.Executor{Client: d.Client, Reporter: &reporter{w: w}, Now: d.Now}
		if err := ex.Apply(ctx, p, infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, infra.Cloud{}), observed); err != nil {
			return nil, fmt.Errorf("destroy stopped (run it again to continue):\n%w", err)
		}
		res.Deleted = summary
	}
	d.Client.SetPhase("verify")
	inv, err := d.Client.Inventory(ctx, layout.ClusterSelector(c.Cluster.Name))
	if err != nil {
		return res, fmt.Errorf("check what is left: %w", err)
	}
	left := infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, infra.CloudFromInventory(inv))
	for _, r := range left.Sorted() {
		if r.Kind != infra.KindSubnet && !r.External {
			res.Left = append(res.Left, r.String())
		}
	}
	for _, s := range inv.Snapshots {
		res.Kept = append(res.Kept, fmt.Sprintf("snapshot %d (%s)", s.ID, s.Description))
	}
	if len(res.Left) > 0 {
		return res, fmt.Errorf("destroy finished but these are left: %s", strings.Join(res.Left, ", "))
	}
	return res, nil
}

// addAutoscaledServers adds the servers the cluster autoscaler created, when
// addons.clusterAutoscaler.cleanupEnabled asks for it (module: the
// hcloud/node-group cleanup). They carry hcloud/node-group=<cluster>-<pool>, not
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
	extra := infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, infra.Cloud{Servers: servers})
	for ref, r := range extra.Resources {
		observed.Resources[ref] = r
	}
	return nil
}
