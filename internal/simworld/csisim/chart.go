package csisim

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The hcloud-csi chart's pod labels: app.kubernetes.io/name is the chart name
// (no nameOverride in our values) and app.kubernetes.io/component tells the
// controller Deployment's pods from the node DaemonSet's.
const (
	labelName      = "app.kubernetes.io/name"
	labelComponent = "app.kubernetes.io/component"
	chartName      = "hcloud-csi"
	chartSelector  = labelName + "=" + chartName

	componentController = "controller"
	componentNode       = "node"

	// driverContainer is the container of both pods that runs the driver
	// binary; its environment is the driver's configuration.
	driverContainer = "hcloud-csi-driver"
)

// chartPod is the one place that recognises the chart's pods: a pod of the
// given component that is Running and not being deleted. Everything csisim
// does hangs on it, as the real driver works only while its pods run.
func chartPod(p *corev1.Pod, component string) bool {
	return p.Labels[labelName] == chartName &&
		p.Labels[labelComponent] == component &&
		p.Status.Phase == corev1.PodRunning &&
		p.DeletionTimestamp == nil
}

// runningController returns a Running controller pod of the chart, or nil.
// With several replicas the real sidecars elect a leader; any one will do
// here since the first found does all the work.
func runningController(pods []corev1.Pod) *corev1.Pod {
	for i := range pods {
		if chartPod(&pods[i], componentController) {
			return &pods[i]
		}
	}
	return nil
}

// config is the part of the driver's environment csisim honours.
type config struct {
	// providedBy is ENABLE_PROVIDED_BY_TOPOLOGY: volumes and nodes also carry
	// instance.hetzner.cloud/provided-by=cloud in their topology.
	providedBy bool
	// extraLabels is HCLOUD_VOLUME_EXTRA_LABELS ("k=v,k2=v2"), the chart's
	// controller.volumeExtraLabels: put on every volume created.
	extraLabels map[string]string
}

// configOf reads the driver container's literal environment values, as the
// driver reads its process environment (values from Secrets or fields are
// not resolved: the chart sets these two as literals).
func configOf(p *corev1.Pod) config {
	var cfg config
	for _, c := range p.Spec.Containers {
		if c.Name != driverContainer {
			continue
		}
		for _, e := range c.Env {
			switch e.Name {
			case "ENABLE_PROVIDED_BY_TOPOLOGY":
				// Unparsable means false, like the driver's strconv.ParseBool.
				cfg.providedBy, _ = strconv.ParseBool(e.Value)
			case "HCLOUD_VOLUME_EXTRA_LABELS":
				cfg.extraLabels = parseLabels(e.Value)
			}
		}
	}
	return cfg
}

// parseLabels reads the driver's "k=v,k2=v2" label lists (the env var and
// the StorageClass parameter "labels"): pairs split at the first "=", space
// around keys and values trimmed, a missing value is empty. ok is false for
// an empty key, which the driver rejects.
func parseLabelList(s string) (map[string]string, bool) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, false
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, true
}

// parseLabels is parseLabelList for the environment, where the real driver
// refuses to start on a bad list; csisim ignores such a list instead.
func parseLabels(s string) map[string]string {
	m, ok := parseLabelList(s)
	if !ok {
		return nil
	}
	return m
}
