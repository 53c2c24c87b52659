package layout

import (
	"maps"
	"strings"
)

// Label keys the module puts on Hetzner resources.
const (
	LabelCluster          = "cluster"
	LabelRole             = "role"
	LabelNodepool         = "nodepool"
	LabelPool             = "pool" // ingress load balancer pools
	LabelState            = "state"
	LabelOS               = "os"
	LabelTalosVersion     = "talos_version"
	LabelTalosSchematicID = "talos_schematic_id"
)

// Values of LabelRole, LabelState and LabelOS.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
	RoleKubeAPI      = "kube-api"
	RoleIngress      = "ingress"
	// RoleLeavingControlPlane marks a control plane that apply is taking out
	// of the cluster: the kube-API load balancer's label selector no longer
	// matches it, so it gets no API traffic while it leaves etcd, and a run
	// stopped halfway knows to finish the removal (docs/scale-down.md).
	RoleLeavingControlPlane = "control-plane-leaving"

	StateInitialized = "initialized"

	OSTalos = "talos"
)

// SchematicIDLabelLength is how much of the 64-character Talos schematic ID
// fits in a label value (Hetzner allows 63 characters); the module keeps
// the first 32.
const SchematicIDLabelLength = 32

// ClusterLabels is {cluster}: the labels of the network, firewall and SSH key.
func ClusterLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster}
}

// ControlPlaneServerLabels are the labels of a control-plane server: the
// pool's labels, then nodepool, cluster and role, which override pool labels
// of the same key (Terraform merge order).
func ControlPlaneServerLabels(cluster, pool string, poolLabels map[string]string) map[string]string {
	return serverLabels(cluster, pool, RoleControlPlane, poolLabels)
}

// WorkerServerLabels are the labels of a worker server (see
// ControlPlaneServerLabels), with role=worker.
func WorkerServerLabels(cluster, pool string, poolLabels map[string]string) map[string]string {
	return serverLabels(cluster, pool, RoleWorker, poolLabels)
}

func serverLabels(cluster, pool, role string, poolLabels map[string]string) map[string]string {
	l := make(map[string]string, len(poolLabels)+3)
	maps.Copy(l, poolLabels)
	l[LabelNodepool] = pool
	l[LabelCluster] = cluster
	l[LabelRole] = role
	return l
}

// ControlPlanePlacementGroupLabels are {cluster, role=control-plane}.
func ControlPlanePlacementGroupLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelRole: RoleControlPlane}
}

// WorkerPlacementGroupLabels are {cluster, nodepool, role=worker}.
func WorkerPlacementGroupLabels(cluster, pool string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelNodepool: pool, LabelRole: RoleWorker}
}

// KubeAPILoadBalancerLabels are {cluster, role=kube-api}.
func KubeAPILoadBalancerLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelRole: RoleKubeAPI}
}

// IngressLoadBalancerLabels are {cluster, role=ingress}. The module ignores
// later label changes on this load balancer, because the CCM manages it.
func IngressLoadBalancerLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelRole: RoleIngress}
}

// IngressPoolLoadBalancerLabels are the labels of an ingress pool load
// balancer: the pool's labels, then pool, cluster and role=ingress.
func IngressPoolLoadBalancerLabels(cluster, pool string, poolLabels map[string]string) map[string]string {
	l := make(map[string]string, len(poolLabels)+3)
	maps.Copy(l, poolLabels)
	l[LabelPool] = pool
	l[LabelCluster] = cluster
	l[LabelRole] = RoleIngress
	return l
}

// FloatingIPLabels are {cluster, role=control-plane}.
func FloatingIPLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelRole: RoleControlPlane}
}

// StateCertificateLabels are {cluster, state=initialized}.
func StateCertificateLabels(cluster string) map[string]string {
	return map[string]string{LabelCluster: cluster, LabelState: StateInitialized}
}

// SnapshotLabels are the labels of a Talos snapshot: {cluster, os=talos,
// talos_version, talos_schematic_id = first 32 characters of the schematic}.
// The architecture is not a label; it is the image's own attribute.
func SnapshotLabels(cluster, talosVersion, schematicID string) map[string]string {
	return map[string]string{
		LabelCluster:          cluster,
		LabelOS:               OSTalos,
		LabelTalosVersion:     talosVersion,
		LabelTalosSchematicID: SchematicIDLabel(schematicID),
	}
}

// SchematicIDLabel is the label value of a schematic ID: its first 32
// characters.
func SchematicIDLabel(schematicID string) string {
	r := []rune(schematicID)
	if len(r) <= SchematicIDLabelLength {
		return schematicID
	}
	return string(r[:SchematicIDLabelLength])
}

// ClusterSelector selects every resource of a cluster: "cluster=<c>".
func ClusterSelector(cluster string) string {
	return LabelCluster + "=" + cluster
}

// ControlPlaneSelector selects the control-plane servers, as the kube-API
// load balancer's target does: "cluster=<c>,role=control-plane".
func ControlPlaneSelector(cluster string) string {
	return selector(LabelCluster, cluster, LabelRole, RoleControlPlane)
}

// SnapshotSelector selects the snapshot that matches exactly (the module's
// default "exact" image selector): cluster, os=talos, talos_version and the
// truncated schematic ID. Filter by architecture separately.
func SnapshotSelector(cluster, talosVersion, schematicID string) string {
	return selector(
		LabelCluster, cluster,
		LabelOS, OSTalos,
		LabelTalosVersion, talosVersion,
		LabelTalosSchematicID, SchematicIDLabel(schematicID),
	)
}

// LatestSnapshotSelector selects every Talos snapshot of a cluster (the
// module's "latest" image selector, "os=talos,cluster=<c>"); the newest one
// of the wanted architecture is used.
func LatestSnapshotSelector(cluster string) string {
	return selector(LabelOS, OSTalos, LabelCluster, cluster)
}

// selector joins key/value pairs into a Hetzner label selector.
func selector(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(kv[i+1])
	}
	return b.String()
}
