package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// Registry lists the addons in the module's order (its inline manifests in
// talos_config_control_plane.tf; docs/terraform-parity.md, "Addons"), which
// is also an order in which they can be applied: what an addon needs comes
// before it. The names are the module's inline-manifest names.
func Registry() []Addon {
	always := func(*config.Cluster) bool { return true }
	return []Addon{
		{Name: "hcloud-secret", Phase: PhaseEarly, key: "addons.hcloudCCM", Enabled: always, render: renderHcloudSecret},
		{Name: "cilium", Phase: PhaseEarly, key: "addons.cilium",
			Enabled: func(c *config.Cluster) bool { return c.Addons.Cilium.Enabled }, render: renderCilium,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.Cilium.Values }},
		{Name: "talos-ccm", Phase: PhaseEarly, key: "addons.talosCCM",
			Enabled: func(c *config.Cluster) bool { return c.Addons.TalosCCM.Enabled }, render: renderTalosCCM,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.TalosCCM.Values }},
		{Name: "hcloud-ccm", Phase: PhaseEarly, key: "addons.hcloudCCM",
			Enabled: func(c *config.Cluster) bool { return c.Addons.HcloudCCM.Enabled }, render: renderHcloudCCM,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.HcloudCCM.Values }},
		{Name: "hcloud-csi", Phase: PhaseLate, key: "addons.hcloudCSI",
			Enabled: func(c *config.Cluster) bool { return c.Addons.HcloudCSI.Enabled }, render: renderHcloudCSI,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.HcloudCSI.Values }},
		{Name: "talos-backup", Phase: PhaseLate, key: "backup",
			Enabled: func(c *config.Cluster) bool { return c.Backup.Enabled }, render: renderTalosBackup},
		{Name: "longhorn", Phase: PhaseLate, key: "addons.longhorn",
			Enabled: func(c *config.Cluster) bool { return c.Addons.Longhorn.Enabled }, render: renderLonghorn,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.Longhorn.Values }},
		{Name: "metrics-server", Phase: PhaseLate, key: "addons.metricsServer",
			Enabled: func(c *config.Cluster) bool { return c.Addons.MetricsServer.Enabled }, render: renderMetricsServer,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.MetricsServer.Values }},
		{Name: "cert-manager", Phase: PhaseLate, key: "addons.certManager",
			Enabled: func(c *config.Cluster) bool { return c.Addons.CertManager.Enabled }, render: renderCertManager,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.CertManager.Values }},
		{Name: "cert-manager-webhook-hetzner", Phase: PhaseLate, key: "addons.certManagerWebhookHetzner",
			Enabled: func(c *config.Cluster) bool { return c.Addons.CertManagerWebhookHetzner.Enabled }, render: renderCertManagerWebhook,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.CertManagerWebhookHetzner.Values }},
		{Name: "ingress-nginx", Phase: PhaseLate, key: "addons.ingressNginx",
			Enabled: func(c *config.Cluster) bool { return c.Addons.IngressNginx.Enabled }, render: renderIngressNginx,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.IngressNginx.Values }},
		{Name: "cluster-autoscaler", Phase: PhaseLate, key: "addons.clusterAutoscaler",
			Enabled: func(c *config.Cluster) bool { return c.Addons.ClusterAutoscaler.Enabled }, render: renderClusterAutoscaler,
			userValues: func(c *config.Cluster) map[string]any { return c.Addons.ClusterAutoscaler.Values }},
		{Name: "user-manifests", Phase: PhaseLate, key: "talos.extraInlineManifests",
			Enabled: func(c *config.Cluster) bool { return len(c.Talos.ExtraInlineManifests) > 0 }, render: renderInlineManifests},
		{Name: "kube-rbac", Phase: PhaseLate, key: "addons.rbac", Enabled: rbacEnabled, render: renderRBAC},
		{Name: "kube-oidc-rbac", Phase: PhaseLate, key: "addons.oidc.groupMappings", Enabled: oidcRBACEnabled, render: renderOIDCRBAC},
	}
}

// Lookup returns the registry entry named name.
func Lookup(name string) (Addon, bool) {
	for _, a := range Registry() {
		if a.Name == name {
			return a, true
		}
	}
	return Addon{}, false
}
