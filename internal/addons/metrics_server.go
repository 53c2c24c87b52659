package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// metricsServerOnControlPlane resolves addons.metricsServer.scheduleOnControlPlane:
// unset, only when there are no workers to run it.
func metricsServerOnControlPlane(c *config.Cluster) bool {
	if p := c.Addons.MetricsServer.ScheduleOnControlPlane; p != nil {
		return *p
	}
	return c.WorkerCount() == 0
}

// metricsServerReplicas resolves addons.metricsServer.replicas: two when more
// than one node can host it. Without static workers, the autoscaler's
// maximum counts as the workers it will run on.
func metricsServerReplicas(c *config.Cluster) int {
	if p := c.Addons.MetricsServer.Replicas; p != nil {
		return *p
	}
	var nodes int
	switch {
	case metricsServerOnControlPlane(c):
		nodes = c.ControlPlaneCount()
	case c.WorkerCount() > 0:
		nodes = c.WorkerCount()
	default:
		nodes = c.AutoscalerMaxCount()
	}
	if nodes > 1 {
		return 2
	}
	return 1
}

func renderMetricsServer(c *config.Cluster, _ Inputs) (Result, error) {
	values := haSpec{
		ReplicasKey: "replicas", Replicas: metricsServerReplicas(c),
		PDBSwitch: "enabled", MaxUnavailable: 1,
		PodLabels: map[string]string{
			"app.kubernetes.io/instance": "metrics-server",
			"app.kubernetes.io/name":     "metrics-server",
		},
		NotOnControlPlane: !metricsServerOnControlPlane(c),
	}.values(c)
	return Result{Chart: chartFrom(c.Addons.MetricsServer.Chart, "metrics-server", kubeSystem), Values: values}, nil
}
