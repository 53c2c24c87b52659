package config

import (
	"fmt"
	"net/netip"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// This file resolves the module's nullable variables (pointer fields) to the values
// the module derives for them (docs/terraform-parity.md, "Derived defaults"), so
// callers never re-derive them.

// Layout computes the network layout. On a validated file it cannot fail.
func (c *Cluster) Layout() (layout.Network, error) {
	in := layout.NetworkInput{}
	var err error
	parse := func(s string) netip.Prefix {
		if s == "" || err != nil {
			return netip.Prefix{}
		}
		var p netip.Prefix
		p, err = netip.ParsePrefix(s)
		return p
	}
	in.Network = parse(c.Network.IPv4CIDR)
	in.NodeCIDR = parse(c.Network.NodeIPv4CIDR)
	in.ServiceCIDR = parse(c.Network.ServiceIPv4CIDR)
	in.PodCIDR = parse(c.Network.PodIPv4CIDR)
	in.NativeRoutingCIDR = parse(c.Network.NativeRoutingIPv4CIDR)
	if err != nil {
		return layout.Network{}, fmt.Errorf("network: %w", err)
	}
	if m := c.Network.NodeIPv4SubnetMaskSize; m != nil {
		in.NodeSubnetMaskSize = *m
	}
	return layout.ComputeNetwork(in)
}

// ControlPlaneCount is the module's control_plane_sum.
func (c *Cluster) ControlPlaneCount() int {
	n := 0
	for _, p := range c.ControlPlaneNodepools {
		n += p.Count
	}
	return n
}

// WorkerCount is the module's worker_sum: static workers (bare metal is not supported).
func (c *Cluster) WorkerCount() int {
	n := 0
	for _, p := range c.WorkerNodepools {
		n += p.Count
	}
	return n
}

// AutoscalerMaxCount is the module's cluster_autoscaler_max_sum: the maximum size of
// the autoscaler pools that ordinary workloads can use (pools without taints).
func (c *Cluster) AutoscalerMaxCount() int {
	n := 0
	for _, p := range c.AutoscalerNodepools {
		if len(p.Taints) == 0 {
			n += p.Max
		}
	}
	return n
}

// AllowSchedulingOnControlPlanes resolves cluster.allowSchedulingOnControlPlanes:
// unset means true exactly when nothing else could run workloads.
func (c *Cluster) AllowSchedulingOnControlPlanes() bool {
	if p := c.Cluster.AllowSchedulingOnControlPlanes; p != nil {
		return *p
	}
	return c.WorkerCount()+c.AutoscalerMaxCount() == 0
}

// KubeAPILoadBalancerPublic resolves kubeAPI.loadBalancer.publicNetworkEnabled.
func (c *Cluster) KubeAPILoadBalancerPublic() bool {
	if p := c.KubeAPI.LoadBalancer.PublicNetworkEnabled; p != nil {
		return *p
	}
	return c.Cluster.Access == "public"
}

// PublicVIPEnabled reports whether a public floating-IP VIP is used
// (docs/terraform-parity.md, "Floating IP and VIPs").
func (c *Cluster) PublicVIPEnabled() bool {
	return c.Talos.PublicIPv4Enabled && (c.ControlPlane.PublicVIPIPv4ID != 0 || c.ControlPlane.PublicVIPIPv4Enabled)
}
