// Package simworld prepares a Hetzner Cloud simulator for the tests and the local
// demo: it puts in place what a real project would already have, through the real
// API. Production code never imports it.
package simworld

import (
	"context"
	"fmt"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	simclock "github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// SeedTalosSnapshots creates, for every architecture the cluster needs, a snapshot
// labelled as the image builder labels Talos snapshots, so that apply finds one.
// It goes through the API the way a builder does (a temporary debian-13 server,
// create_image with labels, delete the server), minus writing Talos to the disk,
// which the image builder of a later release does. It returns the IDs of the
// snapshots, e.g. for ImageSet.
func SeedTalosSnapshots(ctx context.Context, api *hcloud.Client, c *config.Cluster) ([]int64, error) {
	var ids []int64
	schematic := image.SchematicID(c)
	for _, arch := range image.Architectures(c) {
		build := c.Images.AMD64
		if arch == layout.ArchARM64 {
			build = c.Images.ARM64
		}
		res, _, err := api.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name:       fmt.Sprintf("%s-talos-seed-%s", c.Cluster.Name, arch),
			ServerType: &hcloud.ServerType{Name: build.Builder.ServerType},
			Image:      &hcloud.Image{Name: "debian-13"},
			Location:   &hcloud.Location{Name: build.Builder.Location},
		})
		if err != nil {
			return ids, fmt.Errorf("create seed server for %s: %w", arch, err)
		}
		if err := api.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
			return ids, err
		}
		img, _, err := api.Server.CreateImage(ctx, res.Server, &hcloud.ServerCreateImageOpts{
			Type:        hcloud.ImageTypeSnapshot,
			Description: hcloud.Ptr(layout.SnapshotName(c.Cluster.Name, arch)),
			Labels:      layout.SnapshotLabels(c.Cluster.Name, c.Talos.Version, schematic),
		})
		if err != nil {
			return ids, fmt.Errorf("snapshot seed server for %s: %w", arch, err)
		}
		if err := api.Action.WaitFor(ctx, img.Action); err != nil {
			return ids, err
		}
		ids = append(ids, img.Image.ID)
		del, _, err := api.Server.DeleteWithResult(ctx, res.Server)
		if err != nil {
			return ids, fmt.Errorf("delete seed server for %s: %w", arch, err)
		}
		if err := api.Action.WaitFor(ctx, del.Action); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// Clock is the simulator's clock under its old adapter name.
//
// Deprecated: the simulator's clock is a clock.Clock itself; pass
// sim.Clock() wherever a clock.Clock (or hetzner.Clock) is wanted. Clock only
// forwards to it and goes away once no caller names it.
type Clock struct{ Sim simclock.Clock }

// Now is the simulated time.
func (c Clock) Now() time.Time { return c.Sim.Now() }

// Sleep waits for d of simulated time.
func (c Clock) Sleep(ctx context.Context, d time.Duration) error { return c.Sim.Sleep(ctx, d) }

// After fires after d of simulated time.
func (c Clock) After(d time.Duration) <-chan time.Time { return c.Sim.After(d) }

// NewTicker ticks every d of simulated time.
func (c Clock) NewTicker(d time.Duration) clock.Ticker { return c.Sim.NewTicker(d) }

// BuiltTalosImages recognises snapshots whose simulated disk holds a Talos image
// written by the image builder (from the fake Image Factory), for
// TalosWorldOptions.TalosImages.
func BuiltTalosImages(sim *hcloudsim.Server) func(imageID int64) bool {
	return func(id int64) bool {
		content, ok := sim.ImageDiskContent(id)
		if !ok {
			return false
		}
		_, ok = imagetest.ParseDiskImage(content)
		return ok
	}
}
