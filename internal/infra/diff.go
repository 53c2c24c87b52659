package infra

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Action is what a plan does to one resource.
type Action string

// Actions.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update" // in place
	ActionAdopt  Action = "adopt"  // take over a resource that lacks some of our labels
	ActionDelete Action = "delete"
	ActionNoop   Action = "no-op"
)

// Update is one in-place change of one attribute.
type Update struct {
	Field    string // labels, rules, protection, dns_ptr, algorithm, type, public_interface, services, targets, network, backups, ...
	From, To string // for people; the executor works from Desired
}

// Change is one step of a plan.
type Change struct {
	Action   Action
	Ref      Ref
	Desired  *Resource // nil for deletes
	Observed *Resource // nil for creates
	Reason   string
	Updates  []Update
	// DependsOn lists changes that must finish before this one starts.
	DependsOn []Ref
}

// Plan is the ordered list of changes that turns observed into desired.
type Plan struct {
	Cluster string
	Changes []Change
	// Initialized is true when the <cluster>-state marker exists: the cluster has
	// been bootstrapped, so servers must not be removed without draining them.
	Initialized bool
	// Problems are differences this release cannot fix safely; apply refuses to run
	// while there are any.
	Problems []string
	// Unmanaged lists resources that carry the cluster label but are not ours to
	// change (for example a server someone labelled by hand); they are left alone.
	Unmanaged []string
}

// Counts returns how many resources the plan creates, updates (or adopts) and deletes.
func (p *Plan) Counts() (create, update, del int) {
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			create++
		case ActionUpdate, ActionAdopt:
			update++
		case ActionDelete:
			del++
		}
	}
	return create, update, del
}

// Err is nil when the plan can be applied, else an ErrProblems error that lists
// the problems.
func (p *Plan) Err() error {
	if len(p.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n  %s", ErrProblems, strings.Join(p.Problems, "\n  "))
}

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool {
	c, u, d := p.Counts()
	return c+u+d > 0
}

// Diff compares the desired and observed states. It is pure.
func Diff(desired, observed *State) *Plan {
	p := &Plan{Cluster: desired.Cluster}
	if observed.Get(Ref{KindCertificate, layout.StateCertificateName(desired.Cluster)}) != nil {
		p.Initialized = true
	}
	for _, d := range desired.Sorted() {
		o := observed.Get(d.Ref())
		if d.External {
			if o == nil {
				p.Problems = append(p.Problems, fmt.Sprintf("%s (ID %d) named in the cluster file does not exist", d, d.ID))
			}
			p.Changes = append(p.Changes, Change{Action: ActionNoop, Ref: d.Ref(), Desired: d, Observed: o, Reason: "external: used, never changed"})
			continue
		}
		if o == nil {
			p.Changes = append(p.Changes, Change{Action: ActionCreate, Ref: d.Ref(), Desired: d, Reason: createReason(d)})
			continue
		}
		p.Changes = append(p.Changes, compare(desired, d, o, p))
	}
	for _, o := range observed.Sorted() {
		if desired.Get(o.Ref()) != nil {
			continue
		}
		if !deletable(desired, o) {
			if o.Kind != KindCertificate && o.Kind != KindNetwork && o.Kind != KindSubnet {
				p.Unmanaged = append(p.Unmanaged, o.String())
			}
			continue
		}
		ch := Change{Action: ActionDelete, Ref: o.Ref(), Observed: o, Reason: "no longer in the cluster file"}
		if o.Kind == KindServer && p.Initialized {
			p.Problems = append(p.Problems, fmt.Sprintf("server %s is no longer in the cluster file, but the cluster is bootstrapped: removing a node needs draining and (for control planes) etcd member removal, which this release does not do yet; it was not deleted", o.Name))
			continue
		}
		p.Changes = append(p.Changes, ch)
	}
	addDependencies(p, desired, observed)
	return p
}

func createReason(d *Resource) string {
	switch {
	case d.Server != nil:
		return fmt.Sprintf("%s %d of pool %s (%s, %s)", d.Server.Role, d.Server.Index, d.Server.Pool, d.Server.Type, d.Server.Location)
	case d.Subnet != nil:
		return "subnet for " + d.Subnet.Purpose
	case d.LoadBalancer != nil:
		return d.LoadBalancer.Role + " load balancer"
	}
	return "does not exist yet"
}

// serverNameRE matches the names hcloud-k8s (and the module) give servers.
var serverNameRE = regexp.MustCompile(`^[a-z0-9-]+-[0-9]+$`)

// deletable says whether an observed resource that is no longer desired may be
// deleted by apply: only kinds the cluster file fully describes, and only when the
// labels and name show that hcloud-k8s (or the module) made it. Networks, firewalls,
// SSH keys and the state marker always stay until destroy.
func deletable(desired *State, o *Resource) bool {
	cluster := desired.Cluster
	switch o.Kind {
	case KindServer:
		role := o.Labels[layout.LabelRole]
		return (role == layout.RoleControlPlane || role == layout.RoleWorker) &&
			o.Labels[layout.LabelNodepool] != "" && strings.HasPrefix(o.Name, cluster+"-") && serverNameRE.MatchString(o.Name)
	case KindPlacementGroup:
		return strings.HasPrefix(o.Name, cluster+"-") && (o.Labels[layout.LabelRole] == layout.RoleWorker || o.Labels[layout.LabelRole] == layout.RoleControlPlane)
	case KindSubnet:
		// A subnet someone added for their own servers (the module leaves the
		// network's first quarter free for that) is never ours to delete.
		return slices.Contains(desired.ManagedSubnets, o.Subnet.IPRange)
	case KindLoadBalancer:
		role := o.Labels[layout.LabelRole]
		return role == layout.RoleKubeAPI || role == layout.RoleIngress
	case KindFloatingIP:
		return o.Name == layout.FloatingIPName(cluster)
	}
	return false
}

// compare produces the change for a resource that exists.
func compare(desired *State, d, o *Resource, p *Plan) Change {
	ch := Change{Action: ActionNoop, Ref: d.Ref(), Desired: d, Observed: o}
	up := func(field string, from, to any) {
		ch.Updates = append(ch.Updates, Update{Field: field, From: fmt.Sprint(from), To: fmt.Sprint(to)})
	}
	problem := func(format string, args ...any) {
		p.Problems = append(p.Problems, fmt.Sprintf("%s: ", d)+fmt.Sprintf(format, args...))
	}
	missing := missingLabels(d.Labels, o.Labels)
	if len(missing) > 0 || !maps.Equal(d.Labels, o.Labels) {
		up("labels", labelString(o.Labels), labelString(d.Labels))
	}
	switch d.Kind {
	case KindNetwork:
		if d.Network.IPRange != o.Network.IPRange {
			problem("IP range is %s in Hetzner but %s in the cluster file; a network's range cannot be changed in place", o.Network.IPRange, d.Network.IPRange)
		}
		if d.Network.DeleteProtection != o.Protected {
			up("protection", o.Protected, d.Network.DeleteProtection)
		}
		if d.Network.ExposeRoutesToVSwitch != o.Network.ExposeRoutesToVSwitch {
			up("expose_routes_to_vswitch", o.Network.ExposeRoutesToVSwitch, d.Network.ExposeRoutesToVSwitch)
		}
	case KindSubnet:
		if d.Subnet.NetworkZone != o.Subnet.NetworkZone {
			problem("is in network zone %s, the cluster file needs %s", o.Subnet.NetworkZone, d.Subnet.NetworkZone)
		}
	case KindFirewall:
		if !rulesEqual(d.Firewall.Rules, o.Firewall.Rules) {
			up("rules", fmt.Sprintf("%d rules", len(o.Firewall.Rules)), describeRules(d.Firewall.Rules))
		}
	case KindServer:
		compareServer(desired, d, o, up, problem)
	case KindLoadBalancer:
		compareLoadBalancer(desired, d, o, up, problem)
	case KindFloatingIP:
		if d.FloatingIP.HomeLocation != o.FloatingIP.HomeLocation {
			problem("home location is %s, the cluster file needs %s; floating IPs cannot move, delete it to have it re-created", o.FloatingIP.HomeLocation, d.FloatingIP.HomeLocation)
		}
		if d.FloatingIP.DeleteProtection != o.Protected {
			up("protection", o.Protected, d.FloatingIP.DeleteProtection)
		}
		if d.FloatingIP.Description != o.FloatingIP.Description {
			up("description", o.FloatingIP.Description, d.FloatingIP.Description)
		}
	}
	if len(ch.Updates) == 0 {
		ch.Reason = "up to date"
		return ch
	}
	ch.Action = ActionUpdate
	fields := make([]string, len(ch.Updates))
	for i, u := range ch.Updates {
		fields[i] = u.Field
	}
	ch.Reason = strings.Join(fields, ", ") + " differ"
	if len(missing) > 0 {
		ch.Action = ActionAdopt
		ch.Reason = "adopting: labels " + strings.Join(missing, ", ") + " are missing; " + ch.Reason
	}
	return ch
}

func compareServer(desired *State, d, o *Resource, up func(string, any, any), problem func(string, ...any)) {
	ds, os := d.Server, o.Server
	if ds.Type != os.Type {
		problem("server type is %s, the cluster file says %s; changing server types needs a rolling replacement, which this release does not do", os.Type, ds.Type)
	}
	if ds.Location != os.Location {
		problem("location is %s, the cluster file says %s; servers cannot move", os.Location, ds.Location)
	}
	if ds.DeleteProtection != o.Protected {
		up("protection", o.Protected, ds.DeleteProtection)
	}
	if ds.Backups != os.Backups {
		up("backups", os.Backups, ds.Backups)
	}
	if ds.Subnet.IsValid() && !os.ActualPrivateIP.IsValid() {
		// A run that died between create and attach leaves this behind.
		up("network", "not attached", ds.Subnet)
	}
	comparePTR(desired, d, ds.RDNSIPv4, os.PublicIPv4Addr, os.PTR, ds.Pool, ds.Role, o.ID, up)
	comparePTR(desired, d, ds.RDNSIPv6, os.PublicIPv6Addr, os.PTR, ds.Pool, ds.Role, o.ID, up)
}

// comparePTR checks the reverse DNS of one public address. A template set in the file
// must be rendered; none set means the record is left as Hetzner made it.
func comparePTR(desired *State, d *Resource, tmpl string, addr netip.Addr, ptr map[netip.Addr]string, pool, role string, id int64, up func(string, any, any)) {
	if tmpl == "" || !addr.IsValid() {
		return
	}
	want := layout.RenderRDNS(tmpl, layout.RDNSVars{ClusterDomain: desired.Domain, ClusterName: desired.Cluster, Hostname: d.Name, ID: id, IP: addr, Pool: pool, Role: role})
	if ptr[addr] != want {
		up("dns_ptr "+addr.String(), ptr[addr], want)
	}
}

func compareLoadBalancer(desired *State, d, o *Resource, up func(string, any, any), problem func(string, ...any)) {
	dl, ol := d.LoadBalancer, o.LoadBalancer
	if dl.Location != ol.Location {
		problem("location is %s, the cluster file says %s; load balancers cannot move", ol.Location, dl.Location)
	}
	if dl.Type != ol.Type {
		up("type", ol.Type, dl.Type)
	}
	if dl.Algorithm != ol.Algorithm {
		up("algorithm", ol.Algorithm, dl.Algorithm)
	}
	if dl.PublicInterface != ol.PublicInterface {
		up("public_interface", ol.PublicInterface, dl.PublicInterface)
	}
	if dl.DeleteProtection != o.Protected {
		up("protection", o.Protected, dl.DeleteProtection)
	}
	if dl.PrivateIP != ol.PrivateIP {
		up("network", describeAddr(ol.PrivateIP), dl.PrivateIP)
	}
	if !dl.ServicesManagedByCCM {
		if !slices.EqualFunc(sortedServices(dl.Services), sortedServices(ol.Services), servicesEqual) {
			up("services", len(ol.Services), len(dl.Services))
		}
		if !slices.Equal(sortedTargets(dl.Targets), sortedTargets(ol.Targets)) {
			up("targets", len(ol.Targets), len(dl.Targets))
		}
	}
	pool := dl.Pool
	if pool == "" && dl.Role == layout.RoleIngress {
		pool = "ingress"
	}
	comparePTR(desired, d, dl.RDNSIPv4, ol.PublicIPv4Addr, ol.PTR, pool, dl.Role, o.ID, up)
	comparePTR(desired, d, dl.RDNSIPv6, ol.PublicIPv6Addr, ol.PTR, pool, dl.Role, o.ID, up)
}

func describeAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "not attached"
	}
	return a.String()
}

func sortedServices(s []LBService) []LBService {
	out := slices.Clone(s)
	sort.Slice(out, func(i, j int) bool { return out[i].ListenPort < out[j].ListenPort })
	return out
}

func servicesEqual(a, b LBService) bool {
	if a.Protocol != b.Protocol || a.ListenPort != b.ListenPort || a.DestinationPort != b.DestinationPort || a.ProxyProtocol != b.ProxyProtocol {
		return false
	}
	ha, hb := a.HealthCheck, b.HealthCheck
	if ha.Protocol != hb.Protocol || ha.Port != hb.Port || ha.Interval != hb.Interval || ha.Timeout != hb.Timeout || ha.Retries != hb.Retries {
		return false
	}
	if (ha.HTTP == nil) != (hb.HTTP == nil) {
		return false
	}
	if ha.HTTP != nil {
		x, y := ha.HTTP, hb.HTTP
		return x.Path == y.Path && x.Response == y.Response && x.TLS == y.TLS && slices.Equal(x.StatusCodes, y.StatusCodes)
	}
	return true
}

func sortedTargets(t []LBTarget) []LBTarget {
	out := slices.Clone(t)
	sort.Slice(out, func(i, j int) bool { return out[i].LabelSelector < out[j].LabelSelector })
	return out
}

// rulesEqual compares rule sets regardless of order (Hetzner keeps its own order).
func rulesEqual(a, b []FirewallRule) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(rs []FirewallRule) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			src, dst := slices.Clone(r.SourceIPs), slices.Clone(r.DestinationIPs)
			slices.Sort(src)
			slices.Sort(dst)
			out[i] = fmt.Sprintf("%s|%s|%s|%s|%v|%v", r.Direction, r.Protocol, r.Port, r.Description, src, dst)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func describeRules(rs []FirewallRule) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		ips := r.SourceIPs
		if r.Direction == "out" {
			ips = r.DestinationIPs
		}
		parts[i] = fmt.Sprintf("%s %s/%s from %s", r.Direction, r.Protocol, r.Port, strings.Join(ips, " "))
	}
	return strings.Join(parts, "; ")
}

func missingLabels(want, have map[string]string) []string {
	var out []string
	for _, k := range []string{layout.LabelCluster, layout.LabelRole, layout.LabelNodepool, layout.LabelPool} {
		if _, ok := want[k]; ok {
			if _, ok := have[k]; !ok {
				out = append(out, k)
			}
		}
	}
	return out
}

func labelString(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

// addDependencies fills DependsOn from the references between resources: creates wait
// for what they reference, deletes wait for what references them.
func addDependencies(p *Plan, desired, observed *State) {
	inPlan := map[Ref]Action{}
	for _, c := range p.Changes {
		inPlan[c.Ref] = c.Action
	}
	pending := func(ref Ref, action Action) bool { return inPlan[ref] == action }
	for i := range p.Changes {
		c := &p.Changes[i]
		var deps []Ref
		switch c.Action {
		case ActionCreate:
			for _, ref := range references(c.Desired) {
				if pending(ref, ActionCreate) {
					deps = append(deps, ref)
				}
			}
		case ActionDelete:
			for _, o := range observed.Resources {
				if !pending(o.Ref(), ActionDelete) {
					continue
				}
				if slices.Contains(references(o), c.Ref) {
					deps = append(deps, o.Ref())
				}
			}
		}
		sort.Slice(deps, func(a, b int) bool { return lessRef(deps[a], deps[b]) })
		c.DependsOn = deps
	}
}

// references lists the resources r needs to exist.
func references(r *Resource) []Ref {
	var out []Ref
	switch {
	case r.Subnet != nil:
		out = append(out, Ref{KindNetwork, r.Subnet.Network})
	case r.Server != nil:
		s := r.Server
		if s.Subnet.IsValid() {
			out = append(out, Ref{KindSubnet, s.Subnet.String()})
		}
		if s.PlacementGroup != "" {
			out = append(out, Ref{KindPlacementGroup, s.PlacementGroup})
		}
		if s.Firewall != "" {
			out = append(out, Ref{KindFirewall, s.Firewall})
		}
		if s.SSHKey != "" {
			out = append(out, Ref{KindSSHKey, s.SSHKey})
		}
	case r.LoadBalancer != nil:
		if r.LoadBalancer.Subnet.IsValid() {
			out = append(out, Ref{KindSubnet, r.LoadBalancer.Subnet.String()})
		}
	}
	return out
}
