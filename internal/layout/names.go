package layout

import (
	"slices"
	"strconv"
	"strings"
)

// Architectures of Talos snapshots and servers.
const (
	ArchAMD64 = "amd64"
	ArchARM64 = "arm64"
)

// WorkersPerPlacementGroup is the number of servers a Hetzner spread
// placement group holds, and so the size of each worker pool shard.
const WorkersPerPlacementGroup = 10

// ServerName is the name of server i (1-based) of a pool:
// <cluster>-<pool>-<i>. Bare-metal servers use the same pattern with their
// Robot server number in place of i.
func ServerName(cluster, pool string, i int) string {
	return cluster + "-" + pool + "-" + strconv.Itoa(i)
}

// NetworkName is the name of the cluster's Hetzner network.
func NetworkName(cluster string) string { return cluster }

// FirewallName is the name of the cluster's Hetzner firewall.
func FirewallName(cluster string) string { return cluster }

// SSHKeyName is the name of the cluster's SSH key (Hetzner Cloud and Robot).
func SSHKeyName(cluster string) string { return cluster }

// VSwitchName is the name of the Robot vSwitch the module creates for bare
// metal.
func VSwitchName(cluster string) string { return cluster }

// ControlPlanePlacementGroupName is the name of the spread group that holds
// every control-plane server.
func ControlPlanePlacementGroupName(cluster string) string {
	return cluster + "-control-plane-pg"
}

// WorkerPlacementGroupName is the name of placement group n (1-based) of a
// worker pool: <cluster>-<pool>-pg-<n>.
func WorkerPlacementGroupName(cluster, pool string, n int) string {
	return cluster + "-" + pool + "-pg-" + strconv.Itoa(n)
}

// WorkerPlacementGroupIndex is the 1-based placement group number of the
// worker with 0-based index i0 in its pool: ceil((i0+1)/10), so servers
// 1–10 go to pg-1, 11–20 to pg-2 and so on.
func WorkerPlacementGroupIndex(i0 int) int {
	return ceilDiv(i0+1, WorkersPerPlacementGroup)
}

// WorkerPlacementGroupCount is the number of placement groups of a worker
// pool with count servers: ceil(count/10), and none for an empty pool.
func WorkerPlacementGroupCount(count int) int {
	if count <= 0 {
		return 0
	}
	return ceilDiv(count, WorkersPerPlacementGroup)
}

// ceilDiv is ceil(a/b) for b > 0.
func ceilDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// KubeAPILoadBalancerName is the name of the Kubernetes API load balancer.
func KubeAPILoadBalancerName(cluster string) string { return cluster + "-kube-api" }

// IngressLoadBalancerName is the name of the single ingress load balancer
// (ingress-nginx without load balancer pools).
func IngressLoadBalancerName(cluster string) string { return cluster + "-ingress" }

// IngressPoolLoadBalancerName is the name of load balancer n (1-based) of an
// ingress load balancer pool: <cluster>-<pool>-<n>.
func IngressPoolLoadBalancerName(cluster, pool string, n int) string {
	return cluster + "-" + pool + "-" + strconv.Itoa(n)
}

// FloatingIPName is the name of the control plane's public VIP.
func FloatingIPName(cluster string) string { return cluster + "-control-plane-ipv4" }

// StateCertificateName is the name of the uploaded certificate that marks a
// cluster as initialized.
func StateCertificateName(cluster string) string { return cluster + "-state" }

// SnapshotName is the description of the Talos snapshot for arch ("amd64"
// or "arm64"): "Talos Linux AMD64 for <cluster>".
func SnapshotName(cluster, arch string) string {
	return "Talos Linux " + strings.ToUpper(arch) + " for " + cluster
}

// Architecture is the CPU architecture of a server type: arm64 iff the type
// matches ^cax\d+$ (server.tf), amd64 otherwise.
func Architecture(serverType string) string {
	digits, ok := strings.CutPrefix(serverType, "cax")
	if !ok || digits == "" {
		return ArchAMD64
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return ArchAMD64
		}
	}
	return ArchARM64
}

// PrimaryServerName picks the "primary" control plane the way talos.tf does,
// sort(keys(hcloud_server.control_plane))[0]: the lexicographically smallest
// server name (so "c-cp-10" comes before "c-cp-2"). It is the bootstrap node
// and the target of health checks and Kubernetes upgrades. ok is false when
// names is empty.
func PrimaryServerName(names []string) (name string, ok bool) {
	return Primary(names, func(n string) string { return n })
}

// Primary picks the primary control plane among controlPlanes, whatever type
// describes them, by PrimaryServerName's rule on the server name that name
// returns. ok is false when controlPlanes is empty.
func Primary[T any](controlPlanes []T, name func(T) string) (primary T, ok bool) {
	if len(controlPlanes) == 0 {
		return primary, false
	}
	return slices.MinFunc(controlPlanes, func(a, b T) int { return strings.Compare(name(a), name(b)) }), true
}
