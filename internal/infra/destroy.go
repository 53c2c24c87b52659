package infra

import (
	"net/netip"
	"slices"
	"sort"
)

// DestroyPlan deletes every resource in observed (everything labelled
// cluster=<name>, found by Observe) except external ones, in dependency order:
// servers, load balancers, floating IPs and volumes first; then placement groups,
// the firewall and the SSH key once no server uses them; then the network (its
// subnets go with it); the state marker last, so that an interrupted destroy still
// knows the cluster had been bootstrapped. In an existing network named by ID only
// the subnets of the cluster's layout (managed) are deleted. It is pure.
func DestroyPlan(observed *State, managed []netip.Prefix) *Plan {
	p := &Plan{Cluster: observed.Cluster}
	var servers, attached []Ref
	for _, o := range observed.Sorted() {
		switch o.Kind {
		case KindServer:
			servers = append(servers, o.Ref())
			attached = append(attached, o.Ref())
		case KindLoadBalancer:
			attached = append(attached, o.Ref())
		}
	}
	externalNet := map[string]bool{}
	for _, o := range observed.Sorted() {
		if o.Kind == KindNetwork && o.External {
			externalNet[o.Name] = true
		}
	}
	// skip: external resources, and subnets that go with our own network or are
	// not ours in an existing one.
	skip := func(o *Resource) bool {
		if o.External {
			return true
		}
		if o.Kind == KindSubnet {
			return !externalNet[o.Subnet.Network] || !slices.Contains(managed, o.Subnet.IPRange)
		}
		return false
	}
	var all []Ref
	for _, o := range observed.Sorted() {
		if !skip(o) {
			all = append(all, o.Ref())
		}
	}
	for _, o := range observed.Sorted() {
		if skip(o) {
			continue
		}
		ch := Change{Action: ActionDelete, Ref: o.Ref(), Observed: o, Reason: "destroy"}
		switch o.Kind {
		case KindPlacementGroup, KindFirewall, KindSSHKey:
			ch.DependsOn = servers
		case KindNetwork, KindSubnet:
			ch.DependsOn = attached
		case KindCertificate:
			for _, r := range all {
				if r.Kind != KindCertificate {
					ch.DependsOn = append(ch.DependsOn, r)
				}
			}
		}
		sort.Slice(ch.DependsOn, func(i, j int) bool { return lessRef(ch.DependsOn[i], ch.DependsOn[j]) })
		p.Changes = append(p.Changes, ch)
	}
	return p
}
