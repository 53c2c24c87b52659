package talos

import (
	"slices"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// patch is one config patch as the module writes it before yamlencode():
// either a v1alpha1 fragment (machine/cluster keys) or a whole
// multi-document config document (apiVersion/kind/name).
type patch = map[string]any

func doc(kind string, fields map[string]any) patch {
	p := patch{"apiVersion": "v1alpha1", "kind": kind}
	for k, v := range fields {
		p[k] = v
	}
	return p
}

// commonPatches are talos_common_config_patches (docs/terraform-parity.md,
// "Common patches"): the
// v1alpha1 machine/cluster settings every node shares, then the
// multi-document patches in the module's order: VolumeConfig (STATE,
// EPHEMERAL), ResolverConfig, TimeSyncConfig, StaticHostConfig,
// TrustedRootsConfig and the CRI customization file.
func commonPatches(c *config.Cluster, f facts) []patch {
	t := c.Talos
	k := c.Kubernetes

	kubeletArgs := map[string]any{
		"cloud-provider":             "external",
		"rotate-server-certificates": "true",
	}
	for name, v := range k.KubeletExtraArgs {
		kubeletArgs[name] = v
	}
	kubelet := map[string]any{
		"extraArgs": kubeletArgs,
		"extraConfig": map[string]any{
			"shutdownGracePeriod":             "90s",
			"shutdownGracePeriodCriticalPods": "15s",
		},
		"extraMounts": kubeletMounts(c),
		"nodeIP": map[string]any{
			"validSubnets": []any{f.net.Node.String()},
		},
	}
	if k.Images.Kubelet != "" {
		kubelet["image"] = imageRef(k.Images.Kubelet, k.Version)
	}

	ipv6Disabled := disableFlag(!t.IPv6Enabled)
	sysctls := map[string]any{
		"net.core.somaxconn":                 "65535",
		"net.core.netdev_max_backlog":        "4096",
		"net.ipv6.conf.default.disable_ipv6": ipv6Disabled,
		"net.ipv6.conf.all.disable_ipv6":     ipv6Disabled,
	}
	for name, v := range t.SysctlsExtraArgs {
		sysctls[name] = v
	}

	machine := map[string]any{
		"certSANs": stringList(f.certSANs),
		"kubelet":  kubelet,
		"sysctls":  sysctls,
		"features": map[string]any{
			"hostDNS": map[string]any{
				"enabled":              true,
				"forwardKubeDNSToHost": false,
				"resolveMemberNames":   true,
			},
		},
		"logging": map[string]any{"destinations": loggingDestinations(c)},
	}
	if len(t.KernelModules) > 0 {
		machine["kernel"] = map[string]any{"modules": kernelModules(c)}
	}
	if len(t.Registries) > 0 {
		machine["registries"] = anyMap(t.Registries)
	}

	proxy := map[string]any{"disabled": c.Addons.Cilium.KubeProxyReplacementEnabled}
	if k.Images.Proxy != "" {
		proxy["image"] = imageRef(k.Images.Proxy, k.Version)
	}
	discovery := t.Discovery
	cluster := map[string]any{
		"network": map[string]any{
			"dnsDomain":      c.Cluster.Domain,
			"podSubnets":     []any{f.net.Pod.String()},
			"serviceSubnets": []any{f.net.Service.String()},
			"cni":            map[string]any{"name": "none"},
		},
		"proxy": proxy,
		"discovery": map[string]any{
			"enabled": discovery.KubernetesEnabled || discovery.ServiceEnabled,
			"registries": map[string]any{
				"kubernetes": map[string]any{"disabled": !discovery.KubernetesEnabled},
				"service":    map[string]any{"disabled": !discovery.ServiceEnabled},
			},
		},
	}

	out := []patch{{"machine": machine, "cluster": cluster}}

	// System volume encryption, keyed by the node ID.
	encryption := func() map[string]any {
		return map[string]any{
			"provider": "luks2",
			"options":  []any{"no_read_workqueue", "no_write_workqueue"},
			"keys":     []any{map[string]any{"nodeID": map[string]any{}, "slot": 0}},
		}
	}
	if t.StatePartitionEncryption {
		out = append(out, doc("VolumeConfig", map[string]any{"name": "STATE", "encryption": encryption()}))
	}
	if t.EphemeralPartitionEncryption {
		out = append(out, doc("VolumeConfig", map[string]any{"name": "EPHEMERAL", "encryption": encryption()}))
	}

	ns := []any{}
	for _, a := range nameservers(c) {
		ns = append(ns, map[string]any{"address": a})
	}
	out = append(out, doc("ResolverConfig", map[string]any{"nameservers": ns}))
	out = append(out, doc("TimeSyncConfig", map[string]any{"ntp": map[string]any{"servers": stringList(t.NTPServers)}}))
	out = append(out, staticHostPatches(c, f)...)
	out = append(out, trustedRootsPatches(c)...)

	if !t.CRIDiscardUnpackedLayers {
		out = append(out, patch{"machine": map[string]any{"files": []any{map[string]any{
			"path":    criCustomizationPath,
			"op":      "create",
			"content": criDiscardUnpackedLayersDisabled,
		}}}})
	}
	return out
}

// kubeletMounts: Longhorn's data directory first (when enabled), then
// talos.kubeletExtraMounts with the destination defaulting to the source.
func kubeletMounts(c *config.Cluster) []any {
	out := []any{}
	bind := func() []any { return []any{"bind", "rshared", "rw"} }
	if c.Addons.Longhorn.Enabled {
		out = append(out, map[string]any{
			"source": "/var/lib/longhorn", "destination": "/var/lib/longhorn",
			"type": "bind", "options": bind(),
		})
	}
	for _, m := range c.Talos.KubeletExtraMounts {
		dest := m.Destination
		if dest == "" {
			dest = m.Source
		}
		mount := map[string]any{"source": m.Source, "destination": dest}
		if m.Type != "" {
			mount["type"] = m.Type
		}
		if m.Options != nil {
			mount["options"] = stringList(m.Options)
		}
		out = append(out, mount)
	}
	return out
}

func kernelModules(c *config.Cluster) []any {
	out := make([]any, 0, len(c.Talos.KernelModules))
	for _, m := range c.Talos.KernelModules {
		mod := map[string]any{"name": m.Name}
		if m.Parameters != nil {
			mod["parameters"] = stringList(m.Parameters)
		}
		out = append(out, mod)
	}
	return out
}

func loggingDestinations(c *config.Cluster) []any {
	out := make([]any, 0, len(c.Talos.LoggingDestinations))
	for _, d := range c.Talos.LoggingDestinations {
		dest := map[string]any{"endpoint": d.Endpoint, "format": d.Format}
		if d.Format == "" {
			dest["format"] = "json_lines"
		}
		dest["extraTags"] = stringMap(d.ExtraTags)
		out = append(out, dest)
	}
	return out
}

// staticHostPatches: one StaticHostConfig per distinct IP, in order of first
// appearance; kube_api_hostname → kube_api_private_ipv4 comes first. The
// host names of an IP are merged, sorted and deduplicated.
func staticHostPatches(c *config.Cluster, f facts) []patch {
	type entry struct {
		ip        string
		hostnames []string
	}
	var entries []entry
	if c.KubeAPI.Hostname != "" {
		entries = append(entries, entry{f.kubeAPIPrivateIPv4.String(), []string{c.KubeAPI.Hostname}})
	}
	for _, h := range c.Talos.StaticHosts {
		entries = append(entries, entry{h.IP, h.Hostnames})
	}
	var ips []string
	names := map[string][]string{}
	for _, e := range entries {
		if !slices.Contains(ips, e.ip) {
			ips = append(ips, e.ip)
		}
		names[e.ip] = append(names[e.ip], e.hostnames...)
	}
	out := make([]patch, 0, len(ips))
	for _, ip := range ips {
		out = append(out, doc("StaticHostConfig", map[string]any{
			"name":      ip,
			"hostnames": stringList(sortedDistinct(names[ip])),
		}))
	}
	return out
}

// trustedRootsPatches: one TrustedRootsConfig per talos.certificates entry
// (sorted by name, like Terraform's map iteration), the PEM blocks trimmed
// and joined with newlines.
func trustedRootsPatches(c *config.Cluster) []patch {
	names := make([]string, 0, len(c.Talos.Certificates))
	for name := range c.Talos.Certificates {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]patch, 0, len(names))
	for _, name := range names {
		var certs []string
		for _, pem := range c.Talos.Certificates[name] {
			if s := strings.TrimSpace(pem); s != "" {
				certs = append(certs, s)
			}
		}
		out = append(out, doc("TrustedRootsConfig", map[string]any{
			"name":         name,
			"certificates": strings.Join(certs, "\n"),
		}))
	}
	return out
}
