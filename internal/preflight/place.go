package preflight

import (
	"fmt"
	"slices"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
)

// pool is one control-plane or worker pool with where it is in the file.
type pool struct {
	path string // controlPlaneNodepools[0]
	config.ServerPool
}

func (p pool) String() string { return p.path + " (" + p.Name + ")" }

// candidates are the locations the pool's servers may be in, in order.
func (p pool) candidates() []string { return append([]string{p.Location}, p.FallbackLocations...) }

func serverPools(c *config.Cluster) []pool {
	var out []pool
	for i, p := range c.ControlPlaneNodepools {
		out = append(out, pool{fmt.Sprintf("controlPlaneNodepools[%d]", i), p.ServerPool})
	}
	for i, p := range c.WorkerNodepools {
		out = append(out, pool{fmt.Sprintf("workerNodepools[%d]", i), p.ServerPool})
	}
	return out
}

// servers are the desired servers of the pool, in name order.
func (p pool) servers(desired *infra.State) []*infra.Resource {
	var out []*infra.Resource
	for _, r := range desired.Sorted() {
		if r.Kind == infra.KindServer && r.Server.Pool == p.Name {
			out = append(out, r)
		}
	}
	return out
}

// Place decides where the servers of pools with fallbackLocations are: a
// server that exists stays in the location it is in (servers cannot move, and
// a plan must not flap when stock returns), and new servers go to the first of
// the pool's locations where the type is in stock. With placementGroupFallback
// none, a server outside the pool's own location has no placement group. It
// returns one note per pool whose new servers were moved, for the plan to
// show. Pools without fallbackLocations are left as the file says; Check
// reports them if they cannot be satisfied.
func Place(c *config.Cluster, cat *Catalogue, desired, observed *infra.State) []string {
	var notes []string
	for _, p := range serverPools(c) {
		if len(p.FallbackLocations) == 0 {
			continue
		}
		target := ""
		for _, loc := range p.candidates() {
			if cat.refusal(p.Type, loc) == "" {
				target = loc
				break
			}
		}
		moved := 0
		for _, r := range p.servers(desired) {
			if o := observed.Get(r.Ref()); o != nil {
				if slices.Contains(p.candidates(), o.Server.Location) {
					p.put(r, o.Server.Location)
				}
				continue
			}
			if target != "" && target != p.Location {
				p.put(r, target)
				moved++
			}
		}
		if moved > 0 {
			note := fmt.Sprintf("%s: %s; %d new server(s) go to %s, the first of fallbackLocations with stock", p, cat.refusal(p.Type, p.Location), moved, target)
			if p.PlacementGroupFallback == config.PlacementGroupFallbackNone {
				note += ", without a placement group (placementGroupFallback: none)"
			}
			notes = append(notes, note)
		}
	}
	return notes
}

// put places r in loc, dropping its placement group when the pool says so.
func (p pool) put(r *infra.Resource, loc string) {
	r.Server.Location = loc
	if loc != p.Location && p.PlacementGroupFallback == config.PlacementGroupFallbackNone {
		r.Server.PlacementGroup = ""
	}
}
