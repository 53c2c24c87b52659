package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Validation mirrors every validation block of the module's variables.tf (the
// limits are listed per key in docs/cluster-file.md), plus checks the module leaves to Hetzner to fail on later (pool name syntax,
// network zones, label syntax): a tool that knows the answer before creating anything
// should say so before creating anything.

var (
	reClusterName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$`)
	rePoolName    = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
	reDNSName     = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	reRDNS        = regexp.MustCompile(`^(?:(?:[a-z0-9{} ](?:[a-z0-9-{} ]{0,61}[a-z0-9{} ])?\.)*(?:[a-z0-9{} ](?:[a-z0-9-{} ]{0,61}[a-z0-9{} ])?))$`)
	reImageRepo   = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$`)
	reTaint       = regexp.MustCompile(`^(?P<key>[^=:]+)=?(?P<value>[^=:]*?):(?P<effect>.+)$`)
	reRoute       = regexp.MustCompile(`^(?:[0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$`)
	reCertName    = regexp.MustCompile(`^[a-z0-9-]+$`)
	reVersion     = regexp.MustCompile(`^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$`)
	rePassphrase  = regexp.MustCompile(`^[ -~]{8,512}$`)
	reS3HcloudURL = regexp.MustCompile(`^(?:https?://)?(?P<bucket>[^.]+)\.(?P<region>[^.]+)\.your-objectstorage\.com\.?$`)
	reLabelName   = regexp.MustCompile(`^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	reLabelValue  = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	rePort        = regexp.MustCompile(`^(?:any|\d{1,5}(?:-\d{1,5})?)$`)
)

// Limits the module enforces.
const (
	MaxControlPlaneNodes = 9
	MaxNodes             = 100
	MaxNamePrefixLength  = 56 // len(cluster name) + len(pool name)
)

// NetworkZone returns the Hetzner network zone of a location ("" if unknown).
func NetworkZone(location string) string { return networkZones[location] }

// networkZones maps a location to its Hetzner network zone; every subnet lives in the
// zone of the first control-plane pool, so servers elsewhere could not join the network.
var networkZones = map[string]string{
	"fsn1": "eu-central", "nbg1": "eu-central", "hel1": "eu-central",
	"ash": "us-east", "hil": "us-west", "sin": "ap-southeast",
}

var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

type validator struct {
	errs errorList
}

func (v *validator) add(path, format string, args ...any) { v.errs.add(path, format, args...) }

func (v *validator) all(c *Cluster) {
	if c.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q, got %q", APIVersion, c.APIVersion)
	}
	if c.Kind != Kind {
		v.add("kind", "must be %q, got %q", Kind, c.Kind)
	}
	v.cluster(c)
	net := v.network(c)
	v.firewall(c)
	v.pools(c, net)
	v.ingress(c)
	v.images(c)
	v.talos(c)
	v.backup(c)
	v.kubernetes(c)
	v.addons(c)
	v.oneOf("crds.gatewayAPI.releaseChannel", c.CRDs.GatewayAPI.ReleaseChannel, "standard", "experimental")
}

func (v *validator) oneOf(path, got string, valid ...string) {
	if !slices.Contains(valid, got) {
		shown := make([]string, len(valid))
		for i, s := range valid {
			shown[i] = strconv.Quote(s)
		}
		v.add(path, "must be one of %s, got %q", strings.Join(shown, ", "), got)
	}
}

func (v *validator) optionalOneOf(path, got string, valid ...string) {
	if got != "" {
		v.oneOf(path, got, valid...)
	}
}

func (v *validator) rdns(path, tmpl string) {
	if tmpl != "" && !reRDNS.MatchString(tmpl) {
		v.add(path, "%q is not a valid reverse DNS template: lowercase DNS labels of letters, digits and dashes, with placeholders such as {{ hostname }}", tmpl)
	}
}

func (v *validator) location(path, loc string) {
	v.oneOf(path, loc, Locations...)
}

func (v *validator) cluster(c *Cluster) {
	s := c.Cluster
	switch {
	case s.Name == "":
		v.add("cluster.name", "is required: 1-32 lowercase letters, digits and dashes, e.g. \"prod\"")
	case !reClusterName.MatchString(s.Name):
		v.add("cluster.name", "%q is not valid: use 1-32 lowercase letters, digits and dashes, starting and ending with a letter or digit", s.Name)
	}
	if !reDNSName.MatchString(s.Domain) {
		v.add("cluster.domain", "%q is not a valid DNS name (lowercase labels of at most 63 characters, e.g. cluster.local)", s.Domain)
	}
	v.rdns("cluster.rdns", s.RDNS)
	v.rdns("cluster.rdnsIPv4", s.RDNSIPv4)
	v.rdns("cluster.rdnsIPv6", s.RDNSIPv6)
	v.oneOf("cluster.access", s.Access, "public", "private")
}

// prefix parses an IPv4 CIDR that must be a network address, as Terraform's cidrsubnet
// would silently mask it and build a layout the user did not mean.
func (v *validator) prefix(path, s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		v.add(path, "%q is not an IPv4 CIDR such as 10.0.0.0/16", s)
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		v.add(path, "%q has host bits set; did you mean %s?", s, p.Masked())
		return netip.Prefix{}, false
	}
	return p, true
}

// network checks the address ranges and computes the layout the pools are checked
// against; it returns nil when the ranges are invalid (already reported).
func (v *validator) network(c *Cluster) *layout.Network {
	n := c.Network
	ok := true
	parse := func(path, s string) netip.Prefix {
		if s == "" {
			return netip.Prefix{}
		}
		p, good := v.prefix(path, s)
		ok = ok && good
		return p
	}
	in := layout.NetworkInput{
		Network:           parse("network.ipv4CIDR", n.IPv4CIDR),
		NodeCIDR:          parse("network.nodeIPv4CIDR", n.NodeIPv4CIDR),
		ServiceCIDR:       parse("network.serviceIPv4CIDR", n.ServiceIPv4CIDR),
		PodCIDR:           parse("network.podIPv4CIDR", n.PodIPv4CIDR),
		NativeRoutingCIDR: parse("network.nativeRoutingIPv4CIDR", n.NativeRoutingIPv4CIDR),
	}
	if n.IPv4CIDR == "" {
		v.add("network.ipv4CIDR", "is required, e.g. 10.0.0.0/16")
		ok = false
	}
	if m := n.NodeIPv4SubnetMaskSize; m != nil {
		if *m < 1 || *m > 30 {
			v.add("network.nodeIPv4SubnetMaskSize", "must be between 1 and 30, got %d", *m)
			ok = false
		}
		in.NodeSubnetMaskSize = *m
	}
	if !ok {
		return nil
	}
	if !privateRange(in.Network) {
		v.add("network.ipv4CIDR", "%s is not a private range; Hetzner networks must lie within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (RFC 1918)", in.Network)
		return nil
	}
	l, err := layout.ComputeNetwork(in)
	if err != nil {
		v.add("network", "%v", err)
		return nil
	}
	if !v.rangesApart(c, l) {
		return nil
	}
	return &l
}

// rfc1918 are the ranges Hetzner accepts for a network.
var rfc1918 = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

func privateRange(p netip.Prefix) bool {
	for _, r := range rfc1918 {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// rangesApart checks what Kubernetes and Cilium need of the derived ranges:
// nodes, services and pods in separate ranges (an overlap routes a ClusterIP or
// pod address to a node, or the other way round), and pods inside the native
// routing range (outside it Cilium masquerades pod traffic). Each problem is
// reported on the key the user set, or on "network" when both ranges were
// derived from ipv4CIDR.
func (v *validator) rangesApart(c *Cluster, l layout.Network) bool {
	n := c.Network
	type named struct {
		key, set string
		p        netip.Prefix
	}
	ranges := []named{
		{"network.nodeIPv4CIDR", n.NodeIPv4CIDR, l.Node},
		{"network.serviceIPv4CIDR", n.ServiceIPv4CIDR, l.Service},
		{"network.podIPv4CIDR", n.PodIPv4CIDR, l.Pod},
	}
	ok := true
	for i, a := range ranges {
		for _, b := range ranges[i+1:] {
			if !a.p.Overlaps(b.p) {
				continue
			}
			key := "network"
			switch {
			case b.set != "":
				key = b.key
			case a.set != "":
				key = a.key
			}
			v.add(key, "%s (%s) overlaps %s (%s); node, service and pod ranges must not share addresses", a.key, a.p, b.key, b.p)
			ok = false
		}
	}
	if nr := l.NativeRouting; nr.IsValid() && l.Pod.IsValid() && !(nr.Bits() <= l.Pod.Bits() && nr.Contains(l.Pod.Addr())) {
		key := "network.nativeRoutingIPv4CIDR"
		if n.NativeRoutingIPv4CIDR == "" && n.PodIPv4CIDR != "" {
			key = "network.podIPv4CIDR"
		}
		v.add(key, "pod range %s is not inside the native routing range %s; Cilium routes pods natively only inside it", l.Pod, nr)
		ok = false
	}
	return ok
}

func (v *validator) cidrList(path string, list []string) {
	for i, s := range list {
		if _, err := netip.ParsePrefix(s); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		v.add(fmt.Sprintf("%s[%d]", path, i), "%q is not an IP address or CIDR (e.g. 203.0.113.7/32 or 2001:db8::/64)", s)
	}
}

func (v *validator) firewall(c *Cluster) {
	f := c.Firewall
	v.cidrList("firewall.apiSource", f.APISource)
	v.cidrList("firewall.kubeAPISource", f.KubeAPISource)
	v.cidrList("firewall.talosAPISource", f.TalosAPISource)
	for i, r := range f.ExtraRules {
		p := fmt.Sprintf("firewall.extraRules[%d]", i)
		if r.Description == "" {
			v.add(p+".description", "is required")
		}
		v.oneOf(p+".direction", r.Direction, "in", "out")
		v.oneOf(p+".protocol", r.Protocol, "tcp", "udp", "icmp", "gre", "esp")
		switch r.Direction {
		case "in":
			if len(r.DestinationIPs) > 0 {
				v.add(p+".destinationIPs", "must be empty for an incoming rule; use sourceIPs")
			}
		case "out":
			if len(r.SourceIPs) > 0 {
				v.add(p+".sourceIPs", "must be empty for an outgoing rule; use destinationIPs")
			}
		}
		v.cidrList(p+".sourceIPs", r.SourceIPs)
		v.cidrList(p+".destinationIPs", r.DestinationIPs)
		switch r.Protocol {
		case "tcp", "udp":
			if r.Port == "" {
				v.add(p+".port", "is required for protocol %s (a port such as 443, a range such as 30000-32767, or any)", r.Protocol)
			} else {
				v.port(p+".port", r.Port)
			}
		case "icmp", "gre", "esp":
			if r.Port != "" {
				v.add(p+".port", "must not be set for protocol %s, which has no ports", r.Protocol)
			}
		}
	}
}

func (v *validator) port(path, s string) {
	if !rePort.MatchString(s) {
		v.add(path, "%q is not a port: use a number 1-65535, a range such as 30000-32767, or any", s)
		return
	}
	if s == "any" {
		return
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, _ := strconv.Atoi(lo)
	b := a
	if isRange {
		b, _ = strconv.Atoi(hi)
	}
	if a < 1 || b > 65535 || a > b {
		v.add(path, "%q is out of range: ports are 1-65535 and a range must go upward", s)
	}
}

func (v *validator) labels(path string, labels map[string]string) {
	for k, val := range labels {
		name := k
		if prefix, n, ok := strings.Cut(k, "/"); ok {
			name = n
			if prefix == "" || len(prefix) > 253 || !reDNSName.MatchString(prefix) {
				v.add(path+"."+k, "label key prefix %q must be a DNS subdomain", prefix)
			}
		}
		if !reLabelName.MatchString(name) {
			v.add(path+"."+k, "label key %q is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric", k)
		}
		if !reLabelValue.MatchString(val) {
			v.add(path+"."+k, "label value %q is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric", val)
		}
	}
}

func (v *validator) taints(path string, taints []string) {
	for i, t := range taints {
		p := fmt.Sprintf("%s[%d]", path, i)
		m := reTaint.FindStringSubmatch(t)
		if m == nil {
			v.add(p, "%q is not a taint: write key[=value]:Effect, e.g. dedicated=gpu:NoSchedule", t)
			continue
		}
		if !slices.Contains(taintEffects, m[3]) {
			v.add(p, "taint %q has effect %q; valid effects are NoSchedule, PreferNoSchedule, NoExecute", t, m[3])
		}
	}
}

// nodepool checks what every kind of pool shares.
func (v *validator) nodepool(c *Cluster, path string, np Nodepool, names map[string]string) {
	switch {
	case np.Name == "":
		v.add(path+".name", "is required")
	case !rePoolName.MatchString(np.Name):
		v.add(path+".name", "%q is not valid: use lowercase letters, digits and dashes, starting and ending with a letter or digit", np.Name)
	case len(c.Cluster.Name)+len(np.Name) > MaxNamePrefixLength:
		v.add(path+".name", "%q is too long: cluster name and pool name together may have at most %d characters (have %d)", np.Name, MaxNamePrefixLength, len(c.Cluster.Name)+len(np.Name))
	}
	if np.Name != "" {
		if other, dup := names[np.Name]; dup {
			v.add(path+".name", "%q is already used by %s; pool names must be unique across all pools (they form server names)", np.Name, other)
		} else {
			names[np.Name] = path
		}
	}
	v.location(path+".location", np.Location)
	if np.Type == "" {
		v.add(path+".type", "is required: a Hetzner server type such as cpx22 (amd64) or cax21 (arm64)")
	}
	v.labels(path+".labels", np.Labels)
	v.taints(path+".taints", np.Taints)
}

func (v *validator) serverPool(c *Cluster, path string, sp ServerPool, names map[string]string) {
	v.nodepool(c, path, sp.Nodepool, names)
	if sp.Count < 0 || sp.Count > MaxNodes {
		v.add(path+".count", "must be between 0 and %d, got %d", MaxNodes, sp.Count)
	}
	v.rdns(path+".rdns", sp.RDNS)
	v.rdns(path+".rdnsIPv4", sp.RDNSIPv4)
	v.rdns(path+".rdnsIPv6", sp.RDNSIPv6)
	v.fallback(path, sp)
}

// fallback checks a pool's capacity fallback: known locations in the pool's
// network zone (a server elsewhere could not join the network), each once.
func (v *validator) fallback(path string, sp ServerPool) {
	seen := map[string]bool{sp.Location: true}
	for i, loc := range sp.FallbackLocations {
		p := fmt.Sprintf("%s.fallbackLocations[%d]", path, i)
		zone, ok := networkZones[loc]
		switch {
		case !ok:
			v.location(p, loc)
		case seen[loc]:
			v.add(p, "%s is listed twice (or is the pool's location); each fallback location once", loc)
		case zone != networkZones[sp.Location]:
			v.add(p, "%s is in network zone %s, but the pool's location %s is in %s; a fallback must be in the same zone", loc, zone, sp.Location, networkZones[sp.Location])
		}
		seen[loc] = true
	}
	switch sp.PlacementGroupFallback {
	case "", PlacementGroupFallbackKeep, PlacementGroupFallbackNone:
	default:
		v.add(path+".placementGroupFallback", "%q is not valid: use keep or none", sp.PlacementGroupFallback)
	}
}

func (v *validator) pools(c *Cluster, net *layout.Network) {
	names := map[string]string{}
	cpSum := 0
	if len(c.ControlPlaneNodepools) == 0 {
		v.add("controlPlaneNodepools", "at least one control-plane pool is required (e.g. 3 nodes for high availability)")
	}
	for i, p := range c.ControlPlaneNodepools {
		v.serverPool(c, fmt.Sprintf("controlPlaneNodepools[%d]", i), p.ServerPool, names)
		cpSum += p.Count
	}
	if len(c.ControlPlaneNodepools) > 0 {
		switch {
		case cpSum > MaxControlPlaneNodes:
			v.add("controlPlaneNodepools", "the counts add up to %d control planes; at most %d are allowed", cpSum, MaxControlPlaneNodes)
		case cpSum%2 == 0:
			v.add("controlPlaneNodepools", "the counts add up to %d control planes; etcd needs an odd number (1, 3, 5, 7 or 9)", cpSum)
		}
	}
	total := cpSum
	subnets := map[string]string{}
	for i, p := range c.WorkerNodepools {
		path := fmt.Sprintf("workerNodepools[%d]", i)
		v.serverPool(c, path, p.ServerPool, names)
		total += p.Count
		v.pinnedSubnet(path+".subnet", p.Subnet, net, subnets)
	}
	if total > MaxNodes {
		v.add("workerNodepools", "control planes and workers add up to %d nodes; at most %d are allowed (one Hetzner network holds 100 servers)", total, MaxNodes)
	}
	if len(c.AutoscalerNodepools) > 0 && !c.Addons.ClusterAutoscaler.Enabled {
		v.add("autoscalerNodepools", "autoscaler pools need addons.clusterAutoscaler.enabled: true")
	}
	for i, p := range c.AutoscalerNodepools {
		path := fmt.Sprintf("autoscalerNodepools[%d]", i)
		v.nodepool(c, path, p.Nodepool, names)
		if p.Min < 0 || p.Min > MaxNodes {
			v.add(path+".min", "must be between 0 and %d, got %d", MaxNodes, p.Min)
		}
		if p.Max > MaxNodes {
			v.add(path+".max", "must be at most %d (one Hetzner network holds 100 servers), got %d", MaxNodes, p.Max)
		} else if p.Max < p.Min {
			v.add(path+".max", "must be at least min (%d), got %d", p.Min, p.Max)
		}
		v.pinnedSubnet(path+".subnet", p.Subnet, net, subnets)
	}
	v.networkZones(c)
}

// pinnedSubnet checks a pool's subnet against the module's pinned worker subnets.
func (v *validator) pinnedSubnet(path, s string, net *layout.Network, used map[string]string) {
	if s == "" {
		return
	}
	p, ok := v.prefix(path, s)
	if !ok {
		return
	}
	if other, dup := used[p.String()]; dup {
		v.add(path, "%s is already used by %s; each pool needs its own subnet", p, other)
		return
	}
	used[p.String()] = path
	if net == nil {
		return // the network itself is invalid and already reported
	}
	if !net.IsPinnedWorkerSubnet(p) {
		v.add(path, "%s is not one of the pinned worker subnets of this network (%s)", p, pinnedSummary(net.PinnedWorker))
	}
}

func (v *validator) networkZones(c *Cluster) {
	if len(c.ControlPlaneNodepools) == 0 {
		return
	}
	first := c.ControlPlaneNodepools[0].Location
	zone, ok := networkZones[first]
	if !ok {
		return
	}
	check := func(path, loc string) {
		if z, ok := networkZones[loc]; ok && z != zone {
			v.add(path, "%s is in network zone %s, but the network's subnets are in %s (the zone of the first control-plane pool, %s); all pools must share one zone", loc, z, zone, first)
		}
	}
	for i, p := range c.ControlPlaneNodepools {
		check(fmt.Sprintf("controlPlaneNodepools[%d].location", i), p.Location)
	}
	for i, p := range c.WorkerNodepools {
		check(fmt.Sprintf("workerNodepools[%d].location", i), p.Location)
	}
	for i, p := range c.AutoscalerNodepools {
		check(fmt.Sprintf("autoscalerNodepools[%d].location", i), p.Location)
	}
}

func (v *validator) healthCheck(path string, h HealthCheck) {
	if h.Interval < 3 || h.Interval > 60 {
		v.add(path+".interval", "must be between 3 and 60 seconds, got %d", h.Interval)
	}
	if h.Retries < 0 || h.Retries > 5 {
		v.add(path+".retries", "must be between 0 and 5, got %d", h.Retries)
	}
	if h.Timeout <= 0 || h.Timeout > h.Interval {
		v.add(path+".timeout", "must be more than 0 and at most the interval (%d seconds), got %d", h.Interval, h.Timeout)
	}
}

var (
	lbTypes      = []string{"lb11", "lb21", "lb31"}
	lbAlgorithms = []string{"round_robin", "least_connections"}
)

func (v *validator) ingress(c *Cluster) {
	l := c.IngressLoadBalancer
	v.oneOf("ingressLoadBalancer.type", l.Type, lbTypes...)
	v.oneOf("ingressLoadBalancer.algorithm", l.Algorithm, lbAlgorithms...)
	v.healthCheck("ingressLoadBalancer.healthCheck", l.HealthCheck)
	v.rdns("ingressLoadBalancer.rdns", l.RDNS)
	v.rdns("ingressLoadBalancer.rdnsIPv4", l.RDNSIPv4)
	v.rdns("ingressLoadBalancer.rdnsIPv6", l.RDNSIPv6)
	names := map[string]string{}
	for i, p := range l.Pools {
		path := fmt.Sprintf("ingressLoadBalancer.pools[%d]", i)
		switch {
		case p.Name == "":
			v.add(path+".name", "is required")
		case !rePoolName.MatchString(p.Name):
			v.add(path+".name", "%q is not valid: use lowercase letters, digits and dashes", p.Name)
		case len(c.Cluster.Name)+len(p.Name) > MaxNamePrefixLength:
			v.add(path+".name", "%q is too long: cluster name and pool name together may have at most %d characters", p.Name, MaxNamePrefixLength)
		}
		if other, dup := names[p.Name]; dup && p.Name != "" {
			v.add(path+".name", "%q is already used by %s", p.Name, other)
		}
		names[p.Name] = path
		v.location(path+".location", p.Location)
		v.optionalOneOf(path+".type", p.Type, lbTypes...)
		v.optionalOneOf(path+".algorithm", p.Algorithm, lbAlgorithms...)
		if p.Count < 0 || p.Count > MaxNodes {
			v.add(path+".count", "must be between 0 and %d, got %d", MaxNodes, p.Count)
		}
		v.labels(path+".labels", p.Labels)
		v.rdns(path+".rdns", p.RDNS)
		v.rdns(path+".rdnsIPv4", p.RDNSIPv4)
		v.rdns(path+".rdnsIPv6", p.RDNSIPv6)
	}
}

func (v *validator) images(c *Cluster) {
	for arch, b := range map[string]ImageBuild{"amd64": c.Images.AMD64, "arm64": c.Images.ARM64} {
		p := "images." + arch
		v.oneOf(p+".selector", b.Selector, "exact", "latest")
		v.location(p+".builder.location", b.Builder.Location)
		if b.Builder.ServerType == "" {
			v.add(p+".builder.serverType", "is required")
		}
	}
}

func (v *validator) version(path, s, example string) {
	if !reVersion.MatchString(s) {
		v.add(path, "%q is not a version; write it like %s", s, example)
	}
}

func (v *validator) talos(c *Cluster) {
	t := c.Talos
	v.version("talos.version", t.Version, DefaultTalosVersion)
	if t.SchematicID != "" && !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(t.SchematicID) {
		v.add("talos.schematicID", "%q is not an Image Factory schematic ID (64 hex characters)", t.SchematicID)
	}
	v.optionalOneOf("talos.upgrade.rebootMode", t.Upgrade.RebootMode, "default", "powercycle")
	v.optionalOneOf("talos.reboot.mode", t.Reboot.Mode, "default", "powercycle", "force")
	v.oneOf("talos.applyMode", t.ApplyMode, "auto", "reboot", "no_reboot", "staged", "staged_if_needing_reboot")
	dests := map[string]bool{}
	for i, m := range t.KubeletExtraMounts {
		p := fmt.Sprintf("talos.kubeletExtraMounts[%d]", i)
		if m.Source == "" {
			v.add(p+".source", "is required")
		}
		d := m.Destination
		if d == "" {
			d = m.Source
		}
		if dests[d] {
			v.add(p+".destination", "%q is mounted twice; destinations must be unique", d)
		}
		dests[d] = true
		if c.Addons.Longhorn.Enabled && d == "/var/lib/longhorn" {
			v.add(p+".destination", "/var/lib/longhorn is mounted by hcloud-k8s itself when Longhorn is enabled; remove this mount")
		}
	}
	for i, r := range t.ExtraRoutes {
		if _, err := netip.ParsePrefix(r); err != nil || !reRoute.MatchString(r) {
			v.add(fmt.Sprintf("talos.extraRoutes[%d]", i), "%q is not an IPv4 CIDR such as 0.0.0.0/0 or 192.168.0.0/24", r)
		}
	}
	for name, certs := range t.Certificates {
		p := "talos.certificates." + name
		if !reCertName.MatchString(name) {
			v.add(p, "name %q must be lowercase letters, digits and dashes", name)
		}
		if len(certs) == 0 {
			v.add(p, "needs at least one PEM certificate")
		}
		for i, pem := range certs {
			if !strings.Contains(pem, "-----BEGIN CERTIFICATE-----") || !strings.Contains(pem, "-----END CERTIFICATE-----") {
				v.add(fmt.Sprintf("%s[%d]", p, i), "is not a PEM certificate (BEGIN CERTIFICATE ... END CERTIFICATE)")
			}
		}
	}
	for i, h := range t.StaticHosts {
		if _, err := netip.ParseAddr(h.IP); err != nil {
			v.add(fmt.Sprintf("talos.staticHosts[%d].ip", i), "%q is not an IP address", h.IP)
		}
		if len(h.Hostnames) == 0 {
			v.add(fmt.Sprintf("talos.staticHosts[%d].hostnames", i), "needs at least one host name")
		}
	}
	for i, ns := range t.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			v.add(fmt.Sprintf("talos.nameservers[%d]", i), "%q is not an IP address", ns)
		}
	}
	for i, m := range t.KernelModules {
		if m.Name == "" {
			v.add(fmt.Sprintf("talos.kernelModules[%d].name", i), "is required")
		}
	}
	for i, m := range t.ExtraInlineManifests {
		if m.Name == "" {
			v.add(fmt.Sprintf("talos.extraInlineManifests[%d].name", i), "is required")
		}
	}
}

func (v *validator) backup(c *Cluster) {
	b := c.Backup
	if b.S3.HcloudURL != "" && !reS3HcloudURL.MatchString(b.S3.HcloudURL) {
		v.add("backup.s3.hcloudURL", "%q is not a Hetzner Object Storage bucket URL like https://<bucket>.<region>.your-objectstorage.com", b.S3.HcloudURL)
	}
	if strings.TrimSpace(b.Schedule) == "" || len(strings.Fields(b.Schedule)) != 5 {
		v.add("backup.schedule", "%q is not a cron schedule with five fields, e.g. \"0 * * * *\"", b.Schedule)
	}
}

func (v *validator) kubernetes(c *Cluster) {
	k := c.Kubernetes
	v.version("kubernetes.version", k.Version, DefaultKubernetesVersion)
	for path, img := range map[string]string{
		"kubernetes.images.apiServer":         k.Images.APIServer,
		"kubernetes.images.controllerManager": k.Images.ControllerManager,
		"kubernetes.images.scheduler":         k.Images.Scheduler,
		"kubernetes.images.proxy":             k.Images.Proxy,
		"kubernetes.images.kubelet":           k.Images.Kubelet,
	} {
		if img != "" && !reImageRepo.MatchString(img) {
			v.add(path, "%q is not an image repository without tag, e.g. registry.k8s.io/kube-apiserver", img)
		}
	}
	if e := k.Images.Etcd; e != "" {
		repo, digest, hasDigest := strings.Cut(e, "@")
		name, tag := repo, ""
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			name, tag = repo[:i], repo[i+1:]
		}
		switch {
		case !reImageRepo.MatchString(name):
			v.add("kubernetes.images.etcd", "%q is not an image reference such as registry.k8s.io/etcd:v3.6.5-0", e)
		case tag == "" && !hasDigest:
			v.add("kubernetes.images.etcd", "%q needs a :tag or an @sha256: digest", e)
		case hasDigest && !strings.HasPrefix(digest, "sha256:"):
			v.add("kubernetes.images.etcd", "%q has a digest that is not sha256:", e)
		}
	}
}

func (v *validator) addons(c *Cluster) {
	a := c.Addons
	for path, ch := range map[string]Chart{
		"addons.talosCCM.chart": a.TalosCCM.Chart, "addons.hcloudCCM.chart": a.HcloudCCM.Chart,
		"addons.hcloudCSI.chart": a.HcloudCSI.Chart, "addons.longhorn.chart": a.Longhorn.Chart,
		"addons.cilium.chart": a.Cilium.Chart, "addons.metricsServer.chart": a.MetricsServer.Chart,
		"addons.certManager.chart": a.CertManager.Chart, "addons.certManagerWebhookHetzner.chart": a.CertManagerWebhookHetzner.Chart,
		"addons.ingressNginx.chart": a.IngressNginx.Chart, "addons.clusterAutoscaler.chart": a.ClusterAutoscaler.Chart,
	} {
		if ch.Repository == "" || ch.Name == "" || ch.Version == "" {
			v.add(path, "repository, name and version must all be set")
		}
	}

	lb := a.HcloudCCM.LoadBalancers
	if lb.Location != "" {
		v.location("addons.hcloudCCM.loadBalancers.location", lb.Location)
	}
	v.oneOf("addons.hcloudCCM.loadBalancers.algorithm", lb.Algorithm, lbAlgorithms...)
	v.oneOf("addons.hcloudCCM.loadBalancers.type", lb.Type, lbTypes...)
	v.healthCheck("addons.hcloudCCM.loadBalancers.healthCheck", lb.HealthCheck)

	if p := a.HcloudCSI.EncryptionPassphrase; p != "" && !rePassphrase.MatchString(p) {
		v.add("addons.hcloudCSI.encryptionPassphrase", "must be 8-512 printable ASCII characters (the value is not shown)")
	}
	scNames := map[string]bool{}
	for i, sc := range a.HcloudCSI.StorageClasses {
		p := fmt.Sprintf("addons.hcloudCSI.storageClasses[%d]", i)
		if sc.Name == "" {
			v.add(p+".name", "is required")
		} else if scNames[sc.Name] {
			v.add(p+".name", "%q is used twice", sc.Name)
		}
		scNames[sc.Name] = true
		v.oneOf(p+".reclaimPolicy", sc.ReclaimPolicy, "Delete", "Retain")
	}
	v.labels("addons.hcloudCSI.volumeExtraLabels", a.HcloudCSI.VolumeExtraLabels)

	ci := a.Cilium
	v.oneOf("addons.cilium.policyCIDRMatchMode", ci.PolicyCIDRMatchMode, "", "nodes")
	v.oneOf("addons.cilium.encryption.type", ci.Encryption.Type, "wireguard", "ipsec")
	if ks := ci.Encryption.IPsec.KeySize; ks != 128 && ks != 192 && ks != 256 {
		v.add("addons.cilium.encryption.ipsec.keySize", "must be 128, 192 or 256, got %d", ks)
	}
	if id := ci.Encryption.IPsec.KeyID; id < 1 || id > 15 {
		v.add("addons.cilium.encryption.ipsec.keyID", "must be between 1 and 15, got %d", id)
	}
	v.oneOf("addons.cilium.loadBalancerAcceleration", ci.LoadBalancerAcceleration, "disabled", "native", "best-effort")
	v.optionalOneOf("addons.cilium.routingMode", ci.RoutingMode, "native", "tunnel")
	v.oneOf("addons.cilium.bpfDatapathMode", ci.BPFDatapathMode, "veth", "netkit", "netkit-l2")
	v.oneOf("addons.cilium.gatewayAPI.externalTrafficPolicy", ci.GatewayAPI.ExternalTrafficPolicy, "Cluster", "Local")
	if ci.EgressGatewayEnabled && !ci.KubeProxyReplacementEnabled {
		v.add("addons.cilium.egressGatewayEnabled", "needs addons.cilium.kubeProxyReplacementEnabled: true")
	}
	if ci.Hubble.RelayEnabled && !ci.Hubble.Enabled {
		v.add("addons.cilium.hubble.relayEnabled", "needs addons.cilium.hubble.enabled: true")
	}
	if ci.Hubble.UIEnabled && !ci.Hubble.RelayEnabled {
		v.add("addons.cilium.hubble.uiEnabled", "needs addons.cilium.hubble.relayEnabled: true")
	}

	if r := a.MetricsServer.Replicas; r != nil && *r < 1 {
		v.add("addons.metricsServer.replicas", "must be at least 1, got %d", *r)
	}

	w := a.CertManagerWebhookHetzner
	if w.Enabled && !a.CertManager.Enabled {
		v.add("addons.certManagerWebhookHetzner.enabled", "needs addons.certManager.enabled: true")
	}
	if !reDNSName.MatchString(w.GroupName) {
		v.add("addons.certManagerWebhookHetzner.groupName", "%q is not a DNS subdomain such as acme.hetzner.com", w.GroupName)
	}

	in := a.IngressNginx
	if in.Enabled {
		if !a.CertManager.Enabled {
			v.add("addons.ingressNginx.enabled", "needs addons.certManager.enabled: true (admission webhooks use cert-manager certificates)")
		}
		if !in.DeprecationIgnored {
			v.add("addons.ingressNginx.deprecationIgnored", "must be true to enable ingress-nginx: the project is retired; consider Cilium's Gateway API (addons.cilium.gatewayAPI.enabled)")
		}
	}
	v.oneOf("addons.ingressNginx.kind", in.Kind, "Deployment", "DaemonSet")
	if in.Replicas != nil {
		if in.Kind == "DaemonSet" {
			v.add("addons.ingressNginx.replicas", "must not be set when kind is DaemonSet (one pod runs per node)")
		} else if *in.Replicas < 1 {
			v.add("addons.ingressNginx.replicas", "must be at least 1, got %d", *in.Replicas)
		}
	}
	v.oneOf("addons.ingressNginx.serviceExternalTrafficPolicy", in.ServiceExternalTrafficPolicy, "Cluster", "Local")

	o := a.OIDC
	if o.Enabled {
		if o.IssuerURL == "" {
			v.add("addons.oidc.issuerURL", "is required when OIDC is enabled")
		}
		if o.ClientID == "" {
			v.add("addons.oidc.clientID", "is required when OIDC is enabled")
		}
	}
	groups := map[string]bool{}
	for i, m := range o.GroupMappings {
		if groups[m.Group] {
			v.add(fmt.Sprintf("addons.oidc.groupMappings[%d].group", i), "%q is mapped twice; merge the entries", m.Group)
		}
		groups[m.Group] = true
	}
	roles := map[string]bool{}
	for i, r := range a.RBAC.Roles {
		// The module requires unique names, not unique namespace/name pairs.
		if roles[r.Name] {
			v.add(fmt.Sprintf("addons.rbac.roles[%d].name", i), "role %q is defined twice; role names must be unique", r.Name)
		}
		roles[r.Name] = true
	}
	croles := map[string]bool{}
	for i, r := range a.RBAC.ClusterRoles {
		if croles[r.Name] {
			v.add(fmt.Sprintf("addons.rbac.clusterRoles[%d].name", i), "cluster role %q is defined twice", r.Name)
		}
		croles[r.Name] = true
	}
}

// pinnedSummary names the valid pinned subnets compactly: first, second, ..., last.
func pinnedSummary(ps []netip.Prefix) string {
	switch len(ps) {
	case 0:
		return "this network has none"
	case 1, 2, 3:
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = p.String()
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%d subnets: %s, %s, ..., %s", len(ps), ps[0], ps[1], ps[len(ps)-1])
}
