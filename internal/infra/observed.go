package infra

import (
	"net"
	"net/netip"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Cloud is what Observe found in Hetzner Cloud: every resource labelled
// cluster=<name>, one list call per kind, plus an external network or firewall the
// cluster file names by ID.
type Cloud struct {
	Servers         []*hcloud.Server
	Networks        []*hcloud.Network
	Firewalls       []*hcloud.Firewall
	SSHKeys         []*hcloud.SSHKey
	PlacementGroups []*hcloud.PlacementGroup
	LoadBalancers   []*hcloud.LoadBalancer
	FloatingIPs     []*hcloud.FloatingIP
	Certificates    []*hcloud.Certificate
	Volumes         []*hcloud.Volume
}

// FromCloud converts the cloud's objects into the model Diff compares. It is pure.
func FromCloud(cluster, domain string, c Cloud) *State {
	s := newState(cluster, domain)
	var subnets []netip.Prefix
	for _, n := range c.Networks {
		r := &Resource{Kind: KindNetwork, Name: n.Name, ID: n.ID, Labels: n.Labels, Protected: n.Protection.Delete,
			Network: &NetworkSpec{IPRange: prefixOf(n.IPRange), ExposeRoutesToVSwitch: n.ExposeRoutesToVSwitch, DeleteProtection: n.Protection.Delete}}
		if n.Name != layout.NetworkName(cluster) && n.Labels[layout.LabelCluster] != cluster {
			// An external network: known by ID, not by our name.
			r.Name, r.External = layout.NetworkName(cluster), true
		}
		s.add(r)
		for _, sn := range n.Subnets {
			p := prefixOf(sn.IPRange)
			subnets = append(subnets, p)
			s.add(&Resource{Kind: KindSubnet, Name: p.String(), Subnet: &SubnetSpec{
				Network: r.Name, IPRange: p, NetworkZone: string(sn.NetworkZone), Purpose: string(sn.Type),
			}})
		}
	}
	for _, f := range c.Firewalls {
		spec := &FirewallSpec{}
		for _, rule := range f.Rules {
			fr := FirewallRule{Direction: string(rule.Direction), Protocol: string(rule.Protocol), SourceIPs: ipNets(rule.SourceIPs), DestinationIPs: ipNets(rule.DestinationIPs)}
			if rule.Port != nil {
				fr.Port = *rule.Port
			}
			if rule.Description != nil {
				fr.Description = *rule.Description
			}
			spec.Rules = append(spec.Rules, fr)
		}
		s.add(&Resource{Kind: KindFirewall, Name: f.Name, ID: f.ID, Labels: f.Labels, Firewall: spec})
	}
	for _, k := range c.SSHKeys {
		s.add(&Resource{Kind: KindSSHKey, Name: k.Name, ID: k.ID, Labels: k.Labels, SSHKey: &SSHKeySpec{PublicKey: k.PublicKey}})
	}
	for _, pg := range c.PlacementGroups {
		s.add(&Resource{Kind: KindPlacementGroup, Name: pg.Name, ID: pg.ID, Labels: pg.Labels, PlacementGroup: &PlacementGroupSpec{Type: string(pg.Type)}})
	}
	for _, srv := range c.Servers {
		s.add(serverResource(srv, subnets))
	}
	for _, lb := range c.LoadBalancers {
		s.add(loadBalancerResource(lb, subnets))
	}
	for _, f := range c.FloatingIPs {
		spec := &FloatingIPSpec{Description: f.Description, DeleteProtection: f.Protection.Delete, IP: addrOf(f.IP)}
		if f.HomeLocation != nil {
			spec.HomeLocation = f.HomeLocation.Name
		}
		s.add(&Resource{Kind: KindFloatingIP, Name: f.Name, ID: f.ID, Labels: f.Labels, Protected: f.Protection.Delete, FloatingIP: spec})
	}
	for _, v := range c.Volumes {
		spec := &VolumeSpec{}
		if v.Server != nil {
			spec.Server = v.Server.ID
		}
		s.add(&Resource{Kind: KindVolume, Name: v.Name, ID: v.ID, Labels: v.Labels, Protected: v.Protection.Delete, Volume: spec})
	}
	for _, cert := range c.Certificates {
		s.add(&Resource{Kind: KindCertificate, Name: cert.Name, ID: cert.ID, Labels: cert.Labels, Certificate: &CertificateSpec{}})
	}
	return s
}

func serverResource(srv *hcloud.Server, subnets []netip.Prefix) *Resource {
	spec := &ServerSpec{
		Role: srv.Labels[layout.LabelRole], Pool: srv.Labels[layout.LabelNodepool],
		Backups: srv.BackupWindow != "", DeleteProtection: srv.Protection.Delete,
		PublicIPv4: !srv.PublicNet.IPv4.IsUnspecified(), PublicIPv6: !srv.PublicNet.IPv6.IsUnspecified(),
		Status: string(srv.Status), PTR: map[netip.Addr]string{},
	}
	if srv.ServerType != nil {
		spec.Type = srv.ServerType.Name
		spec.Arch = string(srv.ServerType.Architecture)
	}
	if srv.Location != nil {
		spec.Location = srv.Location.Name
	}
	if srv.PlacementGroup != nil {
		spec.PlacementGroup = srv.PlacementGroup.Name
	}
	if srv.Image != nil {
		spec.Image = srv.Image.ID
	}
	if a := addrOf(srv.PublicNet.IPv4.IP); a.IsValid() {
		spec.PublicIPv4Addr = a
		spec.PTR[a] = srv.PublicNet.IPv4.DNSPtr
	}
	if n := srv.PublicNet.IPv6.Network; n != nil {
		if a := addrOf(n.IP); a.IsValid() {
			a = a.Next() // the module sets reverse DNS on <net>::1
			spec.PublicIPv6Addr = a
			spec.PTR[a] = srv.PublicNet.IPv6.DNSPtrForIP(net.IP(a.AsSlice()))
		}
	}
	for _, pn := range srv.PrivateNet {
		ip := addrOf(pn.IP)
		spec.ActualPrivateIP = ip
		for _, p := range subnets {
			if p.Contains(ip) {
				spec.Subnet = p
			}
		}
	}
	return &Resource{Kind: KindServer, Name: srv.Name, ID: srv.ID, Labels: srv.Labels, Protected: srv.Protection.Delete, Server: spec}
}

func loadBalancerResource(lb *hcloud.LoadBalancer, subnets []netip.Prefix) *Resource {
	spec := &LoadBalancerSpec{
		Role: lb.Labels[layout.LabelRole], Pool: lb.Labels[layout.LabelPool], Algorithm: string(lb.Algorithm.Type),
		PublicInterface: lb.PublicNet.Enabled, DeleteProtection: lb.Protection.Delete, PTR: map[netip.Addr]string{},
	}
	if lb.LoadBalancerType != nil {
		spec.Type = lb.LoadBalancerType.Name
	}
	if lb.Location != nil {
		spec.Location = lb.Location.Name
	}
	if a := addrOf(lb.PublicNet.IPv4.IP); a.IsValid() {
		spec.PublicIPv4Addr = a
		spec.PTR[a] = lb.PublicNet.IPv4.DNSPtr
	}
	if a := addrOf(lb.PublicNet.IPv6.IP); a.IsValid() {
		spec.PublicIPv6Addr = a
		spec.PTR[a] = lb.PublicNet.IPv6.DNSPtr
	}
	for _, pn := range lb.PrivateNet {
		spec.PrivateIP = addrOf(pn.IP)
		if pn.Network != nil {
			spec.Network = pn.Network.Name
		}
		for _, p := range subnets {
			if p.Contains(spec.PrivateIP) {
				spec.Subnet = p
			}
		}
	}
	for _, svc := range lb.Services {
		hc := svc.HealthCheck
		out := LBService{
			Protocol: string(svc.Protocol), ListenPort: svc.ListenPort, DestinationPort: svc.DestinationPort, ProxyProtocol: svc.Proxyprotocol,
			HealthCheck: LBHealthCheck{Protocol: string(hc.Protocol), Port: hc.Port, Interval: int(hc.Interval.Seconds()), Timeout: int(hc.Timeout.Seconds()), Retries: hc.Retries},
		}
		if hc.HTTP != nil {
			out.HealthCheck.HTTP = &LBHealthCheckHTTP{Path: hc.HTTP.Path, Response: hc.HTTP.Response, TLS: hc.HTTP.TLS, StatusCodes: hc.HTTP.StatusCodes}
		}
		spec.Services = append(spec.Services, out)
	}
	for _, t := range lb.Targets {
		if t.Type == hcloud.LoadBalancerTargetTypeLabelSelector && t.LabelSelector != nil {
			spec.Targets = append(spec.Targets, LBTarget{LabelSelector: t.LabelSelector.Selector, UsePrivateIP: t.UsePrivateIP})
		}
	}
	return &Resource{Kind: KindLoadBalancer, Name: lb.Name, ID: lb.ID, Labels: lb.Labels, Protected: lb.Protection.Delete, LoadBalancer: spec}
}

func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(n.String())
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

func addrOf(ip net.IP) netip.Addr {
	if ip == nil || ip.IsUnspecified() {
		return netip.Addr{}
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

func ipNets(ns []net.IPNet) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

// canonicalCIDR writes an address or CIDR the way Hetzner returns it, so that desired
// and observed firewall rules compare equal: a bare address becomes a /32 or /128.
func canonicalCIDR(s string) string {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}
