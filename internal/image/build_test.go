package image_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// testCluster is the cluster of these tests: amd64 control planes and arm64
// workers, so that a full build makes both snapshots.
var testCluster = configtest.File{
	Name:         "demo",
	APISource:    "203.0.113.0/24",
	ControlPlane: configtest.Pool{Name: "control", Type: "cpx22", Location: "fsn1", Count: 3},
	Workers:      []configtest.Pool{{Name: "arm", Type: "cax21", Location: "nbg1", Count: 2}},
}

type harness struct {
	env     *simtest.Env
	client  *hetzner.Client
	factory *imagetest.Factory
	cluster *config.Cluster
	port    int
	out     *syncBuffer
}

func newHarness(t *testing.T, mutate func(c *config.Cluster)) *harness {
	t.Helper()
	env := simtest.New(t, hcloudsim.Options{})
	port, err := env.Sim.ServeRescueSSH(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Sim.StopRescueSSH)
	client, err := hetzner.New(hetzner.Options{
		Token: env.Token, Endpoint: env.Endpoint, HTTPClient: simtest.LoopbackHTTPClient(t),
		PollInterval: time.Second, Clock: env.Sim.Clock(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	c := configtest.Load(t, testCluster, mutate)
	return &harness{env: env, client: client, factory: imagetest.NewFactory(t), cluster: c, port: port, out: &syncBuffer{}}
}

func (h *harness) options(t *testing.T) image.BuildOptions {
	return image.BuildOptions{
		Client: h.client, Cluster: h.cluster, Factory: h.factory, Progress: h.out,
		Clock: h.env.Sim.Clock(), SSHPort: h.port, DialContext: simtest.LoopbackDialer(t),
	}
}

func (h *harness) build(t *testing.T) ([]image.Snapshot, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return image.Build(ctx, h.options(t))
}

// assertNoTemporaries checks that no server and no SSH key is left.
func (h *harness) assertNoTemporaries(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	servers, err := h.env.Client.Server.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := h.env.Client.SSHKey.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 0 || len(keys) != 0 {
		t.Fatalf("left behind: %d servers, %d SSH keys\nprogress:\n%s", len(servers), len(keys), h.out.String())
	}
}

func TestBuildBothArchitectures(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	snaps, err := h.build(t)
	if err != nil {
		t.Fatalf("Build: %v\nprogress:\n%s", err, h.out)
	}
	schematic := image.SchematicID(h.cluster)
	wantLabels := layout.SnapshotLabels("demo", h.cluster.Talos.Version, schematic)
	if len(snaps) != 2 || snaps[0].Arch != layout.ArchAMD64 || snaps[1].Arch != layout.ArchARM64 {
		t.Fatalf("snapshots = %+v", snaps)
	}
	for _, s := range snaps {
		img, _, err := h.env.Client.Image.GetByID(ctx, s.ID)
		if err != nil || img == nil {
			t.Fatalf("snapshot %d of %s: %v", s.ID, s.Arch, err)
		}
		wantArch := hcloud.ArchitectureX86
		if s.Arch == layout.ArchARM64 {
			wantArch = hcloud.ArchitectureARM
		}
		wantDesc := "Talos Linux " + strings.ToUpper(s.Arch) + " for demo"
		if img.Type != hcloud.ImageTypeSnapshot || img.Status != hcloud.ImageStatusAvailable || img.Architecture != wantArch ||
			img.Description != wantDesc || s.Name != wantDesc || !maps.Equal(img.Labels, wantLabels) {
			t.Errorf("snapshot of %s: type %s status %s arch %s description %q labels %v; want labels %v",
				s.Arch, img.Type, img.Status, img.Architecture, img.Description, img.Labels, wantLabels)
		}
		disk, ok := h.env.Sim.ImageDiskContent(s.ID)
		if !ok || !bytes.Equal(disk, imagetest.DiskImage(schematic, h.cluster.Talos.Version, s.Arch)) {
			t.Fatalf("snapshot of %s holds %q…, want the factory's image", s.Arch, truncate(disk))
		}
		info, _ := imagetest.ParseDiskImage(disk)
		if info.Arch != s.Arch || info.TalosVersion != h.cluster.Talos.Version || info.SchematicID != schematic {
			t.Errorf("snapshot of %s: disk says %s", s.Arch, info)
		}
	}
	h.assertNoTemporaries(t)
	t.Logf("progress:\n%s", h.out)
	for _, arch := range []string{"amd64", "arm64"} {
		if !strings.Contains(h.out.String(), "image "+arch+": creating snapshot") {
			t.Errorf("progress lacks the %s snapshot step:\n%s", arch, h.out)
		}
		path := "/image/" + schematic + "/" + h.cluster.Talos.Version + "/hcloud-" + arch + ".raw.xz"
		if n := h.factory.Downloads()[path]; n != 1 {
			t.Errorf("%s downloaded %d times", path, n)
		}
	}

	// A second build finds both snapshots and creates nothing.
	before := h.env.Sim.Stats().Requests
	again, err := h.build(t)
	if err != nil {
		t.Fatal(err)
	}
	after := h.env.Sim.Stats().Requests
	for _, route := range []string{"POST /v1/servers", "POST /v1/ssh_keys"} {
		if after[route] != before[route] {
			t.Errorf("second Build sent %s", route)
		}
	}
	if again[0].ID != snaps[0].ID || again[1].ID != snaps[1].ID {
		t.Errorf("second Build = %+v, want %+v", again, snaps)
	}

	// A server created from the snapshot boots what was written to it.
	res, _, err := h.env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "demo-control-1", ServerType: &hcloud.ServerType{Name: "cpx22"},
		Image: &hcloud.Image{ID: snaps[0].ID}, Location: &hcloud.Location{Name: "fsn1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	disk, ok := h.env.Sim.DiskContent(res.Server.ID)
	info, _ := imagetest.ParseDiskImage(disk)
	if !ok || info.Arch != "amd64" || info.TalosVersion != h.cluster.Talos.Version || info.SchematicID != schematic {
		t.Fatalf("server from snapshot boots %q", truncate(disk))
	}
}

func TestBuildFailureCleansUp(t *testing.T) {
	h := newHarness(t, func(c *config.Cluster) { c.WorkerNodepools = nil }) // amd64 only
	h.env.Sim.SetFaults(hcloudsim.Faults{FailCommands: map[string]int{"create_image": 1}})
	_, err := h.build(t)
	if err == nil || !strings.Contains(err.Error(), "build Talos image amd64: create snapshot") {
		t.Fatalf("err = %v, want it to name amd64 and the snapshot step", err)
	}
	var actErr *hetzner.ActionError
	if !errors.As(err, &actErr) || actErr.Command != "create_image" {
		t.Errorf("err does not wrap the failed create_image action: %v", err)
	}
	h.assertNoTemporaries(t)
	imgs, err := h.env.Client.Image.AllWithOpts(context.Background(), hcloud.ImageListOpts{Type: []hcloud.ImageType{hcloud.ImageTypeSnapshot}})
	if err != nil || len(imgs) != 0 {
		t.Fatalf("snapshots after a failed build: %d (%v)", len(imgs), err)
	}
}

// TestBuildCancelledCleansUp cancels the build while the disk image is
// written; the temporary server and key must still go.
func TestBuildCancelledCleansUp(t *testing.T) {
	h := newHarness(t, func(c *config.Cluster) { c.ControlPlaneNodepools[0].Type = "cax11" }) // arm64 only
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := h.options(t)
	o.Progress = &cancelOn{w: h.out, needle: "write Talos image", cancel: cancel}
	_, err := image.Build(ctx, o)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "build Talos image arm64: write Talos image") {
		t.Fatalf("err = %v, want a cancelled write step", err)
	}
	h.assertNoTemporaries(t)
}

func TestBuildDisabled(t *testing.T) {
	h := newHarness(t, func(c *config.Cluster) { c.Images.ARM64.BuildEnabled = false })
	_, err := h.build(t)
	if err == nil || !strings.Contains(err.Error(), "images.arm64.buildEnabled is false") ||
		!strings.Contains(err.Error(), layout.SnapshotSelector("demo", h.cluster.Talos.Version, image.SchematicID(h.cluster))) {
		t.Fatalf("err = %v", err)
	}
	if n := h.env.Sim.Stats().Requests["POST /v1/servers"]; n != 0 {
		t.Fatalf("created %d servers", n)
	}
}

// TestBuildRemovesLeftovers: a temporary server of an interrupted run
// (same name and labels) is deleted before building.
func TestBuildRemovesLeftovers(t *testing.T) {
	h := newHarness(t, func(c *config.Cluster) { c.WorkerNodepools = nil })
	ctx := context.Background()
	res, _, err := h.env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "demo-image-builder-amd64", ServerType: &hcloud.ServerType{Name: "cpx11"},
		Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: "ash"},
		Labels: map[string]string{"cluster": "demo", "role": "image-builder", "temporary": "true", "arch": "amd64"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client.WaitForActions(ctx, res.Action); err != nil {
		t.Fatal(err)
	}
	if _, err := h.build(t); err != nil {
		t.Fatalf("Build: %v\n%s", err, h.out)
	}
	if !strings.Contains(h.out.String(), "left by an earlier build") {
		t.Errorf("progress:\n%s", h.out)
	}
	h.assertNoTemporaries(t)
}

// TestBuildOnlyMissing: with the amd64 snapshot in place, adding an arm64
// pool builds arm64 only.
func TestBuildOnlyMissing(t *testing.T) {
	h := newHarness(t, func(c *config.Cluster) { c.WorkerNodepools = nil })
	first, err := h.build(t)
	if err != nil || len(first) != 1 {
		t.Fatalf("amd64 build: %v, %+v", err, first)
	}
	h.cluster = configtest.Load(t, testCluster, nil)
	both, err := h.build(t)
	if err != nil || len(both) != 2 || both[0].ID != first[0].ID || both[1].ID == 0 {
		t.Fatalf("second build: %v, %+v", err, both)
	}
	if n := h.env.Sim.Stats().Requests["POST /v1/servers"]; n != 2 {
		t.Fatalf("created %d servers in total, want 2", n)
	}
	h.assertNoTemporaries(t)
}

func TestWriteImageCommandShape(t *testing.T) {
	got := image.WriteImageCommand("https://factory.talos.dev/image/abc/v1.13.9/hcloud-amd64.raw.xz")
	want := "set -euo pipefail; wget --quiet --timeout=20 --waitretry=5 --tries=5 --retry-connrefused --inet4-only -O - " +
		"'https://factory.talos.dev/image/abc/v1.13.9/hcloud-amd64.raw.xz' | xz -T0 -dc | dd of=/dev/sda bs=1M iflag=fullblock oflag=direct conv=fsync status=none"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFactoryClientSchematic(t *testing.T) {
	f := imagetest.NewFactory(t)
	s := image.CloudSchematic(configtest.Load(t, testCluster, nil))
	id, err := (&image.FactoryClient{BaseURL: f.URL()}).Schematic(context.Background(), s)
	if err != nil || id != s.ID() {
		t.Fatalf("Schematic = %q, %v; want %s", id, err, s.ID())
	}
	if got := (&image.FactoryClient{}).DiskImageURL(id, "v1.13.9", "arm64"); got != "https://factory.talos.dev/image/"+id+"/v1.13.9/hcloud-arm64.raw.xz" {
		t.Fatalf("DiskImageURL = %s", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// cancelOn cancels a context when a progress line contains needle.
type cancelOn struct {
	w      *syncBuffer
	needle string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.needle)) {
		c.cancel()
	}
	return c.w.Write(p)
}

func truncate(b []byte) []byte {
	return b[:min(len(b), 80)]
}
