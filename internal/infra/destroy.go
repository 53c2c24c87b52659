package infra

import (
	"net/netip"
	"slices"
	"sort"
)

// destroyScope is what destroy knows beyond one resource, for the kinds that keep
// some of their resources (destroySparer).
type destroyScope struct {
	external map[Ref]bool   // resources named by ID in the cluster file
	managed  []netip.Prefix // the subnets of the cluster's layout
}

// DestroyPlan deletes every resource in observed (everything labelled
// cluster=<name>, found by Observe) except external ones, in dependency order: each
// kind waits for the kinds its table names (placement groups, the firewall and the
// SSH key for the servers; the network and its subnets for whatever is attached
// to it), and the state marker comes last. In an existing network named by ID only
// the subnets of the cluster's layout (managed) are deleted. It is pure.
func DestroyPlan(observed *State, managed []netip.Prefix) *Plan {
	p := &Plan{Cluster: observed.Cluster}
	scope := destroyScope{external: map[Ref]bool{}, managed: managed}
	for _, o := range observed.Sorted() {
		if o.External {
			scope.external[o.Ref()] = true
		}
	}
	var doomed []*Resource
	for _, o := range observed.Sorted() {
		if !scope.spares(o) {
			doomed = append(doomed, o)
		}
	}
	for _, o := range doomed {
		ch := Change{Action: ActionDelete, Ref: o.Ref(), Observed: o, Reason: "destroy"}
		info := kinds.info(o.Kind)
		for _, other := range doomed {
			if other.Kind != o.Kind && (info.destroyLast || slices.Contains(info.destroyAfter, other.Kind)) {
				ch.DependsOn = append(ch.DependsOn, other.Ref())
			}
		}
		sort.Slice(ch.DependsOn, func(i, j int) bool { return lessRef(ch.DependsOn[i], ch.DependsOn[j]) })
		p.Changes = append(p.Changes, ch)
	}
	return p
}

// spares says whether destroy leaves o: external resources, and what its kind keeps.
func (s destroyScope) spares(o *Resource) bool {
	if o.External {
		return true
	}
	sp, ok := kinds.ops(o.Kind).(destroySparer)
	return ok && sp.spareOnDestroy(s, o)
}
