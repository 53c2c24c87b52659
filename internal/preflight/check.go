package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Limits Hetzner enforces that the API does not report (docs/preflight.md).
const (
	// MaxServersPerPlacementGroup is the size of a spread placement group.
	MaxServersPerPlacementGroup = 10
	// MaxServersPerNetwork is how many servers one network holds.
	MaxServersPerNetwork = 100
	// MaxPlacementGroupsPerProject is the project's placement group quota.
	MaxPlacementGroupsPerProject = 50
)

// Check returns every reason apply would fail on Hetzner's side after it had
// started creating resources: new servers whose type cannot be ordered where
// they go (every pool at once), a type whose architecture is not the one of
// the snapshot it would boot, load balancers of unknown types or locations, a
// missing snapshot whose build server cannot be ordered, and limits. missing
// are the snapshots apply would build.
func Check(c *config.Cluster, cat *Catalogue, desired *infra.State, p *infra.Plan, missing []image.Snapshot) []string {
	creates := map[infra.Ref]bool{}
	for _, ch := range p.Changes {
		if ch.Action == infra.ActionCreate {
			creates[ch.Ref] = true
		}
	}
	var problems []string
	newArchs := map[string]bool{}
	for _, pl := range serverPools(c) {
		byLocation := map[string]int{}
		for _, r := range pl.servers(desired) {
			if creates[r.Ref()] {
				byLocation[r.Server.Location]++
				newArchs[r.Server.Arch] = true
			}
		}
		problems = append(problems, pl.check(cat, byLocation)...)
	}
	for _, r := range desired.Sorted() {
		if r.Kind == infra.KindLoadBalancer && creates[r.Ref()] {
			if why := cat.lbRefusal(r.LoadBalancer.Type, r.LoadBalancer.Location); why != "" {
				problems = append(problems, fmt.Sprintf("load balancer %s: %s", r.Name, why))
			}
		}
	}
	problems = append(problems, builders(c, cat, missing, newArchs)...)
	return append(problems, limits(c, desired)...)
}

// check is the pool's part of Check: byLocation counts its new servers per
// location.
func (pl pool) check(cat *Catalogue, byLocation map[string]int) []string {
	var problems []string
	for _, loc := range sortedKeys(byLocation) {
		why := cat.refusal(pl.Type, loc)
		if why == "" {
			continue
		}
		msg := fmt.Sprintf("%s: %d new server(s) of type %s in %s: %s", pl, byLocation[loc], pl.Type, loc, why)
		if len(pl.FallbackLocations) > 0 {
			msg += fmt.Sprintf("; none of its locations (%s) can take it", strings.Join(pl.candidates(), ", "))
		} else if strings.Contains(why, "in stock in") {
			msg += "; change location, or list fallbackLocations to let hcloud-k8s pick one with stock"
		}
		problems = append(problems, msg)
	}
	if len(byLocation) > 0 {
		if arch := cat.architecture(pl.Type); arch != "" && arch != layout.Architecture(pl.Type) {
			problems = append(problems, fmt.Sprintf("%s: server type %s runs %s, but its servers would boot the %s Talos snapshot (hcloud-k8s, like the module, takes cax types for arm64 and every other type for amd64)", pl, pl.Type, arch, layout.Architecture(pl.Type)))
		}
	}
	return problems
}

// builders checks the build server of every snapshot apply would build for new
// servers.
func builders(c *config.Cluster, cat *Catalogue, missing []image.Snapshot, needed map[string]bool) []string {
	var problems []string
	for _, s := range missing {
		b, path := c.Images.AMD64, "images.amd64"
		if s.Arch == "arm64" {
			b, path = c.Images.ARM64, "images.arm64"
		}
		if !needed[s.Arch] || !b.BuildEnabled {
			continue // nothing to build, or image.Select's refusal says why
		}
		if why := cat.refusal(b.Builder.ServerType, b.Builder.Location); why != "" {
			problems = append(problems, fmt.Sprintf("%s.builder: the %s Talos snapshot must be built, but its build server cannot be ordered: %s", path, s.Arch, why))
		} else if arch := cat.architecture(b.Builder.ServerType); arch != s.Arch {
			problems = append(problems, fmt.Sprintf("%s.builder.serverType: %s runs %s; the %s snapshot needs a build server of that architecture", path, b.Builder.ServerType, arch, s.Arch))
		}
	}
	return problems
}

// limits checks what Hetzner enforces per placement group and per network.
func limits(c *config.Cluster, desired *infra.State) []string {
	var problems []string
	members := map[string]int{}
	servers := 0
	for _, r := range desired.Resources {
		if r.Kind == infra.KindServer {
			servers++
			if r.Server.PlacementGroup != "" {
				members[r.Server.PlacementGroup]++
			}
		}
	}
	for _, pg := range sortedKeys(members) {
		if members[pg] > MaxServersPerPlacementGroup {
			problems = append(problems, fmt.Sprintf("placement group %s would hold %d servers; a spread placement group holds at most %d", pg, members[pg], MaxServersPerPlacementGroup))
		}
	}
	autoscaled := 0
	for _, p := range c.AutoscalerNodepools {
		autoscaled += p.Max
	}
	if servers+autoscaled > MaxServersPerNetwork {
		problems = append(problems, fmt.Sprintf("network: %d servers and up to %d autoscaled ones would join it; a Hetzner network holds at most %d servers", servers, autoscaled, MaxServersPerNetwork))
	}
	return problems
}

// CheckProject checks the project-wide quota the plan could run into: the
// placement groups it creates must fit next to those the project has. It
// lists the project's placement groups only when the plan creates some.
func CheckProject(ctx context.Context, client *hetzner.Client, p *infra.Plan) ([]string, error) {
	var creating []string
	for _, ch := range p.Changes {
		if ch.Action == infra.ActionCreate && ch.Ref.Kind == infra.KindPlacementGroup {
			creating = append(creating, ch.Ref.Name)
		}
	}
	if len(creating) == 0 {
		return nil, nil
	}
	var have int
	err := client.Retry(ctx, "list placement groups", func(ctx context.Context) error {
		all, err := client.API().PlacementGroup.All(ctx)
		have = len(all)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("count the project's placement groups: %w", err)
	}
	if have+len(creating) <= MaxPlacementGroupsPerProject {
		return nil, nil
	}
	sort.Strings(creating)
	return []string{fmt.Sprintf("the project has %d placement groups and the plan creates %d more (%s); a project holds at most %d: delete unused ones, or ask Hetzner to raise the limit", have, len(creating), strings.Join(creating, ", "), MaxPlacementGroupsPerProject)}, nil
}
