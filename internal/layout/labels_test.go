package layout

import (
	"maps"
	"testing"
)

func TestLabels(t *testing.T) {
	t.Parallel()
	const schematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
	poolLabels := map[string]string{"team": "a", "role": "db", "cluster": "other", "nodepool": "x", "pool": "y"}
	cases := []struct {
		name string
		got  map[string]string
		want map[string]string
	}{
		{"cluster", ClusterLabels("prod"), map[string]string{"cluster": "prod"}},
		{
			"control-plane server", ControlPlaneServerLabels("prod", "cp", map[string]string{"team": "a"}),
			map[string]string{"team": "a", "nodepool": "cp", "cluster": "prod", "role": "control-plane"},
		},
		{
			"control-plane server, module labels win over pool labels", ControlPlaneServerLabels("prod", "cp", poolLabels),
			map[string]string{"team": "a", "pool": "y", "nodepool": "cp", "cluster": "prod", "role": "control-plane"},
		},
		{
			"worker server", WorkerServerLabels("prod", "workers", map[string]string{"team": "a"}),
			map[string]string{"team": "a", "nodepool": "workers", "cluster": "prod", "role": "worker"},
		},
		{
			"worker server without pool labels", WorkerServerLabels("prod", "workers", nil),
			map[string]string{"nodepool": "workers", "cluster": "prod", "role": "worker"},
		},
		{
			"control-plane placement group", ControlPlanePlacementGroupLabels("prod"),
			map[string]string{"cluster": "prod", "role": "control-plane"},
		},
		{
			"worker placement group", WorkerPlacementGroupLabels("prod", "workers"),
			map[string]string{"cluster": "prod", "nodepool": "workers", "role": "worker"},
		},
		{"kube-api load balancer", KubeAPILoadBalancerLabels("prod"), map[string]string{"cluster": "prod", "role": "kube-api"}},
		{"ingress load balancer", IngressLoadBalancerLabels("prod"), map[string]string{"cluster": "prod", "role": "ingress"}},
		{
			"ingress pool load balancer", IngressPoolLoadBalancerLabels("prod", "edge", poolLabels),
			map[string]string{"team": "a", "nodepool": "x", "pool": "edge", "cluster": "prod", "role": "ingress"},
		},
		{"floating ip", FloatingIPLabels("prod"), map[string]string{"cluster": "prod", "role": "control-plane"}},
		{"state certificate", StateCertificateLabels("prod"), map[string]string{"cluster": "prod", "state": "initialized"}},
		{
			"snapshot", SnapshotLabels("prod", "v1.13.9", schematic),
			map[string]string{"cluster": "prod", "os": "talos", "talos_version": "v1.13.9", "talos_schematic_id": "376567988ad370138ad8b2698212367b"},
		},
		{
			"snapshot with a short schematic", SnapshotLabels("prod", "v1.13.9", "abc"),
			map[string]string{"cluster": "prod", "os": "talos", "talos_version": "v1.13.9", "talos_schematic_id": "abc"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !maps.Equal(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if poolLabels["role"] != "db" || len(poolLabels) != 5 {
		t.Errorf("pool labels were modified: %v", poolLabels)
	}
}

// TestLabelsFreshMaps checks that every builder returns a map the caller
// may modify without affecting later results or the pool labels passed in.
func TestLabelsFreshMaps(t *testing.T) {
	t.Parallel()
	pool := map[string]string{"team": "a"}
	builders := map[string]func() map[string]string{
		"ClusterLabels":                    func() map[string]string { return ClusterLabels("c") },
		"ControlPlaneServerLabels":         func() map[string]string { return ControlPlaneServerLabels("c", "p", pool) },
		"WorkerServerLabels":               func() map[string]string { return WorkerServerLabels("c", "p", pool) },
		"ControlPlanePlacementGroupLabels": func() map[string]string { return ControlPlanePlacementGroupLabels("c") },
		"WorkerPlacementGroupLabels":       func() map[string]string { return WorkerPlacementGroupLabels("c", "p") },
		"KubeAPILoadBalancerLabels":        func() map[string]string { return KubeAPILoadBalancerLabels("c") },
		"IngressLoadBalancerLabels":        func() map[string]string { return IngressLoadBalancerLabels("c") },
		"IngressPoolLoadBalancerLabels":    func() map[string]string { return IngressPoolLoadBalancerLabels("c", "p", pool) },
		"FloatingIPLabels":                 func() map[string]string { return FloatingIPLabels("c") },
		"StateCertificateLabels":           func() map[string]string { return StateCertificateLabels("c") },
		"SnapshotLabels":                   func() map[string]string { return SnapshotLabels("c", "v", "s") },
	}
	for name, build := range builders {
		t.Run(name, func(t *testing.T) {
			first := build()
			want := maps.Clone(first)
			first["cluster"] = "mutated"
			first["extra"] = "x"
			if got := build(); !maps.Equal(got, want) {
				t.Errorf("second call = %v, want %v", got, want)
			}
		})
	}
	if !maps.Equal(pool, map[string]string{"team": "a"}) {
		t.Errorf("pool labels were modified: %v", pool)
	}
}

func TestSelectors(t *testing.T) {
	t.Parallel()
	const schematic = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
	cases := []struct{ name, got, want string }{
		{"cluster", ClusterSelector("prod"), "cluster=prod"},
		{"control plane", ControlPlaneSelector("prod"), "cluster=prod,role=control-plane"},
		{
			"exact snapshot", SnapshotSelector("prod", "v1.13.9", schematic),
			"cluster=prod,os=talos,talos_version=v1.13.9,talos_schematic_id=376567988ad370138ad8b2698212367b",
		},
		{"latest snapshot", LatestSnapshotSelector("prod"), "os=talos,cluster=prod"},
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
