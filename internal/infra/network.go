package infra

import (
	"context"
	"net/netip"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindNetwork is the cluster's private network.
const KindNetwork Kind = "network"

// NetworkSpec is the cluster's private network.
type NetworkSpec struct {
	IPRange               netip.Prefix `json:"ipRange"`
	ExposeRoutesToVSwitch bool         `json:"exposeRoutesToVSwitch"`
	DeleteProtection      bool         `json:"deleteProtection"`
}

// networkKind: apply never deletes a network (destroy does, once nothing is
// attached to it), and an existing network named by ID is used, never changed.
type networkKind struct{}

func (networkKind) about() kindInfo {
	return kindInfo{kind: KindNetwork, title: "network", order: 0, quiet: true, destroyAfter: []Kind{KindServer, KindLoadBalancer}}
}

func (networkKind) observe(s *State, c *Cloud) {
	for _, n := range c.Networks {
		s.add(&Resource{Kind: KindNetwork, Name: networkName(s.Cluster, n), External: isExternalNetwork(s.Cluster, n), ID: n.ID, Labels: n.Labels, Protected: n.Protection.Delete,
			Network: &NetworkSpec{IPRange: prefixOf(n.IPRange), ExposeRoutesToVSwitch: n.ExposeRoutesToVSwitch, DeleteProtection: n.Protection.Delete}})
	}
}

func (networkKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.Network.GetByName, name, &c.Networks)
}

// isExternalNetwork tells an existing network named by ID in the cluster file
// (network.existingNetworkID) from the cluster's own: it has neither our name nor
// our label.
func isExternalNetwork(cluster string, n *hcloud.Network) bool {
	return n.Name != layout.NetworkName(cluster) && n.Labels[layout.LabelCluster] != cluster
}

// networkName is the name a network goes by in the model: an external network is
// known by ID, not by our name, but stands where the cluster's network would.
func networkName(cluster string, n *hcloud.Network) string {
	if isExternalNetwork(cluster, n) {
		return layout.NetworkName(cluster)
	}
	return n.Name
}

func (networkKind) compare(c *comparison, d, o *Resource) {
	if d.Network.IPRange != o.Network.IPRange {
		c.problem("IP range is %s in Hetzner but %s in the cluster file; a network's range cannot be changed in place", o.Network.IPRange, d.Network.IPRange)
	}
	c.protection(d.Network.DeleteProtection)
	if want := d.Network.ExposeRoutesToVSwitch; want != o.Network.ExposeRoutesToVSwitch {
		c.update("exposeRoutesToVSwitch", o.Network.ExposeRoutesToVSwitch, want, plain("update network", func(ctx context.Context, t *target) error {
			return errOf(t.api().Network.Update(ctx, &hcloud.Network{ID: t.id}, hcloud.NetworkUpdateOpts{ExposeRoutesToVSwitch: hcloud.Ptr(want)}))
		}))
	}
}

func (networkKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.Network.Update(ctx, &hcloud.Network{ID: id}, hcloud.NetworkUpdateOpts{Labels: labels}))
}

func (networkKind) protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error) {
	return actionOf(api.Network.ChangeProtection(ctx, &hcloud.Network{ID: id}, hcloud.NetworkChangeProtectionOpts{Delete: hcloud.Ptr(on)}))
}

// create puts the subnets planned for this network into the create request: one
// call instead of one add_subnet action each.
func (networkKind) create(ctx context.Context, r *run, d *Resource) error {
	opts := hcloud.NetworkCreateOpts{Name: d.Name, IPRange: ipNet(d.Network.IPRange), Labels: d.Labels, ExposeRoutesToVSwitch: d.Network.ExposeRoutesToVSwitch}
	var subnets []Ref
	for _, c := range r.plan.Changes {
		if c.Action == ActionCreate && c.Desired.Subnet != nil && c.Desired.Subnet.Network == d.Name {
			opts.Subnets = append(opts.Subnets, hcloudSubnet(c.Desired.Subnet))
			subnets = append(subnets, c.Ref)
		}
	}
	return createOne(ctx, r, d, r.api().Network.Create, opts, func(n *hcloud.Network) error {
		r.createdWithNetwork(subnets...)
		return r.created(ctx, d, n.ID, Cloud{Networks: []*hcloud.Network{n}})
	})
}

func (networkKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().Network.Delete(ctx, &hcloud.Network{ID: o.ID}))
}

func (networkKind) attributes(r *Resource) map[string]any {
	return map[string]any{"ipRange": r.Network.IPRange.String(), "deleteProtection": r.Network.DeleteProtection}
}
