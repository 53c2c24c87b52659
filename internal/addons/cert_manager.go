package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

const certManagerNamespace = "cert-manager"

func renderCertManager(c *config.Cluster, _ Inputs) (Result, error) {
	component := func(name string) map[string]any {
		return haSpec{
			ReplicasKey: "replicaCount", PDBSwitch: "enabled", MaxUnavailable: 1,
			PodLabels: map[string]string{
				"app.kubernetes.io/instance":  "cert-manager",
				"app.kubernetes.io/component": name,
			},
		}.values(c)
	}
	values := MergeValues(component("controller"), map[string]any{
		"crds": map[string]any{"enabled": true},
		// The check job waits for the webhook, which cannot be up while
		// the manifests are applied.
		"startupapicheck": map[string]any{"enabled": false},
		"config": map[string]any{
			// The chart refuses a config without its type.
			"apiVersion":       "controller.config.cert-manager.io/v1alpha1",
			"kind":             "ControllerConfiguration",
			"enableGatewayAPI": true,
			// ingress-nginx rejects Exact paths in the solver Ingress
			// (kubernetes/ingress-nginx#11176).
			"featureGates": map[string]any{"ACMEHTTP01IngressPathTypeExact": !c.Addons.IngressNginx.Enabled},
		},
		"webhook":    component("webhook"),
		"cainjector": component("cainjector"),
	})
	return Result{
		Chart:   chartFrom(c.Addons.CertManager.Chart, "cert-manager", certManagerNamespace),
		Values:  values,
		Objects: []Object{namespace(certManagerNamespace, nil)},
	}, nil
}
