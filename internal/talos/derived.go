package talos

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Link names (talos_config_base.tf): the public interface is eth0 when the
// server has any public IP, and the private network is then eth1.
const (
	publicLinkName = "eth0"
	// InstallDisk is the disk Talos installs to on Hetzner Cloud servers.
	InstallDisk = "/dev/sda"
	// ImageFactoryHost serves the installer images.
	ImageFactoryHost = "factory.talos.dev"
)

// Label and taint keys the module sets.
const (
	labelNodeID                      = "nodeid"
	labelExcludeFromExternalLB       = "node.kubernetes.io/exclude-from-external-load-balancers"
	taintControlPlane                = "node-role.kubernetes.io/control-plane"
	extraRouteMetric                 = 512
	privateLinkMTU                   = 1450 // 1400 with bare metal (vSwitch), which hcloud-k8s does not support
	criCustomizationPath             = "/etc/cri/conf.d/20-customization.part"
	criDiscardUnpackedLayersDisabled = "[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = false\n"
)

// facts are the values derived from the cluster file and the cloud inputs
// that several patches share.
type facts struct {
	net                layout.Network
	kubeAPIPrivateIPv4 netip.Addr
	endpoint           string // https://<kube_api_private_ipv4>:6443
	certSANs           []string
	publicInterface    bool
	privateLinkName    string
	installerImage     string
	allowScheduling    bool
	publicVIP          netip.Addr // zero unless enabled
	// ukiCmdline: the version contract makes GRUB take the kernel command
	// line from the UKI (Talos >= 1.12), which forbids install.extraKernelArgs;
	// the extra kernel arguments then reach the node through the schematic.
	ukiCmdline bool
}

func deriveFacts(c *config.Cluster, in ClusterInputs) (facts, error) {
	var f facts
	vc, err := VersionContract(c.Talos.Version)
	if err != nil {
		return f, err
	}
	f.ukiCmdline = vc.GrubUseUKICmdlineDefault()
	n, err := c.Layout()
	if err != nil {
		return f, fmt.Errorf("network layout: %w", err)
	}
	f.net = n
	p, ok := primary(in.ControlPlanes)
	if !ok {
		return f, fmt.Errorf("no control-plane servers known")
	}
	f.kubeAPIPrivateIPv4 = n.KubeAPIPrivateIPv4(c.KubeAPI.LoadBalancer.Enabled, c.ControlPlane.PrivateVIPIPv4Enabled, p.PrivateIPv4)
	if !f.kubeAPIPrivateIPv4.IsValid() {
		return f, fmt.Errorf("control plane %q has no private IPv4 for the API endpoint", p.Name)
	}
	f.endpoint = layout.KubeAPIURL(f.kubeAPIPrivateIPv4.String())
	f.publicInterface = c.Talos.PublicIPv4Enabled || c.Talos.PublicIPv6Enabled
	f.privateLinkName = "eth0"
	if f.publicInterface {
		f.privateLinkName = "eth1"
	}
	f.installerImage = InstallerImage(c)
	f.allowScheduling = c.AllowSchedulingOnControlPlanes()
	if c.PublicVIPEnabled() {
		f.publicVIP = in.PublicVIPIPv4
	}
	f.certSANs = certSANs(c, n, in, f.publicVIP)
	return f, nil
}

// InstallerImage is the hcloud installer of the cluster's schematic and Talos
// version: factory.talos.dev/hcloud-installer/<schematic>:<talos version>.
func InstallerImage(c *config.Cluster) string {
	return ImageFactoryHost + "/hcloud-installer/" + image.SchematicID(c) + ":" + c.Talos.Version
}

// certSANs is the module's talos_certificate_san: sorted, distinct,
// non-empty strings of the VIPs, the kube-API load balancer IPs, every
// control plane's IPs, kube_api_hostname and the loopback names. The private
// VIP is included even when it is disabled (the module always computes it).
func certSANs(c *config.Cluster, n layout.Network, in ClusterInputs, publicVIP netip.Addr) []string {
	var addrs []netip.Addr
	addrs = append(addrs, publicVIP, n.ControlPlaneVIP)
	if c.KubeAPI.LoadBalancer.Enabled {
		addrs = append(addrs, n.KubeAPILoadBalancerIP, in.KubeAPILoadBalancerPublicIPv4, in.KubeAPILoadBalancerPublicIPv6)
	}
	cps := sortedControlPlanes(in.ControlPlanes)
	for _, cp := range cps {
		addrs = append(addrs, cp.PrivateIPv4)
	}
	for _, cp := range cps {
		addrs = append(addrs, cp.PublicIPv4)
	}
	for _, cp := range cps {
		addrs = append(addrs, cp.PublicIPv6)
	}
	var out []string
	for _, a := range addrs {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	out = append(out, c.KubeAPI.Hostname, "127.0.0.1", "::1", "localhost")
	return sortedDistinct(out)
}

// sortedDistinct is Terraform's sort(distinct(compact(list))): empty strings
// dropped, duplicates removed, sorted lexicographically.
func sortedDistinct(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// taint is a parsed nodepool taint (nodepool.tf).
type taint struct {
	Key, Value, Effect string
}

var reTaint = regexp.MustCompile(`^([^=:]+)=?([^=:]*?):(.+)$`)

func parseTaints(list []string) ([]taint, error) {
	out := make([]taint, 0, len(list))
	for _, s := range list {
		m := reTaint.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("taint %q is not key[=value]:Effect", s)
		}
		out = append(out, taint{Key: m[1], Value: m[2], Effect: m[3]})
	}
	return out, nil
}

// taintObjects is registerWithTaints: a list of {key, value, effect} maps.
func taintObjects(ts []taint) []any {
	out := make([]any, 0, len(ts))
	for _, t := range ts {
		out = append(out, map[string]any{"key": t.Key, "value": t.Value, "effect": t.Effect})
	}
	return out
}

// taintMap is nodeTaints: key → "<value>:<effect>".
func taintMap(ts []taint) map[string]any {
	out := make(map[string]any, len(ts))
	for _, t := range ts {
		out[t.Key] = t.Value + ":" + t.Effect
	}
	return out
}

// poolLabels is merge(np.labels, {nodepool = np.name}).
func poolLabels(p pool) map[string]any {
	out := make(map[string]any, len(p.labels)+1)
	for k, v := range p.labels {
		out[k] = v
	}
	out[layout.LabelNodepool] = p.name
	return out
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func anyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	return out
}

func stringList(list []string) []any {
	out := make([]any, 0, len(list))
	for _, s := range list {
		out = append(out, s)
	}
	return out
}

// nameservers drops IPv6 nameservers when IPv6 is disabled.
func nameservers(c *config.Cluster) []string {
	var out []string
	for _, ns := range c.Talos.Nameservers {
		if c.Talos.IPv6Enabled || !strings.Contains(ns, ":") {
			out = append(out, ns)
		}
	}
	return out
}

// extraRoutes are the private link's routes via the network gateway. The
// default route omits its destination (Talos issue 12521).
func extraRoutes(c *config.Cluster, gw netip.Addr) []any {
	out := make([]any, 0, len(c.Talos.ExtraRoutes))
	for _, cidr := range c.Talos.ExtraRoutes {
		r := map[string]any{"gateway": gw.String(), "metric": extraRouteMetric}
		if cidr != "0.0.0.0/0" {
			r["destination"] = cidr
		}
		out = append(out, r)
	}
	return out
}

// disableFlag is the module's "${enabled ? 0 : 1}" sysctl value.
func disableFlag(disabled bool) string {
	if disabled {
		return "1"
	}
	return "0"
}

func imageRef(repo, k8sVersion string) string { return repo + ":" + k8sVersion }

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
