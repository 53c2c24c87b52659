package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// renderTalosCCM runs the Talos CCM only to approve the kubelets' serving
// certificate requests: kubelets rotate their serving certificates and
// nothing else in the cluster approves them.
func renderTalosCCM(c *config.Cluster, _ Inputs) (Result, error) {
	return Result{
		Chart: chartFrom(c.Addons.TalosCCM.Chart, "talos-cloud-controller-manager", kubeSystem),
		Values: map[string]any{
			"enabledControllers": []any{"node-csr-approval"},
			"daemonSet":          map[string]any{"enabled": true},
		},
	}, nil
}
