package infra

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Inputs are the facts Desire needs that are not in the cluster file.
type Inputs struct {
	// CurrentIPs are the caller's public addresses as CIDRs (an IPv4 /32, an IPv6
	// /64), used only where NeedsCurrentIP says so.
	CurrentIPs []string
}

// State is a set of resources keyed by Ref.
type State struct {
	Cluster   string // cluster name
	Domain    string // cluster DNS domain, for reverse DNS templates
	Resources map[Ref]*Resource
	// ManagedSubnets (desired state only) lists every subnet range the layout can
	// create: the fixed ones and all pinned worker subnets. Only these are ever
	// deleted; other subnets in the network belong to someone else.
	ManagedSubnets []netip.Prefix
}

func newState(cluster, domain string) *State {
	return &State{Cluster: cluster, Domain: domain, Resources: map[Ref]*Resource{}}
}

func (s *State) add(r *Resource) { s.Resources[r.Ref()] = r }

// Get returns the resource with ref, or nil.
func (s *State) Get(ref Ref) *Resource { return s.Resources[ref] }

// Sorted returns the resources in plan order: by kind, then name.
func (s *State) Sorted() []*Resource {
	out := slices.Collect(maps.Values(s.Resources))
	sort.Slice(out, func(i, j int) bool { return lessRef(out[i].Ref(), out[j].Ref()) })
	return out
}

func lessRef(a, b Ref) bool {
	if a.Kind != b.Kind {
		return kinds.order(a.Kind) < kinds.order(b.Kind)
	}
	return naturalLess(a.Name, b.Name)
}

// naturalLess orders names with numeric suffixes numerically: demo-worker-2 before
// demo-worker-10, as people count.
func naturalLess(a, b string) bool {
	pa, na := splitNumericSuffix(a)
	pb, nb := splitNumericSuffix(b)
	if pa != pb || na < 0 || nb < 0 {
		return a < b
	}
	return na < nb
}

func splitNumericSuffix(s string) (string, int) {
	i := strings.LastIndex(s, "-")
	if i < 0 {
		return s, -1
	}
	n := 0
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' || n > 1e6 {
			return s, -1
		}
		n = n*10 + int(c-'0')
	}
	if i+1 == len(s) {
		return s, -1
	}
	return s[:i], n
}

// CurrentIPNeeds says whether the firewall needs the caller's public IPv4 and IPv6
// (the module's use_current_ipv4/ipv6, see docs/terraform-parity.md), so the caller only looks them up
// when the cluster file asks for it.
func CurrentIPNeeds(c *config.Cluster) (ipv4, ipv6 bool) {
	if c.Firewall.ExistingFirewallID != 0 {
		return false, false
	}
	kubeSrc, talosSrc := apiSources(c)
	dflt := c.Cluster.Access == "public" && kubeSrc == nil && talosSrc == nil
	ipv4 = c.Talos.PublicIPv4Enabled && coalesce(c.Firewall.UseCurrentIPv4, dflt)
	ipv6 = c.Talos.PublicIPv6Enabled && c.Talos.IPv6Enabled && coalesce(c.Firewall.UseCurrentIPv6, dflt)
	return ipv4, ipv6
}

func apiSources(c *config.Cluster) (kube, talos []string) {
	kube, talos = c.Firewall.APISource, c.Firewall.APISource
	if c.Firewall.KubeAPISource != nil {
		kube = c.Firewall.KubeAPISource
	}
	if c.Firewall.TalosAPISource != nil {
		talos = c.Firewall.TalosAPISource
	}
	return kube, talos
}

func coalesce(p *bool, dflt bool) bool {
	if p != nil {
		return *p
	}
	return dflt
}

// Desire computes the resources the cluster file asks for. It is pure: the same
// file and inputs always give the same state.
func Desire(c *config.Cluster, in Inputs) (*State, error) {
	l, err := c.Layout()
	if err != nil {
		return nil, err
	}
	if len(c.ControlPlaneNodepools) == 0 {
		return nil, fmt.Errorf("the cluster file has no control-plane pool")
	}
	d := desirer{c: c, l: l, in: in, s: newState(c.Cluster.Name, c.Cluster.Domain), name: c.Cluster.Name}
	d.network()
	d.firewall()
	d.sshKey()
	d.servers()
	d.loadBalancers()
	d.floatingIP()
	return d.s, nil
}

type desirer struct {
	c    *config.Cluster
	l    layout.Network
	in   Inputs
	s    *State
	name string
}

func (d *desirer) zone() string {
	return config.NetworkZone(d.c.ControlPlaneNodepools[0].Location)
}

func (d *desirer) network() {
	n := &Resource{
		Kind: KindNetwork, Name: layout.NetworkName(d.name), Labels: layout.ClusterLabels(d.name),
		Network: &NetworkSpec{
			IPRange:               d.l.Network,
			ExposeRoutesToVSwitch: d.c.Network.ExposeRoutesToVSwitch,
			DeleteProtection:      d.c.Cluster.DeleteProtection,
		},
	}
	if id := d.c.Network.ExistingNetworkID; id != 0 {
		n.External, n.ID = true, id
	}
	d.s.add(n)
	add := func(p netip.Prefix, purpose string) {
		if d.s.Get(Ref{KindSubnet, p.String()}) != nil {
			return
		}
		d.s.add(&Resource{Kind: KindSubnet, Name: p.String(), Subnet: &SubnetSpec{
			Network: layout.NetworkName(d.name), IPRange: p, NetworkZone: d.zone(), Purpose: purpose,
		}})
	}
	add(d.l.ControlPlane, "control planes")
	add(d.l.LoadBalancer, "load balancers")
	add(d.l.WorkerShared, "workers")
	for _, p := range d.c.WorkerNodepools {
		if p.Subnet != "" {
			add(netip.MustParsePrefix(p.Subnet), "worker pool "+p.Name)
		}
	}
	add(d.l.AutoscalerShared, "autoscaled workers")
	for _, p := range d.c.AutoscalerNodepools {
		if p.Subnet != "" {
			add(netip.MustParsePrefix(p.Subnet), "autoscaler pool "+p.Name)
		}
	}
	add(d.l.LegacyAutoscaler, "legacy autoscaler")
	d.s.ManagedSubnets = append([]netip.Prefix{d.l.ControlPlane, d.l.LoadBalancer, d.l.WorkerShared, d.l.AutoscalerShared, d.l.LegacyAutoscaler}, d.l.PinnedWorker...)
}

// anyAddress is what an empty source or destination list means.
var anyAddress = []string{"0.0.0.0/0", "::/0"}

func (d *desirer) firewall() {
	if d.c.Firewall.ExistingFirewallID != 0 {
		return
	}
	kubeSrc, talosSrc := apiSources(d.c)
	v4, v6 := CurrentIPNeeds(d.c)
	var current []string
	for _, ip := range d.in.CurrentIPs {
		if p, err := netip.ParsePrefix(ip); err == nil && ((p.Addr().Is4() && v4) || (p.Addr().Is6() && v6)) {
			current = append(current, ip)
		}
	}
	// Rules are keyed like the module's map: a default rule replaces an extra rule
	// with the same direction, protocol and port.
	rules := map[string]FirewallRule{}
	for _, r := range d.c.Firewall.ExtraRules {
		fr := FirewallRule{Description: r.Description, Direction: r.Direction, Protocol: r.Protocol, Port: r.Port}
		if r.Direction == "in" {
			fr.SourceIPs = orAny(r.SourceIPs)
		} else {
			fr.DestinationIPs = orAny(r.DestinationIPs)
		}
		rules[ruleKey(fr)] = fr
	}
	for _, def := range []struct {
		desc, port string
		src        []string
	}{
		{"Allow Incoming Requests to Kube API", "6443", kubeSrc},
		{"Allow Incoming Requests to Talos API", "50000", talosSrc},
	} {
		src := distinct(append(slices.Clone(def.src), current...))
		if len(src) == 0 {
			continue
		}
		fr := FirewallRule{Description: def.desc, Direction: "in", Protocol: "tcp", Port: def.port, SourceIPs: src}
		rules[ruleKey(fr)] = fr
	}
	keys := slices.Sorted(maps.Keys(rules))
	spec := &FirewallSpec{Rules: make([]FirewallRule, 0, len(keys))}
	for _, k := range keys {
		spec.Rules = append(spec.Rules, rules[k])
	}
	d.s.add(&Resource{Kind: KindFirewall, Name: layout.FirewallName(d.name), Labels: layout.ClusterLabels(d.name), Firewall: spec})
}

func ruleKey(r FirewallRule) string {
	port := r.Port
	if port == "" {
		port = "null"
	}
	return r.Direction + "-" + r.Protocol + "-" + port
}

func orAny(ips []string) []string {
	if len(ips) == 0 {
		return slices.Clone(anyAddress)
	}
	return distinct(ips)
}

// distinct canonicalises CIDRs and drops repeats, keeping the first occurrence.
func distinct(in []string) []string {
	var out []string
	for _, s := range in {
		if c := canonicalCIDR(s); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (d *desirer) sshKey() {
	d.s.add(&Resource{Kind: KindSSHKey, Name: layout.SSHKeyName(d.name), Labels: layout.ClusterLabels(d.name), SSHKey: &SSHKeySpec{}})
}

// rdnsTemplate resolves a reverse-DNS template through the module's fallback chain;
// an address family without a public IP gets none.
func rdnsTemplate(enabled bool, chain ...string) string {
	if !enabled {
		return ""
	}
	for _, t := range chain {
		if t != "" {
			return t
		}
	}
	return ""
}

func (d *desirer) server(role string, pool config.ServerPool, i int, pg string, subnet netip.Prefix, ip netip.Addr, labels map[string]string) {
	c := d.c
	spec := &ServerSpec{
		Role: role, Pool: pool.Name, Index: i,
		Type: pool.Type, Location: pool.Location, Arch: layout.Architecture(pool.Type),
		PlacementGroup: pg, Subnet: subnet, PrivateIP: ip,
		SSHKey:     layout.SSHKeyName(d.name),
		PublicIPv4: c.Talos.PublicIPv4Enabled, PublicIPv6: c.Talos.PublicIPv6Enabled,
		Backups: pool.Backups, DeleteProtection: c.Cluster.DeleteProtection,
		RDNSIPv4: rdnsTemplate(c.Talos.PublicIPv4Enabled, pool.RDNSIPv4, pool.RDNS, c.Cluster.RDNSIPv4, c.Cluster.RDNS),
		RDNSIPv6: rdnsTemplate(c.Talos.PublicIPv6Enabled, pool.RDNSIPv6, pool.RDNS, c.Cluster.RDNSIPv6, c.Cluster.RDNS),
	}
	if id := c.Firewall.ExistingFirewallID; id != 0 {
		spec.ExternalFirewallID = id
	} else {
		spec.Firewall = layout.FirewallName(d.name)
	}
	d.s.add(&Resource{Kind: KindServer, Name: layout.ServerName(d.name, pool.Name, i), Labels: labels, Server: spec})
}

func (d *desirer) servers() {
	cpPG := layout.ControlPlanePlacementGroupName(d.name)
	d.s.add(&Resource{Kind: KindPlacementGroup, Name: cpPG, Labels: layout.ControlPlanePlacementGroupLabels(d.name), PlacementGroup: &PlacementGroupSpec{Type: "spread"}})
	for _, p := range d.c.ControlPlaneNodepools {
		labels := layout.ControlPlaneServerLabels(d.name, p.Name, p.Labels)
		for i := 1; i <= p.Count; i++ {
			d.server(layout.RoleControlPlane, p.ServerPool, i, cpPG, d.l.ControlPlane, netip.Addr{}, labels)
		}
	}
	for _, p := range d.c.WorkerNodepools {
		if p.PlacementGroup {
			for n := 1; n <= layout.WorkerPlacementGroupCount(p.Count); n++ {
				d.s.add(&Resource{Kind: KindPlacementGroup, Name: layout.WorkerPlacementGroupName(d.name, p.Name, n),
					Labels: layout.WorkerPlacementGroupLabels(d.name, p.Name), PlacementGroup: &PlacementGroupSpec{Type: "spread"}})
			}
		}
		labels := layout.WorkerServerLabels(d.name, p.Name, p.Labels)
		subnet := d.l.WorkerShared
		if p.Subnet != "" {
			subnet = netip.MustParsePrefix(p.Subnet)
		}
		for i := 1; i <= p.Count; i++ {
			pg := ""
			if p.PlacementGroup {
				pg = layout.WorkerPlacementGroupName(d.name, p.Name, layout.WorkerPlacementGroupIndex(i-1))
			}
			var ip netip.Addr
			if p.Subnet != "" {
				ip, _ = layout.PinnedWorkerIP(subnet, i-1)
			}
			d.server(layout.RoleWorker, p.ServerPool, i, pg, subnet, ip, maps.Clone(labels))
		}
	}
}

// ccmLoadBalancerLocation is the module's hcloud_ccm_load_balancers_location default.
func (d *desirer) ccmLoadBalancerLocation() string {
	if l := d.c.Addons.HcloudCCM.LoadBalancers.Location; l != "" {
		return l
	}
	if len(d.c.WorkerNodepools) > 0 {
		return d.c.WorkerNodepools[0].Location
	}
	if len(d.c.AutoscalerNodepools) > 0 {
		return d.c.AutoscalerNodepools[0].Location
	}
	return d.c.ControlPlaneNodepools[0].Location
}

func (d *desirer) loadBalancers() {
	c := d.c
	net := layout.NetworkName(d.name)
	if c.KubeAPI.LoadBalancer.Enabled {
		d.s.add(&Resource{
			Kind: KindLoadBalancer, Name: layout.KubeAPILoadBalancerName(d.name), Labels: layout.KubeAPILoadBalancerLabels(d.name),
			LoadBalancer: &LoadBalancerSpec{
				Role: layout.RoleKubeAPI, Type: "lb11", Location: c.ControlPlaneNodepools[0].Location, Algorithm: "round_robin",
				Network: net, Subnet: d.l.LoadBalancer, PrivateIP: d.l.KubeAPILoadBalancerIP, PublicInterface: c.KubeAPILoadBalancerPublic(),
				DeleteProtection: c.Cluster.DeleteProtection,
				Services: []LBService{{
					Protocol: "tcp", ListenPort: layout.KubeAPIPort, DestinationPort: layout.KubeAPIPort,
					HealthCheck: LBHealthCheck{Protocol: "http", Port: layout.KubeAPIPort, Interval: 3, Timeout: 2, Retries: 2,
						HTTP: &LBHealthCheckHTTP{Path: "/version", Response: "Status", TLS: true, StatusCodes: []string{"401"}}},
				}},
				Targets: []LBTarget{{LabelSelector: layout.ControlPlaneSelector(d.name), UsePrivateIP: true}},
			},
		})
	}
	il := c.IngressLoadBalancer
	if c.Addons.IngressNginx.Enabled && len(il.Pools) == 0 {
		d.s.add(&Resource{
			Kind: KindLoadBalancer, Name: layout.IngressLoadBalancerName(d.name), Labels: layout.IngressLoadBalancerLabels(d.name),
			LoadBalancer: &LoadBalancerSpec{
				Role: layout.RoleIngress, Type: il.Type, Location: d.ccmLoadBalancerLocation(), Algorithm: il.Algorithm,
				Network: net, Subnet: d.l.LoadBalancer, PrivateIP: d.l.IngressLoadBalancerIP, PublicInterface: il.PublicNetworkEnabled,
				DeleteProtection: c.Cluster.DeleteProtection, ServicesManagedByCCM: true,
				RDNSIPv4: rdnsTemplate(true, il.RDNSIPv4, il.RDNS, c.Cluster.RDNSIPv4, c.Cluster.RDNS),
				RDNSIPv6: rdnsTemplate(true, il.RDNSIPv6, il.RDNS, c.Cluster.RDNSIPv6, c.Cluster.RDNS),
			},
		})
	}
	index := 0
	for _, p := range il.Pools {
		for n := 1; n <= p.Count; n++ {
			ip, err := d.l.IngressPoolLoadBalancerIP(index)
			index++
			if err != nil {
				continue // validated: the load-balancer subnet holds every pool address
			}
			public := il.PublicNetworkEnabled
			if p.PublicNetworkEnabled != nil {
				public = *p.PublicNetworkEnabled
			}
			d.s.add(&Resource{
				Kind: KindLoadBalancer, Name: layout.IngressPoolLoadBalancerName(d.name, p.Name, n),
				Labels: layout.IngressPoolLoadBalancerLabels(d.name, p.Name, p.Labels),
				LoadBalancer: &LoadBalancerSpec{
					Role: layout.RoleIngress, Pool: p.Name, Type: or(p.Type, il.Type), Location: p.Location,
					Algorithm: or(p.Algorithm, il.Algorithm), Network: net, Subnet: d.l.LoadBalancer, PrivateIP: ip, PublicInterface: public,
					Services: ingressServices(il.HealthCheck), Targets: d.ingressTargets(p),
					RDNSIPv4: rdnsTemplate(true, p.RDNSIPv4, p.RDNS, il.RDNSIPv4, il.RDNS, c.Cluster.RDNSIPv4, c.Cluster.RDNS),
					RDNSIPv6: rdnsTemplate(true, p.RDNSIPv6, p.RDNS, il.RDNSIPv6, il.RDNS, c.Cluster.RDNSIPv6, c.Cluster.RDNS),
				},
			})
		}
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ingressServices(h config.HealthCheck) []LBService {
	var out []LBService
	for _, ports := range [][2]int{{80, 30000}, {443, 30001}} {
		out = append(out, LBService{
			Protocol: "tcp", ListenPort: ports[0], DestinationPort: ports[1], ProxyProtocol: true,
			HealthCheck: LBHealthCheck{Protocol: "tcp", Port: ports[1], Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries},
		})
	}
	return out
}

// excludeFromLBLabel keeps a node pool out of ingress load balancer targets.
const excludeFromLBLabel = "node.kubernetes.io/exclude-from-external-load-balancers"

func (d *desirer) ingressTargets(p config.IngressPool) []LBTarget {
	var out []LBTarget
	if len(p.TargetLabelSelector) > 0 {
		for _, sel := range p.TargetLabelSelector {
			out = append(out, LBTarget{LabelSelector: sel, UsePrivateIP: true})
		}
		return out
	}
	eligible := func(np config.Nodepool) bool {
		_, excluded := np.Labels[excludeFromLBLabel]
		return !excluded && (!p.LocalTraffic || np.Location == p.Location)
	}
	if d.c.AllowSchedulingOnControlPlanes() {
		for _, np := range d.c.ControlPlaneNodepools {
			if eligible(np.Nodepool) {
				out = append(out, LBTarget{LabelSelector: layout.LabelCluster + "=" + d.name + "," + layout.LabelNodepool + "=" + np.Name, UsePrivateIP: true})
			}
		}
	}
	for _, np := range d.c.WorkerNodepools {
		if eligible(np.Nodepool) {
			out = append(out, LBTarget{LabelSelector: layout.LabelCluster + "=" + d.name + "," + layout.LabelNodepool + "=" + np.Name, UsePrivateIP: true})
		}
	}
	for _, np := range d.c.AutoscalerNodepools {
		if eligible(np.Nodepool) {
			out = append(out, LBTarget{LabelSelector: "hcloud/node-group=" + d.name + "-" + np.Name, UsePrivateIP: true})
		}
	}
	return out
}

func (d *desirer) floatingIP() {
	c := d.c
	if !c.PublicVIPEnabled() || c.ControlPlane.PublicVIPIPv4ID != 0 {
		return
	}
	// The home location is the primary control plane's: the first by server name.
	var names []string
	loc := map[string]string{}
	for _, p := range c.ControlPlaneNodepools {
		for i := 1; i <= p.Count; i++ {
			n := layout.ServerName(d.name, p.Name, i)
			names = append(names, n)
			loc[n] = p.Location
		}
	}
	primary, _ := layout.PrimaryServerName(names)
	d.s.add(&Resource{
		Kind: KindFloatingIP, Name: layout.FloatingIPName(d.name),
		Labels:     layout.FloatingIPLabels(d.name),
		FloatingIP: &FloatingIPSpec{HomeLocation: loc[primary], Description: "Control Plane Public VIP", DeleteProtection: c.Cluster.DeleteProtection},
	})
}
