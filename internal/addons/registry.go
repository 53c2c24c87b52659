package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// Registry lists the addons in the module's order (its inline manifests in
// talos_config_control_plane.tf; docs/terraform-parity.md, "Addons"), which
// is also an order in which they can be applied: what an addon needs comes
// before it. The CRD bundles and talos.extraRemoteManifests, which the module
// leaves to Talos, are addons here too. The names are the module's inline-manifest names.
func Registry() []Addon {
	always := func(*config.Cluster) bool { return true }
	return []Addon{
		// The CRD bundles first: the charts after them may create objects
		// of their kinds (ServiceMonitors, Gateways).
		{Name: "prometheus-operator-crds", Phase: PhaseEarly, key: "crds.prometheusOperator", render: renderPrometheusOperatorCRDs,
			Enabled: func(c *config.Cluster) bool { return c.CRDs.PrometheusOperator.Enabled }},
		{Name: "gateway-api-crds", Phase: PhaseEarly, key: "crds.gatewayAPI", render: renderGatewayAPICRDs,
			Enabled: func(c *config.Cluster) bool { return c.CRDs.GatewayAPI.Enabled }},
		{Name: "hcloud-secret", Phase: PhaseEarly, key: "addons.hcloudCCM", Enabled: always, render: renderHcloudSecret},
		chartAddon("cilium", PhaseEarly, "addons.cilium", renderCilium,
			func(c *config.Cluster) *config.Addon { return &c.Addons.Cilium.Addon }),
		chartAddon("talos-ccm", PhaseEarly, "addons.talosCCM", renderTalosCCM,
			func(c *config.Cluster) *config.Addon { return &c.Addons.TalosCCM }),
		chartAddon("hcloud-ccm", PhaseEarly, "addons.hcloudCCM", renderHcloudCCM,
			func(c *config.Cluster) *config.Addon { return &c.Addons.HcloudCCM.Addon }),
		chartAddon("hcloud-csi", PhaseLate, "addons.hcloudCSI", renderHcloudCSI,
			func(c *config.Cluster) *config.Addon { return &c.Addons.HcloudCSI.Addon }),
		{Name: "talos-backup", Phase: PhaseLate, key: "backup", render: renderTalosBackup,
			Enabled: func(c *config.Cluster) bool { return c.Backup.Enabled }},
		chartAddon("longhorn", PhaseLate, "addons.longhorn", renderLonghorn,
			func(c *config.Cluster) *config.Addon { return &c.Addons.Longhorn.Addon }),
		chartAddon("metrics-server", PhaseLate, "addons.metricsServer", renderMetricsServer,
			func(c *config.Cluster) *config.Addon { return &c.Addons.MetricsServer.Addon }),
		chartAddon("cert-manager", PhaseLate, "addons.certManager", renderCertManager,
			func(c *config.Cluster) *config.Addon { return &c.Addons.CertManager }),
		chartAddon("cert-manager-webhook-hetzner", PhaseLate, "addons.certManagerWebhookHetzner", renderCertManagerWebhook,
			func(c *config.Cluster) *config.Addon { return &c.Addons.CertManagerWebhookHetzner.Addon }),
		chartAddon("ingress-nginx", PhaseLate, "addons.ingressNginx", renderIngressNginx,
			func(c *config.Cluster) *config.Addon { return &c.Addons.IngressNginx.Addon }),
		chartAddon("cluster-autoscaler", PhaseLate, "addons.clusterAutoscaler", renderClusterAutoscaler,
			func(c *config.Cluster) *config.Addon { return &c.Addons.ClusterAutoscaler.Addon }),
		{Name: "user-manifests", Phase: PhaseLate, key: "talos.extraInlineManifests", render: renderInlineManifests,
			Enabled: func(c *config.Cluster) bool { return len(c.Talos.ExtraInlineManifests) > 0 }},
		{Name: "remote-manifests", Phase: PhaseLate, key: "talos.extraRemoteManifests", render: renderRemoteManifests,
			Enabled: func(c *config.Cluster) bool { return len(c.Talos.ExtraRemoteManifests) > 0 }},
		{Name: "kube-rbac", Phase: PhaseLate, key: "addons.rbac", Enabled: rbacEnabled, render: renderRBAC},
		{Name: "kube-oidc-rbac", Phase: PhaseLate, key: "addons.oidc.groupMappings", Enabled: oidcRBACEnabled, render: renderOIDCRBAC},
	}
}

// chartAddon is a registry entry for a Helm chart addon: its switch and the
// user's values come from its entry in the cluster file.
func chartAddon(name string, phase Phase, key string, render func(*config.Cluster, Inputs) (Result, error), entry func(*config.Cluster) *config.Addon) Addon {
	return Addon{
		Name: name, Phase: phase, key: key, render: render, chart: entry,
		Enabled: func(c *config.Cluster) bool { return entry(c).Enabled },
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
