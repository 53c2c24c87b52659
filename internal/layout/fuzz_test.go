package layout

import (
	"math/big"
	"net/netip"
	"testing"
)

// Flags of FuzzComputeNetwork selecting which inputs are set.
const (
	fuzzNode = 1 << iota
	fuzzService
	fuzzPod
	fuzzNativeRouting
	fuzzBareMetal
	fuzzIPv6     // build the network as IPv6
	fuzzNodeIn   // place the node address inside the network
	fuzzMasked   // clear host bits of every prefix
	fuzzFlagsAll = 0xff
)

// FuzzComputeNetwork proves that no input makes ComputeNetwork panic and that
// every layout it accepts is self-consistent.
func FuzzComputeNetwork(f *testing.F) {
	const ten = 0x0a000000
	f.Add(uint32(ten), int8(16), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 0, uint8(0))
	f.Add(uint32(ten), int8(17), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 0, uint8(0))
	f.Add(uint32(ten), int8(8), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 0, uint8(fuzzBareMetal))
	f.Add(uint32(ten), int8(16), uint32(ten), int8(19), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 25, uint8(fuzzNode))
	f.Add(uint32(ten), int8(16), uint32(ten|0x8000), int8(18), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 26, uint8(fuzzNode|fuzzNodeIn))
	f.Add(uint32(ten), int8(16), uint32(0), int8(0), uint32(0xac110000), int8(20), uint32(0xac100000), int8(16), uint32(ten), int8(8), 0, uint8(fuzzService|fuzzPod|fuzzNativeRouting))
	f.Add(uint32(ten), int8(24), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 0, uint8(0))
	f.Add(uint32(ten), int8(16), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 31, uint8(fuzzIPv6))
	f.Add(uint32(0), int8(0), uint32(0), int8(2), uint32(0), int8(0), uint32(0), int8(0), uint32(0), int8(0), 30, uint8(fuzzFlagsAll))

	f.Fuzz(func(t *testing.T, netA uint32, netBits int8, nodeA uint32, nodeBits int8,
		svcA uint32, svcBits int8, podA uint32, podBits int8, nrA uint32, nrBits int8,
		mask int, flags uint8,
	) {
		mk := func(a uint32, bits int8, v6 bool) netip.Prefix {
			addr := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
			if v6 {
				var b [16]byte
				b[0], b[1], b[2], b[3] = 0xfd, byte(a>>16), byte(a>>8), byte(a)
				addr = netip.AddrFrom16(b)
			}
			p := netip.PrefixFrom(addr, int(bits))
			if flags&fuzzMasked != 0 && p.IsValid() {
				p = p.Masked()
			}
			return p
		}
		in := NetworkInput{
			Network:            mk(netA, netBits, flags&fuzzIPv6 != 0),
			NodeSubnetMaskSize: mask,
			BareMetal:          flags&fuzzBareMetal != 0,
		}
		if flags&fuzzNode != 0 {
			if flags&fuzzNodeIn != 0 && netBits >= 0 && netBits <= 32 {
				hostMask := uint32(0xffffffff)
				if netBits > 0 {
					hostMask = ^(uint32(0xffffffff) << (32 - uint(netBits)))
				}
				nodeA = netA&^hostMask | nodeA&hostMask
			}
			in.NodeCIDR = mk(nodeA, nodeBits, false)
		}
		if flags&fuzzService != 0 {
			in.ServiceCIDR = mk(svcA, svcBits, false)
		}
		if flags&fuzzPod != 0 {
			in.PodCIDR = mk(podA, podBits, false)
		}
		if flags&fuzzNativeRouting != 0 {
			in.NativeRoutingCIDR = mk(nrA, nrBits, false)
		}

		n, err := ComputeNetwork(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkLayout(t, in, n)
	})
}

// checkLayout asserts the invariants of an accepted layout.
func checkLayout(t *testing.T, in NetworkInput, n Network) {
	t.Helper()
	m := n.NodeSubnetMaskSize
	canonical := func(name string, p netip.Prefix) {
		if !p.IsValid() || !p.Addr().Is4() || p.Masked() != p {
			t.Fatalf("%s = %v is not a canonical IPv4 prefix", name, p)
		}
	}
	for name, p := range map[string]netip.Prefix{
		"Network": n.Network, "Node": n.Node, "Service": n.Service, "Pod": n.Pod, "NativeRouting": n.NativeRouting,
	} {
		canonical(name, p)
	}
	if in.NodeCIDR.IsValid() && n.Node != in.NodeCIDR ||
		in.ServiceCIDR.IsValid() && n.Service != in.ServiceCIDR ||
		in.PodCIDR.IsValid() && n.Pod != in.PodCIDR ||
		in.NativeRoutingCIDR.IsValid() && n.NativeRouting != in.NativeRoutingCIDR {
		t.Fatalf("explicit input not kept: in %+v, out %+v", in, n)
	}
	if !in.NativeRoutingCIDR.IsValid() {
		want := n.Network
		if in.BareMetal {
			want = n.Pod
		}
		if n.NativeRouting != want {
			t.Fatalf("NativeRouting = %s, want %s", n.NativeRouting, want)
		}
	}
	if n.Node.Bits() < n.Network.Bits() || !n.Network.Contains(n.Node.Addr()) {
		t.Fatalf("node %s not inside network %s", n.Node, n.Network)
	}
	if m < n.Node.Bits()+3 || m > MaxNodeSubnetMaskSize {
		t.Fatalf("mask /%d out of range for node %s", m, n.Node)
	}
	if n.Gateway != n.Network.Addr().Next() {
		t.Fatalf("gateway %s is not the second address of %s", n.Gateway, n.Network)
	}

	fixed := map[string]netip.Prefix{
		"ControlPlane": n.ControlPlane, "LoadBalancer": n.LoadBalancer,
		"WorkerShared": n.WorkerShared, "AutoscalerShared": n.AutoscalerShared,
		"BareMetalShared": n.BareMetalShared, "LegacyAutoscaler": n.LegacyAutoscaler,
	}
	for name, p := range fixed {
		canonical(name, p)
		if p.Bits() != m || !n.Node.Contains(p.Addr()) {
			t.Fatalf("%s = %s is not a /%d inside node %s", name, p, m, n.Node)
		}
		if p.Contains(n.Gateway) {
			t.Fatalf("%s = %s contains the gateway %s", name, p, n.Gateway)
		}
		for other, q := range fixed {
			if other != name && p.Overlaps(q) {
				t.Fatalf("%s = %s overlaps %s = %s", name, p, other, q)
			}
		}
	}

	skip := 0
	if n.Network.Addr() == n.Node.Addr() {
		skip = 1
	}
	if want := 1<<(m-n.Node.Bits()-1) - 2 - skip; len(n.PinnedWorker) != want {
		t.Fatalf("%d pinned subnets, want %d", len(n.PinnedWorker), want)
	}
	for i, p := range n.PinnedWorker {
		if i >= 64 && i != len(n.PinnedWorker)-1 {
			continue // spot-check long lists
		}
		canonical("PinnedWorker", p)
		if p.Bits() != m || !n.Node.Contains(p.Addr()) || p.Contains(n.Gateway) {
			t.Fatalf("pinned %s is not a /%d inside node %s without the gateway", p, m, n.Node)
		}
		for name, q := range fixed {
			if p.Overlaps(q) {
				t.Fatalf("pinned %s overlaps %s = %s", p, name, q)
			}
		}
		if !n.IsPinnedWorkerSubnet(p) {
			t.Fatalf("IsPinnedWorkerSubnet(%s) = false for a listed subnet", p)
		}
	}
	for name, p := range fixed {
		if n.IsPinnedWorkerSubnet(p) {
			t.Fatalf("IsPinnedWorkerSubnet(%s = %s) = true", name, p)
		}
	}

	inside := map[netip.Addr]netip.Prefix{
		n.ControlPlaneVIP:       n.ControlPlane,
		n.KubeAPILoadBalancerIP: n.LoadBalancer,
		n.IngressLoadBalancerIP: n.LoadBalancer,
		n.BareMetalGateway:      n.BareMetalShared,
	}
	// The first pool load balancer is host -5, so it needs a /29 or larger.
	pool0, err := n.IngressPoolLoadBalancerIP(0)
	if (err == nil) != (m <= 29) {
		t.Fatalf("IngressPoolLoadBalancerIP(0) in %s: %v", n.LoadBalancer, err)
	}
	if err == nil {
		inside[pool0] = n.LoadBalancer
	}
	for a, p := range inside {
		if !p.Contains(a) {
			t.Fatalf("%s is not inside %s", a, p)
		}
	}
}

// FuzzCIDRHost compares CIDRHost on IPv4 with plain uint64 arithmetic.
func FuzzCIDRHost(f *testing.F) {
	f.Add(uint32(0x0a000000), uint8(16), int64(1))
	f.Add(uint32(0x0a004080), uint8(25), int64(-2))
	f.Add(uint32(0), uint8(0), int64(-1))
	f.Add(uint32(0xffffffff), uint8(32), int64(0))
	f.Fuzz(func(t *testing.T, a uint32, bits uint8, hostnum int64) {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), int(bits))
		got, err := CIDRHost(p, hostnum)
		if bits > 32 {
			if err == nil {
				t.Fatalf("CIDRHost(%v) succeeded", p)
			}
			return
		}
		size := uint64(1) << (32 - bits)
		num := hostnum
		if num < 0 {
			num += int64(size)
		}
		if num < 0 || uint64(num) >= size {
			if err == nil {
				t.Fatalf("CIDRHost(%s, %d) = %s, want an error", p, hostnum, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("CIDRHost(%s, %d): %v", p, hostnum, err)
		}
		base := uint64(ipv4Uint(p.Masked().Addr()))
		if want := uint32(base + uint64(num)); ipv4Uint(got) != want {
			t.Fatalf("CIDRHost(%s, %d) = %s, want %d", p, hostnum, got, want)
		}
		sub, err := CIDRSubnetBig(p, 32-int(bits), big.NewInt(num))
		if err != nil || sub.Addr() != got || sub.Bits() != 32 {
			t.Fatalf("CIDRSubnet(%s, %d, %d) = %s, %v; want %s/32", p, 32-int(bits), num, sub, err, got)
		}
	})
}
