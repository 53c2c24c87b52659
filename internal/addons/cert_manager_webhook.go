package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

const webhookRelease = "cert-manager-webhook-hetzner"

// renderCertManagerWebhook: the chart has no topology spread setting, so the
// module keeps replicas on different hosts with a required anti-affinity.
func renderCertManagerWebhook(c *config.Cluster, _ Inputs) (Result, error) {
	w := c.Addons.CertManagerWebhookHetzner
	affinity := map[string]any{}
	if c.ControlPlaneCount() > 1 {
		affinity = map[string]any{"podAntiAffinity": map[string]any{
			"requiredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{
				"labelSelector": map[string]any{"matchLabels": map[string]any{
					"app": webhookRelease, "release": webhookRelease,
				}},
				"topologyKey": hostnameTopologyKey,
			}},
		}}
	}
	return Result{
		Chart: chartFrom(w.Chart, webhookRelease, certManagerNamespace),
		Values: map[string]any{
			"groupName":           w.GroupName,
			"replicaCount":        haReplicas(c),
			"podDisruptionBudget": map[string]any{"enabled": true, "maxUnavailable": 1},
			"affinity":            affinity,
			"nodeSelector":        controlPlaneNodeSelector(),
			"tolerations":         controlPlaneTolerations(),
		},
	}, nil
}
