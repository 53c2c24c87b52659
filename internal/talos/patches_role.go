package talos

import (
	"fmt"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// reserved is kubelet systemReserved/kubeReserved for one role.
func reserved(cpu string) (system, kube map[string]any) {
	return map[string]any{"cpu": cpu, "memory": "300Mi", "ephemeral-storage": "1Gi"},
		map[string]any{"cpu": cpu, "memory": "350Mi", "ephemeral-storage": "1Gi"}
}

// kubeletExtraConfig is merge({registerWithTaints, systemReserved,
// kubeReserved}, kubernetes.kubeletExtraConfig): a shallow merge, so a user
// key replaces the module's value of that key.
func kubeletExtraConfig(c *config.Cluster, taints []taint, cpu string) map[string]any {
	system, kube := reserved(cpu)
	out := map[string]any{
		"registerWithTaints": taintObjects(taints),
		"systemReserved":     system,
		"kubeReserved":       kube,
	}
	for k, v := range c.Kubernetes.KubeletExtraConfig {
		out[k] = v
	}
	return out
}

func hostnamePatch(name string) patch {
	return doc("HostnameConfig", map[string]any{"hostname": name, "auto": "off"})
}

// controlPlanePatches are the module's control-plane node patches
// (docs/terraform-parity.md, "Control-plane patches"): node labels/annotations/taints, kubelet reservations, Talos API
// access from kube-system, the control-plane components' settings, the
// manifests, then HostnameConfig and the HCloudVIPConfig of the public and
// private VIPs.
func controlPlanePatches(c *config.Cluster, f facts, in NodeInputs, p pool) ([]patch, error) {
	taints, err := parseTaints(p.taints)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", p.name, err)
	}
	if !f.allowScheduling {
		taints = append(taints, taint{Key: taintControlPlane, Value: "", Effect: "NoSchedule"})
	}

	labels := map[string]any{}
	if f.allowScheduling {
		// Talos labels control planes as excluded from external load
		// balancers; workloads (and ingress) run on them here, so drop it.
		labels[labelExcludeFromExternalLB] = map[string]any{"$patch": "delete"}
	}
	for k, v := range poolLabels(p) {
		labels[k] = v
	}
	labels[labelNodeID] = itoa(in.ServerID)

	k := c.Kubernetes
	apiServerArgs := map[string]any{"enable-aggregator-routing": "true"}
	if o := c.Addons.OIDC; o.Enabled {
		apiServerArgs["oidc-issuer-url"] = o.IssuerURL
		apiServerArgs["oidc-client-id"] = o.ClientID
		apiServerArgs["oidc-username-claim"] = o.UsernameClaim
		apiServerArgs["oidc-groups-claim"] = o.GroupsClaim
		apiServerArgs["oidc-groups-prefix"] = o.GroupsPrefix
	}
	for name, v := range c.KubeAPI.ExtraArgs {
		apiServerArgs[name] = v
	}
	admission := make([]any, 0, len(c.KubeAPI.AdmissionControl))
	for _, a := range c.KubeAPI.AdmissionControl {
		admission = append(admission, anyMap(a))
	}
	apiServer := map[string]any{
		"admissionControl": admission,
		"certSANs":         stringList(f.certSANs),
		"extraArgs":        apiServerArgs,
	}
	controllerManager := map[string]any{"extraArgs": map[string]any{
		"cloud-provider": "external",
		"bind-address":   "0.0.0.0",
	}}
	scheduler := map[string]any{"extraArgs": map[string]any{"bind-address": "0.0.0.0"}}
	etcd := map[string]any{
		"advertisedSubnets": []any{f.net.ControlPlane.String()},
		"extraArgs":         map[string]any{"listen-metrics-urls": "http://0.0.0.0:2381"},
	}
	if k.Images.APIServer != "" {
		apiServer["image"] = imageRef(k.Images.APIServer, k.Version)
	}
	if k.Images.ControllerManager != "" {
		controllerManager["image"] = imageRef(k.Images.ControllerManager, k.Version)
	}
	if k.Images.Scheduler != "" {
		scheduler["image"] = imageRef(k.Images.Scheduler, k.Version)
	}
	if k.Images.Etcd != "" {
		etcd["image"] = k.Images.Etcd
	}

	out := []patch{{
		"machine": map[string]any{
			"nodeLabels":      labels,
			"nodeAnnotations": stringMap(p.annotations),
			"nodeTaints":      taintMap(taints),
			"kubelet": map[string]any{
				"extraConfig": kubeletExtraConfig(c, taints, "250m"),
			},
			"features": map[string]any{
				"kubernetesTalosAPIAccess": map[string]any{
					"enabled":                     true,
					"allowedRoles":                []any{"os:reader", "os:etcd:backup"},
					"allowedKubernetesNamespaces": []any{"kube-system"},
				},
			},
		},
		"cluster": map[string]any{
			"allowSchedulingOnControlPlanes": f.allowScheduling,
			"coreDNS":                        map[string]any{"disabled": !c.Talos.CoreDNSEnabled},
			"apiServer":                      apiServer,
			"controllerManager":              controllerManager,
			"etcd":                           etcd,
			"scheduler":                      scheduler,
			"adminKubeconfig":                map[string]any{"certLifetime": "87600h"},
			"inlineManifests":                inlineManifests(c, in.ClusterInputs),
			// No manifests: the module's remote manifests (the CRD bundles,
			// talos.extraRemoteManifests) are addons that hcloud-k8s applies
			// and prunes itself (internal/addons/remote_manifests.go), rather
			// than Talos applying them once at bootstrap.
			"externalCloudProvider": map[string]any{"enabled": true},
		},
	}}
	out = append(out, hostnamePatch(in.ServerName))
	if f.publicVIP.IsValid() {
		out = append(out, doc("HCloudVIPConfig", map[string]any{
			"name": f.publicVIP.String(), "link": publicLinkName, "apiToken": in.HCloudToken,
		}))
	}
	if c.ControlPlane.PrivateVIPIPv4Enabled {
		out = append(out, doc("HCloudVIPConfig", map[string]any{
			"name": f.net.ControlPlaneVIP.String(), "link": f.privateLinkName, "apiToken": in.HCloudToken,
		}))
	}
	return out, nil
}

// workerPatches are the worker node patches (docs/terraform-parity.md,
// "Worker and autoscaler patches"): pool labels
// with nodeid, annotations, kubelet registerWithTaints and reservations,
// and the static hostname. Autoscaler pools get the same without nodeid
// and without a hostname (Hetzner's name is used).
func workerPatches(c *config.Cluster, in NodeInputs, p pool) ([]patch, error) {
	taints, err := parseTaints(p.taints)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", p.name, err)
	}
	labels := poolLabels(p)
	if in.Role == RoleWorker {
		labels[labelNodeID] = itoa(in.ServerID)
	}
	out := []patch{{"machine": map[string]any{
		"nodeLabels":      labels,
		"nodeAnnotations": stringMap(p.annotations),
		"kubelet": map[string]any{
			"extraConfig": kubeletExtraConfig(c, taints, "100m"),
		},
	}}}
	if in.Role == RoleWorker {
		out = append(out, hostnamePatch(in.ServerName))
	}
	return out, nil
}

// inlineManifests is cluster.inlineManifests: the caller's complete list, or
// only talos.extraInlineManifests while addons are not rendered here.
func inlineManifests(c *config.Cluster, in ClusterInputs) []any {
	list := in.InlineManifests
	if list == nil {
		list = c.Talos.ExtraInlineManifests
	}
	out := make([]any, 0, len(list))
	for _, m := range list {
		out = append(out, map[string]any{"name": m.Name, "contents": m.Contents})
	}
	return out
}

// userPatches are talos.configPatches for the role, applied last.
func userPatches(c *config.Cluster, r Role) []patch {
	var list []map[string]any
	switch r {
	case RoleControlPlane:
		list = c.Talos.ConfigPatches.ControlPlane
	case RoleWorker:
		list = c.Talos.ConfigPatches.Worker
	case RoleAutoscaler:
		list = c.Talos.ConfigPatches.Autoscaler
	}
	out := make([]patch, 0, len(list))
	for _, p := range list {
		out = append(out, anyMap(p))
	}
	return out
}
