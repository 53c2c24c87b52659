package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

const longhornNamespace = "longhorn-system"

func renderLonghorn(c *config.Cluster, _ Inputs) (Result, error) {
	lh := c.Addons.Longhorn
	ch := chartFrom(lh.Chart, "longhorn", longhornNamespace)
	// The module renders Longhorn without hooks: its pre-upgrade hook job
	// cannot run before Longhorn exists.
	ch.NoHooks = true
	return Result{
		Chart: ch,
		Values: map[string]any{
			"defaultSettings": map[string]any{
				"allowCollectingLonghornUsageMetrics": false,
				"kubernetesClusterAutoscalerEnabled":  c.Addons.ClusterAutoscaler.Enabled,
				"upgradeChecker":                      false,
			},
			"networkPolicies": map[string]any{"enabled": true, "type": "rke1"},
			"persistence":     map[string]any{"defaultClass": lh.DefaultStorageClass},
		},
		// Longhorn's managers run privileged (they mount disks and
		// iSCSI), which the cluster's default pod security forbids.
		Objects: []Object{namespace(longhornNamespace, map[string]string{
			"pod-security.kubernetes.io/enforce": "privileged",
			"pod-security.kubernetes.io/audit":   "privileged",
			"pod-security.kubernetes.io/warn":    "privileged",
		})},
	}, nil
}
