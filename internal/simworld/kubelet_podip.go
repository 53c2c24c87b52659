package simworld

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// podIPs hands out the addresses of a node's pod CIDR (assigned by the
// controller manager's node IPAM) to the pods that start there, as a CNI's
// host-scope IPAM does: every running pod of the node has its own.
type podIPs struct {
	cidr netip.Prefix
	ok   bool // the node has an IPv4 pod CIDR
	used map[netip.Addr]bool
}

// newPodIPs reads the node's pod CIDR and the addresses its pods hold.
func newPodIPs(node *corev1.Node, pods []*corev1.Pod) *podIPs {
	a := &podIPs{used: map[netip.Addr]bool{}}
	if node != nil {
		cidrs := append([]string{node.Spec.PodCIDR}, node.Spec.PodCIDRs...)
		for _, c := range cidrs {
			if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
				a.cidr, a.ok = p.Masked(), true
				break
			}
		}
	}
	for _, p := range pods {
		if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil {
			a.used[ip] = true
		}
	}
	return a
}

// next returns the lowest free address, skipping the network address, the
// first host address (the CNI's own interface on the node, the pods'
// gateway) and the broadcast address.
func (a *podIPs) next() (netip.Addr, bool) {
	if !a.ok {
		return netip.Addr{}, false
	}
	for ip := a.cidr.Addr().Next().Next(); a.cidr.Contains(ip.Next()); ip = ip.Next() {
		if !a.used[ip] {
			a.used[ip] = true
			return ip, true
		}
	}
	return netip.Addr{}, false
}
