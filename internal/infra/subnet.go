package infra

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// KindSubnet is a cloud subnet of the network.
const KindSubnet Kind = "subnet"

// SubnetSpec is a cloud subnet of the network.
type SubnetSpec struct {
	Network     string       `json:"network"` // network name
	IPRange     netip.Prefix `json:"ipRange"`
	NetworkZone string       `json:"networkZone"`
	Purpose     string       `json:"purpose"` // control-plane, load-balancer, worker-shared, ... (for plan output)
}

// subnetKind: Hetzner subnets have no ID, name or labels of their own; they are
// named by their IP range and belong to the network they are in.
type subnetKind struct{}

func (subnetKind) about() kindInfo {
	return kindInfo{kind: KindSubnet, title: "subnet", order: 1, quiet: true, destroyAfter: []Kind{KindServer, KindLoadBalancer}}
}

func (subnetKind) observe(s *State, c *Cloud) {
	for _, n := range c.Networks {
		for _, sn := range n.Subnets {
			p := prefixOf(sn.IPRange)
			s.add(&Resource{Kind: KindSubnet, Name: p.String(), Subnet: &SubnetSpec{
				Network: networkName(s.Cluster, n), IPRange: p, NetworkZone: string(sn.NetworkZone), Purpose: string(sn.Type),
			}})
		}
	}
}

// subnetRanges lists the subnets observed so far, for finding which one a server
// or load balancer is attached to.
func (s *State) subnetRanges() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range s.Sorted() {
		if r.Subnet != nil {
			out = append(out, r.Subnet.IPRange)
		}
	}
	return out
}

// observeAttached adds what may be attached to one of the subnets observed so far,
// converted by convert, which finds the subnet.
func observeAttached[T any](s *State, items []*T, convert func(*T, []netip.Prefix) *Resource) {
	subnets := s.subnetRanges()
	for _, it := range items {
		s.add(convert(it, subnets))
	}
}

// subnetOf returns the subnet of subnets that holds ip, or the zero prefix.
func subnetOf(subnets []netip.Prefix, ip netip.Addr) netip.Prefix {
	var in netip.Prefix
	for _, p := range subnets {
		if p.Contains(ip) {
			in = p
		}
	}
	return in
}

func (subnetKind) compare(c *comparison, d, o *Resource) {
	if d.Subnet.NetworkZone != o.Subnet.NetworkZone {
		c.problem("is in network zone %s, the cluster file needs %s", o.Subnet.NetworkZone, d.Subnet.NetworkZone)
	}
}

func hcloudSubnet(s *SubnetSpec) hcloud.NetworkSubnet {
	return hcloud.NetworkSubnet{Type: hcloud.NetworkSubnetTypeCloud, IPRange: ipNet(s.IPRange), NetworkZone: hcloud.NetworkZone(s.NetworkZone)}
}

// create adds the subnet to its network, unless the network's create request
// already did.
func (subnetKind) create(ctx context.Context, r *run, d *Resource) error {
	if r.isCreatedWithNetwork(d.Ref()) {
		return nil
	}
	netID := r.id(Ref{KindNetwork, d.Subnet.Network})
	if netID == 0 {
		return fmt.Errorf("network %s does not exist", d.Subnet.Network)
	}
	var a *hcloud.Action
	err := r.call(ctx, "add subnet "+d.Name, func(ctx context.Context) error {
		var err error
		a, _, err = r.api().Network.AddSubnet(ctx, &hcloud.Network{ID: netID}, hcloud.NetworkAddSubnetOpts{Subnet: hcloudSubnet(d.Subnet)})
		return err
	})
	if err != nil {
		return err
	}
	return r.wait(ctx, a)
}

func (subnetKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	netID := r.id(Ref{KindNetwork, o.Subnet.Network})
	return actionOf(r.api().Network.DeleteSubnet(ctx, &hcloud.Network{ID: netID}, hcloud.NetworkDeleteSubnetOpts{Subnet: hcloud.NetworkSubnet{IPRange: ipNet(o.Subnet.IPRange)}}))
}

// deletable: a subnet someone added for their own servers (the module leaves the
// network's first quarter free for that) is never ours to delete.
func (subnetKind) deletable(desired *State, o *Resource) bool {
	return slices.Contains(desired.ManagedSubnets, o.Subnet.IPRange)
}

// spareOnDestroy: subnets go with the cluster's own network; in an existing
// network only the cluster's own subnets are deleted.
func (subnetKind) spareOnDestroy(s destroyScope, o *Resource) bool {
	return !s.external[Ref{KindNetwork, o.Subnet.Network}] || !slices.Contains(s.managed, o.Subnet.IPRange)
}

func (subnetKind) references(r *Resource) []Ref { return []Ref{{KindNetwork, r.Subnet.Network}} }

func (subnetKind) describe(r *Resource) string {
	return fmt.Sprintf("subnet %s (%s)", r.Name, r.Subnet.Purpose)
}

func (subnetKind) createReason(d *Resource) string { return "subnet for " + d.Subnet.Purpose }

func (subnetKind) attributes(r *Resource) map[string]any {
	return map[string]any{"ipRange": r.Subnet.IPRange.String(), "networkZone": r.Subnet.NetworkZone, "purpose": r.Subnet.Purpose}
}
