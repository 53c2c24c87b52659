package layout

import "testing"

func TestNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"server", ServerName("prod", "workers", 1), "prod-workers-1"},
		{"server 12", ServerName("prod", "cp", 12), "prod-cp-12"},
		{"bare-metal server by Robot number", ServerName("prod", "metal", 2345678), "prod-metal-2345678"},
		{"network", NetworkName("prod"), "prod"},
		{"firewall", FirewallName("prod"), "prod"},
		{"ssh key", SSHKeyName("prod"), "prod"},
		{"vswitch", VSwitchName("prod"), "prod"},
		{"control-plane placement group", ControlPlanePlacementGroupName("prod"), "prod-control-plane-pg"},
		{"worker placement group", WorkerPlacementGroupName("prod", "workers", 2), "prod-workers-pg-2"},
		{"kube-api load balancer", KubeAPILoadBalancerName("prod"), "prod-kube-api"},
		{"ingress load balancer", IngressLoadBalancerName("prod"), "prod-ingress"},
		{"ingress pool load balancer", IngressPoolLoadBalancerName("prod", "edge", 3), "prod-edge-3"},
		{"floating ip", FloatingIPName("prod"), "prod-control-plane-ipv4"},
		{"state certificate", StateCertificateName("prod"), "prod-state"},
		{"amd64 snapshot", SnapshotName("prod", ArchAMD64), "Talos Linux AMD64 for prod"},
		{"arm64 snapshot", SnapshotName("prod", ArchARM64), "Talos Linux ARM64 for prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestWorkerPlacementGroupIndex(t *testing.T) {
	t.Parallel()
	// server is the 1-based server number, as in "servers 1-10 -> pg-1".
	cases := []struct{ server, want int }{
		{1, 1}, {2, 1}, {9, 1}, {10, 1},
		{11, 2}, {19, 2}, {20, 2},
		{21, 3}, {30, 3}, {31, 4},
		{100, 10}, {101, 11},
	}
	for _, tc := range cases {
		t.Run(ServerName("c", "p", tc.server), func(t *testing.T) {
			t.Parallel()
			if got := WorkerPlacementGroupIndex(tc.server - 1); got != tc.want {
				t.Errorf("WorkerPlacementGroupIndex(%d) = %d, want %d", tc.server-1, got, tc.want)
			}
		})
	}
}

func TestWorkerPlacementGroupCount(t *testing.T) {
	t.Parallel()
	cases := []struct{ count, want int }{
		{-3, 0}, {0, 0},
		{1, 1}, {5, 1}, {10, 1},
		{11, 2}, {20, 2},
		{21, 3}, {99, 10}, {100, 10}, {101, 11},
	}
	for _, tc := range cases {
		t.Run(WorkerPlacementGroupName("c", "count", tc.count), func(t *testing.T) {
			t.Parallel()
			if got := WorkerPlacementGroupCount(tc.count); got != tc.want {
				t.Errorf("WorkerPlacementGroupCount(%d) = %d, want %d", tc.count, got, tc.want)
			}
		})
	}
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	cases := []struct{ serverType, want string }{
		{"cax11", ArchARM64},
		{"cax41", ArchARM64},
		{"cax1", ArchARM64},
		{"cpx11", ArchAMD64},
		{"cx22", ArchAMD64},
		{"ccx13", ArchAMD64},
		{"cax", ArchAMD64},       // \d+ needs a digit
		{"cax11-x", ArchAMD64},   // anchored at the end
		{"xcax11", ArchAMD64},    // anchored at the start
		{"CAX11", ArchAMD64},     // case-sensitive
		{"cax\u0663", ArchAMD64}, // \d is ASCII only in RE2
		{"", ArchAMD64},
	}
	for _, tc := range cases {
		t.Run(tc.serverType, func(t *testing.T) {
			t.Parallel()
			if got := Architecture(tc.serverType); got != tc.want {
				t.Errorf("Architecture(%q) = %q, want %q", tc.serverType, got, tc.want)
			}
		})
	}
}

func TestPrimaryServerName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		names  []string
		want   string
		wantOK bool
	}{
		{"empty", nil, "", false},
		{"single", []string{"c-cp-1"}, "c-cp-1", true},
		{"lexicographic, not numeric", []string{"c-cp-2", "c-cp-10", "c-cp-3"}, "c-cp-10", true},
		{"across pools", []string{"c-cp-b-1", "c-cp-a-2"}, "c-cp-a-2", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := PrimaryServerName(tc.names)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("PrimaryServerName(%v) = %q, %v; want %q, %v", tc.names, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
