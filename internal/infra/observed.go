package infra

import (
	"net"
	"net/netip"
	"strings"
)

// Conversions between the hcloud client's net types and the model's netip ones.

func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(n.String())
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

func addrOf(ip net.IP) netip.Addr {
	if ip == nil || ip.IsUnspecified() {
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

func ipNets(ns []net.IPNet) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

// canonicalCIDR writes an address or CIDR the way Hetzner returns it, so that desired
// and observed firewall rules compare equal: a bare address becomes a /32 or /128.
func canonicalCIDR(s string) string {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
