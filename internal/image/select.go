package image

import (
	"context"
	"fmt"
	"sort"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Snapshot is the Talos snapshot chosen for one architecture.
type Snapshot struct {
	Arch     string
	ID       int64 // 0 when none matches
	Name     string
	Selector string // the label selector it was looked up with
}

// Select finds the snapshot for every architecture the cluster needs, with one list
// call per architecture, using images.<arch>.selector: exact (cluster, Talos
// version and schematic must match) or latest (newest Talos snapshot of the
// cluster). A missing snapshot is reported with ID 0, not as an error.
func Select(ctx context.Context, client *hetzner.Client, c *config.Cluster) ([]Snapshot, error) {
	schematic := SchematicID(c)
	var out []Snapshot
	for _, arch := range Architectures(c) {
		build := c.Images.AMD64
		if arch == layout.ArchARM64 {
			build = c.Images.ARM64
		}
		sel := layout.SnapshotSelector(c.Cluster.Name, c.Talos.Version, schematic)
		if build.Selector == "latest" {
			sel = layout.LatestSnapshotSelector(c.Cluster.Name)
		}
		images, err := client.ListSnapshots(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("look up Talos snapshots (%s): %w", sel, err)
		}
		s := Snapshot{Arch: arch, Selector: sel}
		if img := newest(images, arch); img != nil {
			s.ID, s.Name = img.ID, img.Description
		}
		out = append(out, s)
	}
	return out, nil
}

func newest(images []*hcloud.Image, arch string) *hcloud.Image {
	want := hcloud.ArchitectureX86
	if arch == layout.ArchARM64 {
		want = hcloud.ArchitectureARM
	}
	var match []*hcloud.Image
	for _, img := range images {
		if img.Architecture == want {
			match = append(match, img)
		}
	}
	if len(match) == 0 {
		return nil
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Created.After(match[j].Created) })
	return match[0]
}
