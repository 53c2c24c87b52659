package talos

import (
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// cloudPatches are the patches talos_cloud_config_patches adds after the
// common ones for Hetzner Cloud servers (docs/terraform-parity.md, "Cloud
// patches"): the installer,
// then the public link (LinkConfig + DHCPv4Config when there is a public
// IPv4), then the private link (LinkConfig with MTU and extra routes +
// DHCPv4Config). Hetzner has no DHCPv6, so there is no DHCPv6Config: the
// public IPv6 reaches Talos through the hcloud platform metadata.
//
// Deviation: machine.install.extraKernelArgs is left out when the version
// contract turns on install.grubUseUKICmdline (Talos >= 1.12, so always for
// v1.13): machinery rejects the combination, and with the UKI command line
// the arguments come from the schematic, which already carries
// talos.extraKernelArgs (image.CloudSchematic).
func cloudPatches(c *config.Cluster, f facts) []patch {
	install := map[string]any{"image": f.installerImage}
	if !f.ukiCmdline {
		install["extraKernelArgs"] = stringList(c.Talos.ExtraKernelArgs)
	}
	out := []patch{{"machine": map[string]any{"install": install}}}
	if f.publicInterface {
		out = append(out, doc("LinkConfig", map[string]any{"name": publicLinkName, "up": true}))
		if c.Talos.PublicIPv4Enabled {
			out = append(out, doc("DHCPv4Config", map[string]any{"name": publicLinkName}))
		}
	}
	return append(out, privateLinkPatches(c, f)...)
}

// privateLinkPatches are the private network's LinkConfig and DHCPv4Config.
// They are also the whole user_data of private-access clusters.
func privateLinkPatches(c *config.Cluster, f facts) []patch {
	return []patch{
		doc("LinkConfig", map[string]any{
			"name":   f.privateLinkName,
			"up":     true,
			"mtu":    privateLinkMTU,
			"routes": extraRoutes(c, f.net.Gateway),
		}),
		doc("DHCPv4Config", map[string]any{"name": f.privateLinkName}),
	}
}
