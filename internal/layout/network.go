package layout

import (
	"errors"
	"fmt"
	"net/netip"
)

// PodNodeMaskSize is the fixed prefix length of each node's pod range
// (network.tf); the default node subnet mask size is derived from it.
const PodNodeMaskSize = 24

// MaxNodeSubnetMaskSize is the longest node subnet prefix that still holds
// the fixed host offsets the module uses (cidrhost(load balancer, -4)).
const MaxNodeSubnetMaskSize = 30

// MaxNodeSubnetBits bounds the number of node-size subnets in one half of
// the node CIDR to 2^MaxNodeSubnetBits. The module has no such limit, but it
// lists every pinned worker subnet, and a /8 network cut into /30s would make
// that list millions long; Hetzner allows a few dozen subnets per network,
// so no real layout comes close.
const MaxNodeSubnetBits = 16

// NetworkInput holds the module's network variables. A zero netip.Prefix or
// a zero NodeSubnetMaskSize means "not set": the module's default formula
// applies.
type NetworkInput struct {
	Network           netip.Prefix // network_ipv4_cidr (or the existing network's ip_range); required
	NodeCIDR          netip.Prefix // network_node_ipv4_cidr
	ServiceCIDR       netip.Prefix // network_service_ipv4_cidr
	PodCIDR           netip.Prefix // network_pod_ipv4_cidr
	NativeRoutingCIDR netip.Prefix // network_native_routing_ipv4_cidr

	NodeSubnetMaskSize int  // network_node_ipv4_subnet_mask_size
	BareMetal          bool // any bare_metal_nodepools: native routing defaults to the pod CIDR
}

// Network is the resolved layout (network.tf, load_balancer.tf; see
// docs/terraform-parity.md, "Network layout" and "Fixed private addresses").
// Every prefix is canonical (no host bits).
type Network struct {
	Network, Node, Service, Pod, NativeRouting netip.Prefix

	// NodeSubnetMaskSize is the prefix length of every node subnet below.
	NodeSubnetMaskSize int
	// Gateway is the Hetzner network gateway, cidrhost(network, 1).
	Gateway netip.Addr

	ControlPlane     netip.Prefix // hcloud_network_subnet.control_plane
	LoadBalancer     netip.Prefix // hcloud_network_subnet.load_balancer
	WorkerShared     netip.Prefix // hcloud_network_subnet.worker_shared
	AutoscalerShared netip.Prefix // hcloud_network_subnet.cluster_autoscaler_shared
	BareMetalShared  netip.Prefix // hcloud_network_subnet.bare_metal_shared (vSwitch)
	LegacyAutoscaler netip.Prefix // hcloud_network_subnet.autoscaler: last node-size subnet of the node CIDR

	// PinnedWorker lists, in module order, the values a worker or
	// autoscaler pool may give as `subnet` (network_pinned_worker_ipv4_cidrs).
	PinnedWorker []netip.Prefix

	ControlPlaneVIP       netip.Addr // private alias-IP VIP, cidrhost(control plane, -2)
	KubeAPILoadBalancerIP netip.Addr // cidrhost(load balancer, -2)
	IngressLoadBalancerIP netip.Addr // single ingress LB, cidrhost(load balancer, -4)
	BareMetalGateway      netip.Addr // vSwitch gateway, cidrhost(bare metal, 1)
}

// ComputeNetwork resolves in with the module's formulas. It returns an error
// naming the offending input when the ranges are malformed or too small to
// hold the layout; it never panics.
func ComputeNetwork(in NetworkInput) (Network, error) {
	var n Network
	var err error

	if in.Network == (netip.Prefix{}) {
		return Network{}, errors.New("network CIDR is required")
	}
	if err := checkIPv4CIDR("network CIDR", in.Network); err != nil {
		return Network{}, err
	}
	n.Network = in.Network
	p := n.Network.Bits()

	// Node CIDR: coalesce(var, cidrsubnet(N, 3, 2)).
	if in.NodeCIDR != (netip.Prefix{}) {
		if err := checkIPv4CIDR("node CIDR", in.NodeCIDR); err != nil {
			return Network{}, err
		}
		if in.NodeCIDR.Bits() < p || !n.Network.Contains(in.NodeCIDR.Addr()) {
			return Network{}, fmt.Errorf("node CIDR %s is not inside network %s; Hetzner subnets must lie within the network", in.NodeCIDR, n.Network)
		}
		n.Node = in.NodeCIDR
	} else if n.Node, err = CIDRSubnet(n.Network, 3, 2); err != nil {
		return Network{}, fmt.Errorf("network %s is too small for the default node CIDR (a /%d, one eighth of the network): %w", n.Network, p+3, err)
	}

	// Service CIDR: newbits = max(3, 12-p), netnum = 3*2^(newbits-3), which
	// keeps the service range at most a /12 (Kubernetes 1.33+).
	if in.ServiceCIDR != (netip.Prefix{}) {
		if err := checkIPv4CIDR("service CIDR", in.ServiceCIDR); err != nil {
			return Network{}, err
		}
		n.Service = in.ServiceCIDR
	} else {
		newbits := max(3, 12-p)
		if n.Service, err = CIDRSubnet(n.Network, newbits, 3<<(newbits-3)); err != nil {
			return Network{}, fmt.Errorf("network %s is too small for the default service CIDR: %w", n.Network, err)
		}
	}

	// Pod CIDR: coalesce(var, cidrsubnet(N, 1, 1)).
	if in.PodCIDR != (netip.Prefix{}) {
		if err := checkIPv4CIDR("pod CIDR", in.PodCIDR); err != nil {
			return Network{}, err
		}
		n.Pod = in.PodCIDR
	} else if n.Pod, err = CIDRSubnet(n.Network, 1, 1); err != nil {
		return Network{}, fmt.Errorf("network %s is too small for the default pod CIDR: %w", n.Network, err)
	}

	// Native routing CIDR: var ?? (bare metal ? pod : network).
	switch {
	case in.NativeRoutingCIDR != (netip.Prefix{}):
		if err := checkIPv4CIDR("native routing CIDR", in.NativeRoutingCIDR); err != nil {
			return Network{}, err
		}
		n.NativeRouting = in.NativeRoutingCIDR
	case in.BareMetal:
		n.NativeRouting = n.Pod
	default:
		n.NativeRouting = n.Network
	}

	if n.Gateway, err = CIDRHost(n.Network, 1); err != nil {
		return Network{}, fmt.Errorf("network %s has no room for a gateway: %w", n.Network, err)
	}

	// Node subnet mask: coalesce(var, 32 - (24 - prefix(pod))).
	nodeBits := n.Node.Bits()
	m := in.NodeSubnetMaskSize
	if m == 0 {
		m = 32 - (PodNodeMaskSize - n.Pod.Bits())
		if m > 32 {
			return Network{}, fmt.Errorf("pod CIDR %s is smaller than the /%d each node needs, so no default node subnet mask size can be derived from it (it would be /%d); use a larger pod CIDR", n.Pod, PodNodeMaskSize, m)
		}
	} else if m < 0 || m > 32 {
		return Network{}, fmt.Errorf("node subnet mask size %d is not a valid IPv4 prefix length (0-32)", m)
	}
	if m > MaxNodeSubnetMaskSize {
		origin := "node subnet mask size"
		if in.NodeSubnetMaskSize == 0 {
			origin = fmt.Sprintf("default node subnet mask size (derived from pod CIDR %s)", n.Pod)
		}
		return Network{}, fmt.Errorf("%s /%d is too long: the load-balancer subnet needs at least 4 addresses for the kube-API (host -2) and ingress (host -4) load balancer IPs, so it must be /%d or shorter", origin, m, MaxNodeSubnetMaskSize)
	}
	if m < nodeBits {
		return Network{}, fmt.Errorf("node subnet mask size /%d is smaller than the node CIDR prefix /%d (%s); node subnets must fit inside the node CIDR", m, nodeBits, n.Node)
	}
	// The worker half is split in two quarters, and the first quarter must
	// hold the worker-shared and autoscaler-shared subnets: m >= prefix+3.
	// That also leaves the internal half (2^(m-prefix-1) >= 4 subnets) room
	// for the control-plane and load-balancer subnets plus at least one
	// pinned subnet, even when the first one is skipped.
	if m < nodeBits+3 {
		return Network{}, fmt.Errorf("node CIDR %s is too small for /%d node subnets: it must hold at least 8 of them (control plane, load balancer, shared worker and autoscaler subnets, ...), so the mask size must be at least /%d", n.Node, m, nodeBits+3)
	}
	if m-nodeBits-1 > MaxNodeSubnetBits {
		return Network{}, fmt.Errorf("node subnet mask size /%d cuts node CIDR %s into %d subnets per half; at most %d are supported", m, n.Node, uint64(1)<<(m-nodeBits-1), 1<<MaxNodeSubnetBits)
	}
	n.NodeSubnetMaskSize = m

	// skip is 1 when the first node subnet holds the network gateway.
	skip := int64(n.firstPinnedIndex() - 2)

	// The first half of the node CIDR holds the control-plane, load-balancer
	// and pinned worker subnets, the second half the shared ones. Nothing
	// below can fail after the checks above, but errors are still returned
	// rather than ignored.
	nodeInternal, err := CIDRSubnet(n.Node, 1, 0)
	if err != nil {
		return Network{}, err
	}
	workerHalf, err := CIDRSubnet(n.Node, 1, 1)
	if err != nil {
		return Network{}, err
	}
	nb := m - nodeInternal.Bits()
	if n.ControlPlane, err = CIDRSubnet(nodeInternal, nb, 0+skip); err != nil {
		return Network{}, err
	}
	if n.LoadBalancer, err = CIDRSubnet(nodeInternal, nb, 1+skip); err != nil {
		return Network{}, err
	}
	total := int64(1) << nb
	n.PinnedWorker = make([]netip.Prefix, 0, total-2-skip)
	for i := 2 + skip; i < total; i++ {
		s, err := CIDRSubnet(nodeInternal, nb, i)
		if err != nil {
			return Network{}, err
		}
		n.PinnedWorker = append(n.PinnedWorker, s)
	}

	workerInternal, err := CIDRSubnet(workerHalf, 1, 0)
	if err != nil {
		return Network{}, err
	}
	workerExternal, err := CIDRSubnet(workerHalf, 1, 1)
	if err != nil {
		return Network{}, err
	}
	wnb := m - workerInternal.Bits()
	if n.WorkerShared, err = CIDRSubnet(workerInternal, wnb, 0); err != nil {
		return Network{}, err
	}
	if n.AutoscalerShared, err = CIDRSubnet(workerInternal, wnb, 1); err != nil {
		return Network{}, err
	}
	if n.BareMetalShared, err = CIDRSubnet(workerExternal, wnb, 0); err != nil {
		return Network{}, err
	}
	lnb := m - nodeBits
	if n.LegacyAutoscaler, err = CIDRSubnet(n.Node, lnb, int64(1)<<lnb-1); err != nil {
		return Network{}, err
	}

	if n.ControlPlaneVIP, err = CIDRHost(n.ControlPlane, -2); err != nil {
		return Network{}, err
	}
	if n.KubeAPILoadBalancerIP, err = CIDRHost(n.LoadBalancer, -2); err != nil {
		return Network{}, err
	}
	if n.IngressLoadBalancerIP, err = CIDRHost(n.LoadBalancer, -4); err != nil {
		return Network{}, err
	}
	if n.BareMetalGateway, err = CIDRHost(n.BareMetalShared, 1); err != nil {
		return Network{}, err
	}
	return n, nil
}

// checkIPv4CIDR rejects anything but a canonical IPv4 prefix. The module
// passes these strings to Hetzner and Talos verbatim, and both want the
// network address, so a prefix with host bits set is an error here rather
// than something to mask silently.
func checkIPv4CIDR(what string, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("%s %s is not a valid CIDR prefix", what, p)
	}
	if !p.Addr().Is4() {
		return fmt.Errorf("%s %s must be IPv4", what, p)
	}
	if p.Masked() != p {
		return fmt.Errorf("%s %s has host bits set; the network address is %s", what, p, p.Masked())
	}
	return nil
}

// IngressPoolLoadBalancerIP is the private IP of an ingress pool load
// balancer: cidrhost(load balancer subnet, -5 - globalIndex), where
// globalIndex is the 0-based index of the load balancer within its pool plus
// the counts of all previous pools. The first pool LB thus gets the address
// below the single ingress LB's, and the rest count downwards.
func (n Network) IngressPoolLoadBalancerIP(globalIndex int) (netip.Addr, error) {
	if globalIndex < 0 {
		return netip.Addr{}, fmt.Errorf("ingress load balancer index %d is negative", globalIndex)
	}
	a, err := CIDRHost(n.LoadBalancer, -5-int64(globalIndex))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("load balancer subnet %s has no room for ingress load balancer #%d: %w", n.LoadBalancer, globalIndex+1, err)
	}
	return a, nil
}

// PinnedWorkerIP is the private IP of server index (0-based within its pool)
// of a worker pool with a pinned subnet: cidrhost(subnet, index+1).
func PinnedWorkerIP(subnet netip.Prefix, index int) (netip.Addr, error) {
	if index < 0 {
		return netip.Addr{}, fmt.Errorf("server index %d is negative", index)
	}
	a, err := CIDRHost(subnet, int64(index)+1)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("subnet %s has no room for server #%d: %w", subnet, index+1, err)
	}
	return a, nil
}

// IsPinnedWorkerSubnet reports whether p is one of n.PinnedWorker, i.e. a
// value a worker or autoscaler pool may give as its `subnet`. p must be
// written exactly as the module prints it (canonical, node subnet size).
func (n Network) IsPinnedWorkerSubnet(p netip.Prefix) bool {
	if !p.IsValid() || !p.Addr().Is4() || !n.Node.IsValid() || !n.Node.Addr().Is4() {
		return false
	}
	nodeInternal := netip.PrefixFrom(n.Node.Addr(), n.Node.Bits()+1)
	m := n.NodeSubnetMaskSize
	if !nodeInternal.IsValid() || m <= nodeInternal.Bits() || m > 32 {
		return false
	}
	if p.Bits() != m || p.Masked() != p || !nodeInternal.Contains(p.Addr()) {
		return false
	}
	index := (ipv4Uint(p.Addr()) - ipv4Uint(nodeInternal.Addr())) >> (32 - m)
	return index >= uint32(n.firstPinnedIndex())
}

// firstPinnedIndex is the index, among the node subnets of the first half
// of the node CIDR, of the first pinned worker subnet: 2 after the
// control-plane and load-balancer subnets, or 3 when the node CIDR starts at
// the network address (the module's "skip", cidrhost(N, 0) ==
// cidrhost(node, 0)), because that first subnet holds the network gateway.
func (n Network) firstPinnedIndex() int {
	if n.Network.Addr() == n.Node.Addr() {
		return 3
	}
	return 2
}

// CheckBareMetalPrivateIP reports why a is not a usable bare-metal server
// IP (variables.tf): it must lie in the bare-metal shared subnet and be
// neither the subnet address, the vSwitch gateway (host 1) nor the
// broadcast address.
func (n Network) CheckBareMetalPrivateIP(a netip.Addr) error {
	s := n.BareMetalShared
	if !a.Is4() || !s.IsValid() || !s.Contains(a) {
		return fmt.Errorf("%s is not inside the bare-metal subnet %s", a, s)
	}
	broadcast, err := CIDRHost(s, -1)
	if err != nil {
		return err
	}
	switch a {
	case s.Addr():
		return fmt.Errorf("%s is the network address of the bare-metal subnet %s", a, s)
	case n.BareMetalGateway:
		return fmt.Errorf("%s is the vSwitch gateway of the bare-metal subnet %s", a, s)
	case broadcast:
		return fmt.Errorf("%s is the broadcast address of the bare-metal subnet %s", a, s)
	}
	return nil
}

func ipv4Uint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
