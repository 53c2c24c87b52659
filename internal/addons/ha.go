package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// The module runs its controllers with one shared high-availability pattern
// (docs/terraform-parity.md, "Addons"): two replicas when there is more than
// one control plane, a PodDisruptionBudget allowing one pod down, spread over
// hosts (hard) and zones (soft), pinned to the control planes. Charts differ
// only in the key names, which haSpec carries.

const (
	controlPlaneRoleLabel = "node-role.kubernetes.io/control-plane"
	hostnameTopologyKey   = "kubernetes.io/hostname"
	zoneTopologyKey       = "topology.kubernetes.io/zone"
)

// haSpec describes how one chart spells the HA pattern.
type haSpec struct {
	// ReplicasKey is the chart's replica key ("replicaCount", "replicas").
	ReplicasKey string
	// Replicas overrides the default replica count when not zero.
	Replicas int
	// PDBSwitch is the PodDisruptionBudget's on switch ("enabled",
	// "create"), or "" when the chart has none.
	PDBSwitch string
	// MaxUnavailable is 1, or "1" for charts whose value is a string.
	MaxUnavailable any
	// PodLabels are the labels of the chart's pods that the spread
	// constraints select.
	PodLabels map[string]string
	// NoTolerations leaves the chart's tolerations alone (Cilium's operator
	// tolerates everything by default).
	NoTolerations bool
	// NotOnControlPlane drops the node selector and toleration (metrics-server
	// when workers exist).
	NotOnControlPlane bool
}

// haReplicas is the module's replica count for control-plane components.
func haReplicas(c *config.Cluster) int {
	if c.ControlPlaneCount() > 1 {
		return 2
	}
	return 1
}

// values returns the HA keys for one component, to be merged into the
// component's values.
func (s haSpec) values(c *config.Cluster) map[string]any {
	replicas := s.Replicas
	if replicas == 0 {
		replicas = haReplicas(c)
	}
	pdb := map[string]any{"minAvailable": nil, "maxUnavailable": s.MaxUnavailable}
	if s.PDBSwitch != "" {
		pdb[s.PDBSwitch] = true
	}
	v := map[string]any{
		s.ReplicasKey:               replicas,
		"podDisruptionBudget":       pdb,
		"topologySpreadConstraints": spread(s.PodLabels, "DoNotSchedule"),
	}
	if !s.NotOnControlPlane {
		v["nodeSelector"] = controlPlaneNodeSelector()
		if !s.NoTolerations {
			v["tolerations"] = controlPlaneTolerations()
		}
	}
	return v
}

// spread is the module's pair of topology spread constraints: per host with
// hostPolicy, per zone best effort. pod-template-hash keeps a rolling update's
// new pods from counting the old ones.
func spread(podLabels map[string]string, hostPolicy string) []any {
	one := func(key, policy string) map[string]any {
		labels := make(map[string]any, len(podLabels))
		for k, v := range podLabels {
			labels[k] = v
		}
		return map[string]any{
			"topologyKey":       key,
			"maxSkew":           1,
			"whenUnsatisfiable": policy,
			"labelSelector":     map[string]any{"matchLabels": labels},
			"matchLabelKeys":    []any{"pod-template-hash"},
		}
	}
	return []any{one(hostnameTopologyKey, hostPolicy), one(zoneTopologyKey, "ScheduleAnyway")}
}

func controlPlaneNodeSelector() map[string]any {
	return map[string]any{controlPlaneRoleLabel: ""}
}

func controlPlaneTolerations() []any {
	return []any{map[string]any{"key": controlPlaneRoleLabel, "effect": "NoSchedule", "operator": "Exists"}}
}
