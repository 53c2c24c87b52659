package layout

import (
	"net/netip"
	"testing"
)

// wantNetwork is the expected layout, written out as text. Values come from
// the tables and worked examples of docs/terraform-parity.md ("Network
// layout", "Fixed private addresses") and from working the module's formulas
// by hand, never from the code under test.
type wantNetwork struct {
	network, node, service, pod, nativeRouting string
	mask                                       int
	gateway                                    string
	controlPlane, loadBalancer                 string
	workerShared, autoscalerShared             string
	bareMetal, legacyAutoscaler                string
	pinnedCount                                int
	pinnedFirst, pinnedLast                    string
	vip, kubeAPILB, ingressLB, firstPoolLB     string
	bareMetalGateway                           string
}

func TestComputeNetwork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   NetworkInput
		want wantNetwork
	}{
		{
			// Every row of the "Network layout" tables, plus the fixed IPs.
			name: "default /16",
			in:   NetworkInput{Network: pfx("10.0.0.0/16")},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.64.0/19", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.0.0/16", mask: 25, gateway: "10.0.0.1",
				controlPlane: "10.0.64.0/25", loadBalancer: "10.0.64.128/25",
				workerShared: "10.0.80.0/25", autoscalerShared: "10.0.80.128/25",
				bareMetal: "10.0.88.0/25", legacyAutoscaler: "10.0.95.128/25",
				pinnedCount: 30, pinnedFirst: "10.0.65.0/25", pinnedLast: "10.0.79.128/25",
				vip: "10.0.64.126", kubeAPILB: "10.0.64.254", ingressLB: "10.0.64.252", firstPoolLB: "10.0.64.251",
				bareMetalGateway: "10.0.88.1",
			},
		},
		{
			name: "default /16 with bare metal routes natively over the pod CIDR",
			in:   NetworkInput{Network: pfx("10.0.0.0/16"), BareMetal: true},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.64.0/19", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.128.0/17", mask: 25, gateway: "10.0.0.1",
				controlPlane: "10.0.64.0/25", loadBalancer: "10.0.64.128/25",
				workerShared: "10.0.80.0/25", autoscalerShared: "10.0.80.128/25",
				bareMetal: "10.0.88.0/25", legacyAutoscaler: "10.0.95.128/25",
				pinnedCount: 30, pinnedFirst: "10.0.65.0/25", pinnedLast: "10.0.79.128/25",
				vip: "10.0.64.126", kubeAPILB: "10.0.64.254", ingressLB: "10.0.64.252", firstPoolLB: "10.0.64.251",
				bareMetalGateway: "10.0.88.1",
			},
		},
		{
			// Worked example "/17 → node 10.0.32.0/20, svc 10.0.48.0/20, pod 10.0.64.0/18,
			// mask /26, CP 10.0.32.0/26"; the rest by hand: internal half
			// 10.0.32.0/21 in 32 /26s, worker half 10.0.40.0/21, quarters
			// 10.0.40.0/22 and 10.0.44.0/22, legacy = subnet 63 of 64.
			name: "default /17",
			in:   NetworkInput{Network: pfx("10.0.0.0/17")},
			want: wantNetwork{
				network: "10.0.0.0/17", node: "10.0.32.0/20", service: "10.0.48.0/20", pod: "10.0.64.0/18",
				nativeRouting: "10.0.0.0/17", mask: 26, gateway: "10.0.0.1",
				controlPlane: "10.0.32.0/26", loadBalancer: "10.0.32.64/26",
				workerShared: "10.0.40.0/26", autoscalerShared: "10.0.40.64/26",
				bareMetal: "10.0.44.0/26", legacyAutoscaler: "10.0.47.192/26",
				pinnedCount: 30, pinnedFirst: "10.0.32.128/26", pinnedLast: "10.0.39.192/26",
				vip: "10.0.32.62", kubeAPILB: "10.0.32.126", ingressLB: "10.0.32.124", firstPoolLB: "10.0.32.123",
				bareMetalGateway: "10.0.44.1",
			},
		},
		{
			// Worked example "/8 → node 10.64.0.0/11, svc 10.96.0.0/12 (newbits 4,
			// netnum 6), pod 10.128.0.0/9, mask /17"; the rest by hand.
			name: "default /8",
			in:   NetworkInput{Network: pfx("10.0.0.0/8")},
			want: wantNetwork{
				network: "10.0.0.0/8", node: "10.64.0.0/11", service: "10.96.0.0/12", pod: "10.128.0.0/9",
				nativeRouting: "10.0.0.0/8", mask: 17, gateway: "10.0.0.1",
				controlPlane: "10.64.0.0/17", loadBalancer: "10.64.128.0/17",
				workerShared: "10.80.0.0/17", autoscalerShared: "10.80.128.0/17",
				bareMetal: "10.88.0.0/17", legacyAutoscaler: "10.95.128.0/17",
				pinnedCount: 30, pinnedFirst: "10.65.0.0/17", pinnedLast: "10.79.128.0/17",
				vip: "10.64.127.254", kubeAPILB: "10.64.255.254", ingressLB: "10.64.255.252", firstPoolLB: "10.64.255.251",
				bareMetalGateway: "10.88.0.1",
			},
		},
		{
			// Service newbits = 12-7 = 5, netnum = 3*2^2 = 12: 12<<20 above
			// 10.0.0.0 is 10.192.0.0, still 3/8 into the network, as a /12.
			// Node /10 at 2/8 = 10.128.0.0, pod /8 at 1/2 = 11.0.0.0, mask
			// 32-(24-8) = 16.
			name: "default /7 keeps the service CIDR at /12",
			in:   NetworkInput{Network: pfx("10.0.0.0/7")},
			want: wantNetwork{
				network: "10.0.0.0/7", node: "10.128.0.0/10", service: "10.192.0.0/12", pod: "11.0.0.0/8",
				nativeRouting: "10.0.0.0/7", mask: 16, gateway: "10.0.0.1",
				controlPlane: "10.128.0.0/16", loadBalancer: "10.129.0.0/16",
				workerShared: "10.160.0.0/16", autoscalerShared: "10.161.0.0/16",
				bareMetal: "10.176.0.0/16", legacyAutoscaler: "10.191.0.0/16",
				pinnedCount: 30, pinnedFirst: "10.130.0.0/16", pinnedLast: "10.159.0.0/16",
				vip: "10.128.255.254", kubeAPILB: "10.129.255.254", ingressLB: "10.129.255.252", firstPoolLB: "10.129.255.251",
				bareMetalGateway: "10.176.0.1",
			},
		},
		{
			// The node CIDR starts at the network address, so its first
			// subnet (which holds the gateway 10.0.0.1) is skipped: the
			// control plane moves to subnet 1, the LB to 2, pinned from 3.
			name: "explicit node CIDR at the network start skips the first subnet",
			in:   NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.0.0.0/19")},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.0.0/19", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.0.0/16", mask: 25, gateway: "10.0.0.1",
				controlPlane: "10.0.0.128/25", loadBalancer: "10.0.1.0/25",
				workerShared: "10.0.16.0/25", autoscalerShared: "10.0.16.128/25",
				bareMetal: "10.0.24.0/25", legacyAutoscaler: "10.0.31.128/25",
				pinnedCount: 29, pinnedFirst: "10.0.1.128/25", pinnedLast: "10.0.15.128/25",
				vip: "10.0.0.254", kubeAPILB: "10.0.1.126", ingressLB: "10.0.1.124", firstPoolLB: "10.0.1.123",
				bareMetalGateway: "10.0.24.1",
			},
		},
		{
			// nb = 24-20 = 4: 16 subnets in the internal half, 14 pinned;
			// wnb = 3; legacy = cidrsubnet(node, 5, 31).
			name: "explicit mask size /24",
			in:   NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 24},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.64.0/19", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.0.0/16", mask: 24, gateway: "10.0.0.1",
				controlPlane: "10.0.64.0/24", loadBalancer: "10.0.65.0/24",
				workerShared: "10.0.80.0/24", autoscalerShared: "10.0.81.0/24",
				bareMetal: "10.0.88.0/24", legacyAutoscaler: "10.0.95.0/24",
				pinnedCount: 14, pinnedFirst: "10.0.66.0/24", pinnedLast: "10.0.79.0/24",
				vip: "10.0.64.254", kubeAPILB: "10.0.65.254", ingressLB: "10.0.65.252", firstPoolLB: "10.0.65.251",
				bareMetalGateway: "10.0.88.1",
			},
		},
		{
			// Node /18 in /26s: internal half 10.0.128.0/19 holds 128 (126
			// pinned, the last 127*64 = 31*256+192 in), worker half
			// 10.0.160.0/19 with quarters /20, legacy subnet 255 of 256.
			name: "explicit node CIDR and mask size",
			in:   NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.0.128.0/18"), NodeSubnetMaskSize: 26},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.128.0/18", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.0.0/16", mask: 26, gateway: "10.0.0.1",
				controlPlane: "10.0.128.0/26", loadBalancer: "10.0.128.64/26",
				workerShared: "10.0.160.0/26", autoscalerShared: "10.0.160.64/26",
				bareMetal: "10.0.176.0/26", legacyAutoscaler: "10.0.191.192/26",
				pinnedCount: 126, pinnedFirst: "10.0.128.128/26", pinnedLast: "10.0.159.192/26",
				vip: "10.0.128.62", kubeAPILB: "10.0.128.126", ingressLB: "10.0.128.124", firstPoolLB: "10.0.128.123",
				bareMetalGateway: "10.0.176.1",
			},
		},
		{
			// Smallest legal mask: node /19, mask /22. Internal /20 has four
			// /22s (two pinned), worker quarter /21 has two.
			name: "minimum mask size node prefix + 3",
			in:   NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 22},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.64.0/19", service: "10.0.96.0/19", pod: "10.0.128.0/17",
				nativeRouting: "10.0.0.0/16", mask: 22, gateway: "10.0.0.1",
				controlPlane: "10.0.64.0/22", loadBalancer: "10.0.68.0/22",
				workerShared: "10.0.80.0/22", autoscalerShared: "10.0.84.0/22",
				bareMetal: "10.0.88.0/22", legacyAutoscaler: "10.0.92.0/22",
				pinnedCount: 2, pinnedFirst: "10.0.72.0/22", pinnedLast: "10.0.76.0/22",
				vip: "10.0.67.254", kubeAPILB: "10.0.71.254", ingressLB: "10.0.71.252", firstPoolLB: "10.0.71.251",
				bareMetalGateway: "10.0.88.1",
			},
		},
		{
			// Explicit pod, service and native-routing CIDRs are taken as
			// given; the default mask follows the explicit pod CIDR:
			// 32-(24-16) = 24.
			name: "explicit pod, service and native routing CIDRs",
			in: NetworkInput{
				Network: pfx("10.0.0.0/16"), PodCIDR: pfx("172.16.0.0/16"),
				ServiceCIDR: pfx("172.17.0.0/20"), NativeRoutingCIDR: pfx("10.0.0.0/8"), BareMetal: true,
			},
			want: wantNetwork{
				network: "10.0.0.0/16", node: "10.0.64.0/19", service: "172.17.0.0/20", pod: "172.16.0.0/16",
				nativeRouting: "10.0.0.0/8", mask: 24, gateway: "10.0.0.1",
				controlPlane: "10.0.64.0/24", loadBalancer: "10.0.65.0/24",
				workerShared: "10.0.80.0/24", autoscalerShared: "10.0.81.0/24",
				bareMetal: "10.0.88.0/24", legacyAutoscaler: "10.0.95.0/24",
				pinnedCount: 14, pinnedFirst: "10.0.66.0/24", pinnedLast: "10.0.79.0/24",
				vip: "10.0.64.254", kubeAPILB: "10.0.65.254", ingressLB: "10.0.65.252", firstPoolLB: "10.0.65.251",
				bareMetalGateway: "10.0.88.1",
			},
		},
		{
			// 172.16.0.0/12: node /15 at 2/8 (172.20.0.0), service /15 at
			// 3/8 (172.22.0.0), pod /13 at 1/2 (172.24.0.0), mask 21.
			name: "default /12",
			in:   NetworkInput{Network: pfx("172.16.0.0/12")},
			want: wantNetwork{
				network: "172.16.0.0/12", node: "172.20.0.0/15", service: "172.22.0.0/15", pod: "172.24.0.0/13",
				nativeRouting: "172.16.0.0/12", mask: 21, gateway: "172.16.0.1",
				controlPlane: "172.20.0.0/21", loadBalancer: "172.20.8.0/21",
				workerShared: "172.21.0.0/21", autoscalerShared: "172.21.8.0/21",
				bareMetal: "172.21.128.0/21", legacyAutoscaler: "172.21.248.0/21",
				pinnedCount: 30, pinnedFirst: "172.20.16.0/21", pinnedLast: "172.20.248.0/21",
				vip: "172.20.7.254", kubeAPILB: "172.20.15.254", ingressLB: "172.20.15.252", firstPoolLB: "172.20.15.251",
				bareMetalGateway: "172.21.128.1",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ComputeNetwork(tc.in)
			if err != nil {
				t.Fatalf("ComputeNetwork: %v", err)
			}
			w := tc.want
			checkPrefix(t, "Network", got.Network, w.network)
			checkPrefix(t, "Node", got.Node, w.node)
			checkPrefix(t, "Service", got.Service, w.service)
			checkPrefix(t, "Pod", got.Pod, w.pod)
			checkPrefix(t, "NativeRouting", got.NativeRouting, w.nativeRouting)
			if got.NodeSubnetMaskSize != w.mask {
				t.Errorf("NodeSubnetMaskSize = %d, want %d", got.NodeSubnetMaskSize, w.mask)
			}
			checkAddr(t, "Gateway", got.Gateway, w.gateway)
			checkPrefix(t, "ControlPlane", got.ControlPlane, w.controlPlane)
			checkPrefix(t, "LoadBalancer", got.LoadBalancer, w.loadBalancer)
			checkPrefix(t, "WorkerShared", got.WorkerShared, w.workerShared)
			checkPrefix(t, "AutoscalerShared", got.AutoscalerShared, w.autoscalerShared)
			checkPrefix(t, "BareMetalShared", got.BareMetalShared, w.bareMetal)
			checkPrefix(t, "LegacyAutoscaler", got.LegacyAutoscaler, w.legacyAutoscaler)
			if len(got.PinnedWorker) != w.pinnedCount {
				t.Fatalf("len(PinnedWorker) = %d, want %d", len(got.PinnedWorker), w.pinnedCount)
			}
			checkPrefix(t, "PinnedWorker[0]", got.PinnedWorker[0], w.pinnedFirst)
			checkPrefix(t, "PinnedWorker[last]", got.PinnedWorker[len(got.PinnedWorker)-1], w.pinnedLast)
			checkAddr(t, "ControlPlaneVIP", got.ControlPlaneVIP, w.vip)
			checkAddr(t, "KubeAPILoadBalancerIP", got.KubeAPILoadBalancerIP, w.kubeAPILB)
			checkAddr(t, "IngressLoadBalancerIP", got.IngressLoadBalancerIP, w.ingressLB)
			checkAddr(t, "BareMetalGateway", got.BareMetalGateway, w.bareMetalGateway)
			first, err := got.IngressPoolLoadBalancerIP(0)
			if err != nil {
				t.Fatalf("IngressPoolLoadBalancerIP(0): %v", err)
			}
			checkAddr(t, "IngressPoolLoadBalancerIP(0)", first, w.firstPoolLB)
		})
	}
}

// TestComputeNetworkPinnedDefault checks the whole default pinned list:
// 10.0.65.0/25, 10.0.65.128/25, ..., 10.0.79.128/25, written out by hand.
func TestComputeNetworkPinnedDefault(t *testing.T) {
	t.Parallel()
	n, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"10.0.65.0/25", "10.0.65.128/25", "10.0.66.0/25", "10.0.66.128/25", "10.0.67.0/25", "10.0.67.128/25",
		"10.0.68.0/25", "10.0.68.128/25", "10.0.69.0/25", "10.0.69.128/25", "10.0.70.0/25", "10.0.70.128/25",
		"10.0.71.0/25", "10.0.71.128/25", "10.0.72.0/25", "10.0.72.128/25", "10.0.73.0/25", "10.0.73.128/25",
		"10.0.74.0/25", "10.0.74.128/25", "10.0.75.0/25", "10.0.75.128/25", "10.0.76.0/25", "10.0.76.128/25",
		"10.0.77.0/25", "10.0.77.128/25", "10.0.78.0/25", "10.0.78.128/25", "10.0.79.0/25", "10.0.79.128/25",
	}
	if len(n.PinnedWorker) != len(want) {
		t.Fatalf("len(PinnedWorker) = %d, want %d", len(n.PinnedWorker), len(want))
	}
	for i, w := range want {
		checkPrefix(t, "PinnedWorker", n.PinnedWorker[i], w)
	}
}

func TestComputeNetworkErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      NetworkInput
		wantErr string
	}{
		{name: "network missing", in: NetworkInput{}, wantErr: "network CIDR is required"},
		{name: "network invalid", in: NetworkInput{Network: netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), 40)}, wantErr: "not a valid CIDR"},
		{name: "network IPv6", in: NetworkInput{Network: pfx("fd00::/8")}, wantErr: "must be IPv4"},
		{name: "network IPv4-mapped", in: NetworkInput{Network: pfx("::ffff:10.0.0.0/112")}, wantErr: "must be IPv4"},
		{name: "network host bits", in: NetworkInput{Network: pfx("10.0.0.5/16")}, wantErr: "host bits set; the network address is 10.0.0.0/16"},
		// /24: pod /25 leaves no /24 per node.
		{name: "network /24 too small", in: NetworkInput{Network: pfx("10.0.0.0/24")}, wantErr: "pod CIDR 10.0.0.128/25 is smaller than the /24"},
		// /23: pod /24 gives mask /32, too long for the LB subnet IPs.
		{name: "network /23 too small", in: NetworkInput{Network: pfx("10.0.0.0/23")}, wantErr: "derived from pod CIDR 10.0.1.0/24) /32 is too long"},
		{name: "network /30 too small", in: NetworkInput{Network: pfx("10.0.0.0/30")}, wantErr: "too small for the default node CIDR"},
		{name: "network /32", in: NetworkInput{Network: pfx("10.0.0.1/32")}, wantErr: "too small for the default node CIDR"},
		{name: "node outside network", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.1.0.0/19")}, wantErr: "node CIDR 10.1.0.0/19 is not inside network 10.0.0.0/16"},
		{name: "node larger than network", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.0.0.0/15")}, wantErr: "not inside network"},
		{name: "node IPv6", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("fd00::/64")}, wantErr: "node CIDR fd00::/64 must be IPv4"},
		{name: "node host bits", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.0.64.1/19")}, wantErr: "node CIDR 10.0.64.1/19 has host bits set"},
		{name: "service IPv6", in: NetworkInput{Network: pfx("10.0.0.0/16"), ServiceCIDR: pfx("fd00::/108")}, wantErr: "service CIDR fd00::/108 must be IPv4"},
		{name: "pod host bits", in: NetworkInput{Network: pfx("10.0.0.0/16"), PodCIDR: pfx("10.0.128.1/17")}, wantErr: "pod CIDR 10.0.128.1/17 has host bits set"},
		{name: "native routing invalid", in: NetworkInput{Network: pfx("10.0.0.0/16"), NativeRoutingCIDR: netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), -1)}, wantErr: "native routing CIDR"},
		{name: "pod /25 without mask", in: NetworkInput{Network: pfx("10.0.0.0/16"), PodCIDR: pfx("10.0.128.0/25")}, wantErr: "pod CIDR 10.0.128.0/25 is smaller than the /24"},
		{name: "mask smaller than node prefix", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 18}, wantErr: "node subnet mask size /18 is smaller than the node CIDR prefix /19"},
		{name: "mask too close to node prefix", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 21}, wantErr: "mask size must be at least /22"},
		{name: "mask equal to node prefix", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 19}, wantErr: "at least /22"},
		{name: "mask /31", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 31}, wantErr: "node subnet mask size /31 is too long"},
		{name: "mask 33", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: 33}, wantErr: "not a valid IPv4 prefix length"},
		{name: "mask negative", in: NetworkInput{Network: pfx("10.0.0.0/16"), NodeSubnetMaskSize: -1}, wantErr: "not a valid IPv4 prefix length"},
		// Node /11 of a /8 in /30s: 2^18 subnets per half.
		{name: "too many node subnets", in: NetworkInput{Network: pfx("10.0.0.0/8"), NodeSubnetMaskSize: 30}, wantErr: "into 262144 subnets per half; at most 65536"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ComputeNetwork(tc.in)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestIngressPoolLoadBalancerIP(t *testing.T) {
	t.Parallel()
	n, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	// LB subnet 10.0.64.128/25: -5 is .251, counting down; -128 is the
	// subnet address .128 (index 123); index 124 would be -129.
	cases := []struct {
		index   int
		want    string
		wantErr string
	}{
		{index: 0, want: "10.0.64.251"},
		{index: 1, want: "10.0.64.250"},
		{index: 5, want: "10.0.64.246"},
		{index: 123, want: "10.0.64.128"},
		{index: 124, wantErr: "no room for ingress load balancer #125"},
		{index: -1, wantErr: "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.want+tc.wantErr, func(t *testing.T) {
			t.Parallel()
			got, err := n.IngressPoolLoadBalancerIP(tc.index)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" {
				checkAddr(t, "IngressPoolLoadBalancerIP", got, tc.want)
			}
		})
	}
}

func TestPinnedWorkerIP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		subnet  string
		index   int
		want    string
		wantErr string
	}{
		{subnet: "10.0.65.0/25", index: 0, want: "10.0.65.1"},
		{subnet: "10.0.65.0/25", index: 1, want: "10.0.65.2"},
		{subnet: "10.0.65.128/25", index: 9, want: "10.0.65.138"},
		{subnet: "10.0.65.0/25", index: 126, want: "10.0.65.127"},
		{subnet: "10.0.65.0/25", index: 127, wantErr: "no room for server #128"},
		{subnet: "10.0.65.0/25", index: -1, wantErr: "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.subnet+"/"+tc.want+tc.wantErr, func(t *testing.T) {
			t.Parallel()
			got, err := PinnedWorkerIP(pfx(tc.subnet), tc.index)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" {
				checkAddr(t, "PinnedWorkerIP", got, tc.want)
			}
		})
	}
}

func TestIsPinnedWorkerSubnet(t *testing.T) {
	t.Parallel()
	def, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	skip, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16"), NodeCIDR: pfx("10.0.0.0/19")})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		n    Network
		p    netip.Prefix
		want bool
	}{
		{"first pinned", def, pfx("10.0.65.0/25"), true},
		{"middle pinned", def, pfx("10.0.70.128/25"), true},
		{"last pinned", def, pfx("10.0.79.128/25"), true},
		{"control plane", def, pfx("10.0.64.0/25"), false},
		{"load balancer", def, pfx("10.0.64.128/25"), false},
		{"worker shared", def, pfx("10.0.80.0/25"), false},
		{"autoscaler shared", def, pfx("10.0.80.128/25"), false},
		{"legacy autoscaler", def, pfx("10.0.95.128/25"), false},
		{"wrong size", def, pfx("10.0.65.0/24"), false},
		{"host bits", def, pfx("10.0.65.1/25"), false},
		{"outside network", def, pfx("192.168.0.0/25"), false},
		{"IPv6", def, pfx("fd00::/25"), false},
		{"zero", def, netip.Prefix{}, false},
		{"zero network", Network{}, pfx("10.0.65.0/25"), false},
		{"skip: subnet 0 is not pinned", skip, pfx("10.0.0.0/25"), false},
		{"skip: control plane at subnet 1", skip, pfx("10.0.0.128/25"), false},
		{"skip: load balancer at subnet 2", skip, pfx("10.0.1.0/25"), false},
		{"skip: first pinned at subnet 3", skip, pfx("10.0.1.128/25"), true},
		{"skip: last pinned", skip, pfx("10.0.15.128/25"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.n.IsPinnedWorkerSubnet(tc.p); got != tc.want {
				t.Errorf("IsPinnedWorkerSubnet(%s) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestCheckBareMetalPrivateIP(t *testing.T) {
	t.Parallel()
	n, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16"), BareMetal: true})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ip      string
		wantErr string
	}{
		{ip: "10.0.88.2"},
		{ip: "10.0.88.126"},
		{ip: "10.0.88.0", wantErr: "network address"},
		{ip: "10.0.88.1", wantErr: "vSwitch gateway"},
		{ip: "10.0.88.127", wantErr: "broadcast"},
		{ip: "10.0.88.128", wantErr: "not inside the bare-metal subnet 10.0.88.0/25"},
		{ip: "10.0.80.5", wantErr: "not inside"},
		{ip: "fd00::1", wantErr: "not inside"},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			t.Parallel()
			checkErr(t, n.CheckBareMetalPrivateIP(netip.MustParseAddr(tc.ip)), tc.wantErr)
		})
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func checkPrefix(t *testing.T, field string, got netip.Prefix, want string) {
	t.Helper()
	if got.String() != want {
		t.Errorf("%s = %s, want %s", field, got, want)
	}
}

func checkAddr(t *testing.T, field string, got netip.Addr, want string) {
	t.Helper()
	if got.String() != want {
		t.Errorf("%s = %s, want %s", field, got, want)
	}
}
