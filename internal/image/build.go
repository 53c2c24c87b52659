package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Labels of the temporary server and SSH key of an image build. They carry
// the cluster label (so destroy finds leftovers) and role=image-builder (so
// the infrastructure layer does not take them for cluster nodes).
const (
	LabelTemporary   = "temporary"
	LabelArch        = "arch"
	RoleImageBuilder = "image-builder"
)

// BuilderImage is the system image the temporary server is created from; it
// never runs, the server boots straight into the rescue system.
const BuilderImage = "debian-13"

// Bounds of the build steps, in real time.
const (
	apiStepTimeout    = 10 * time.Minute // create, rescue, power and delete incl. their actions
	sshReadyTimeout   = 5 * time.Minute  // until the rescue system accepts SSH
	discardTimeout    = 5 * time.Minute
	writeTimeout      = 30 * time.Minute // download and write the disk image
	syncTimeout       = 5 * time.Minute
	poweroffTimeout   = 30 * time.Second // the session may hang while the system goes down
	snapshotTimeout   = 30 * time.Minute
	cleanupTimeout    = 10 * time.Minute
	offPollInterval   = 2 * time.Second // on BuildOptions.Clock
	offWaitPolls      = 60              // then power off hard
	sshRetryInterval  = 3 * time.Second // on BuildOptions.Clock
	defaultSSHPort    = 22
	builderNameSuffix = "-image-builder-"
)

// BuildOptions configures Build.
type BuildOptions struct {
	// Client is the Hetzner API client (required).
	Client *hetzner.Client
	// Cluster is the validated cluster configuration (required).
	Cluster *config.Cluster
	// Factory is the Image Factory; nil means the public one.
	Factory Factory
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
	// Clock paces polling and SSH retries; nil means the wall clock. Tests
	// pass the simulator's clock.
	Clock clock.Clock
	// SSHPort is the rescue system's SSH port (default 22).
	SSHPort int
	// DialContext opens the SSH connections; nil means a plain net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Build makes sure every architecture the cluster needs has a Talos snapshot:
// it looks them up with Select and, for each one missing, builds it on a
// temporary server in the rescue system (all missing architectures in
// parallel). It returns the snapshots in the order of Architectures. A build
// cleans up its temporary server and SSH key even when it fails or ctx is
// cancelled.
func Build(ctx context.Context, o BuildOptions) ([]Snapshot, error) {
	if o.Client == nil || o.Cluster == nil {
		return nil, errors.New("image build: Client and Cluster are required")
	}
	if o.Factory == nil {
		o.Factory = &FactoryClient{}
	}
	o.Clock = clock.OrReal(o.Clock)
	if o.SSHPort == 0 {
		o.SSHPort = defaultSSHPort
	}
	c := o.Cluster
	snaps, err := Select(ctx, o.Client, c)
	if err != nil {
		return nil, err
	}
	var missing []int
	for i, s := range snaps {
		if s.ID != 0 {
			continue
		}
		if !buildSettings(c, s.Arch).BuildEnabled {
			return nil, fmt.Errorf("no Talos snapshot for %s matches the label selector %q, and images.%s.buildEnabled is false: build one or enable building",
				s.Arch, s.Selector, s.Arch)
		}
		missing = append(missing, i)
	}
	if len(missing) == 0 {
		return snaps, nil
	}
	schematic, err := resolveSchematic(ctx, o.Factory, c)
	if err != nil {
		return nil, err
	}
	p := &progress{w: o.Progress}
	errs := make([]error, len(snaps))
	var wg sync.WaitGroup
	for _, i := range missing {
		wg.Go(func() {
			b := &build{o: o, arch: snaps[i].Arch, schematic: schematic, p: p}
			id, err := b.run(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			snaps[i].ID, snaps[i].Name = id, layout.SnapshotName(c.Cluster.Name, snaps[i].Arch)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return snaps, nil
}

func buildSettings(c *config.Cluster, arch string) config.ImageBuild {
	if arch == layout.ArchARM64 {
		return c.Images.ARM64
	}
	return c.Images.AMD64
}

// resolveSchematic returns talos.schematicID, or registers the cloud
// schematic with the factory. The factory's ID must be the one Select looks
// for, or every run would build again.
func resolveSchematic(ctx context.Context, f Factory, c *config.Cluster) (string, error) {
	if c.Talos.SchematicID != "" {
		return c.Talos.SchematicID, nil
	}
	s := CloudSchematic(c)
	id, err := f.Schematic(ctx, s)
	if err != nil {
		return "", fmt.Errorf("register the Talos schematic: %w", err)
	}
	if want := s.ID(); id != want {
		return "", fmt.Errorf("register the Talos schematic: the Image Factory returned ID %s, hcloud-k8s computed %s; set talos.schematicID: %s", id, want, id)
	}
	return id, nil
}

// build is one architecture's build.
type build struct {
	o         BuildOptions
	arch      string
	schematic string
	p         *progress

	server *hcloud.Server
	key    *hcloud.SSHKey
}

func (b *build) logf(format string, args ...any) {
	b.p.printf("image %s: "+format, append([]any{b.arch}, args...)...)
}

// stepError names the architecture and the failed step.
func (b *build) stepError(step string, err error) error {
	return fmt.Errorf("build Talos image %s: %s: %w", b.arch, step, err)
}

func (b *build) name() string { return b.o.Cluster.Cluster.Name + builderNameSuffix + b.arch }

func (b *build) labels() map[string]string {
	return map[string]string{
		layout.LabelCluster: b.o.Cluster.Cluster.Name,
		layout.LabelRole:    RoleImageBuilder,
		LabelTemporary:      "true",
		LabelArch:           b.arch,
	}
}

func (b *build) selector() string {
	return layout.LabelCluster + "=" + b.o.Cluster.Cluster.Name + "," + layout.LabelRole + "=" + RoleImageBuilder + "," + LabelArch + "=" + b.arch
}

// run builds the snapshot and returns its ID. Cleanup runs on every path,
// with a fresh context so that cancelling ctx does not leak the server.
func (b *build) run(ctx context.Context) (id int64, err error) {
	pctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	err = b.cleanup(pctx, true)
	cancel()
	if err != nil {
		return 0, b.stepError("remove leftovers of an earlier build", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if cerr := b.cleanup(cctx, false); cerr != nil {
			err = errors.Join(err, b.stepError("clean up", cerr))
		}
	}()
	return b.steps(ctx)
}

func (b *build) steps(ctx context.Context) (int64, error) {
	c, client := b.o.Cluster, b.o.Client
	settings := buildSettings(c, b.arch)

	key, err := newBuilderKey()
	if err != nil {
		return 0, b.stepError("create SSH key", err)
	}
	b.logf("uploading temporary SSH key %s", b.name())
	if err := b.api(ctx, "create SSH key", func(ctx context.Context) error {
		k, _, err := client.API().SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: b.name(), PublicKey: key.authorizedKey, Labels: b.labels()})
		b.key = k
		return err
	}); err != nil {
		return 0, err
	}

	b.logf("creating temporary server %s (%s in %s)", b.name(), settings.Builder.ServerType, settings.Builder.Location)
	var created hcloud.ServerCreateResult
	if err := b.api(ctx, "create server", func(ctx context.Context) error {
		var err error
		created, _, err = client.API().Server.Create(ctx, hcloud.ServerCreateOpts{
			Name:             b.name(),
			ServerType:       &hcloud.ServerType{Name: settings.Builder.ServerType},
			Image:            &hcloud.Image{Name: BuilderImage},
			Location:         &hcloud.Location{Name: settings.Builder.Location},
			SSHKeys:          []*hcloud.SSHKey{b.key},
			StartAfterCreate: hcloud.Ptr(false),
			Labels:           b.labels(),
		})
		return err
	}); err != nil {
		return 0, err
	}
	b.server = created.Server
	if err := b.wait(ctx, "create server", append([]*hcloud.Action{created.Action}, created.NextActions...)...); err != nil {
		return 0, err
	}
	if b.server.PublicNet.IPv4.IsUnspecified() {
		return 0, b.stepError("create server", errors.New("the server has no public IPv4 address to reach the rescue system"))
	}

	b.logf("enabling the rescue system")
	if err := b.action(ctx, "enable rescue", func(ctx context.Context) (*hcloud.Action, error) {
		res, _, err := client.API().Server.EnableRescue(ctx, b.server, hcloud.ServerEnableRescueOpts{
			Type: hcloud.ServerRescueTypeLinux64, SSHKeys: []*hcloud.SSHKey{b.key},
		})
		return res.Action, err
	}); err != nil {
		return 0, err
	}
	b.logf("booting into the rescue system")
	if err := b.action(ctx, "boot into rescue", func(ctx context.Context) (*hcloud.Action, error) {
		srv, _, err := client.API().Server.GetByID(ctx, b.server.ID)
		if err != nil {
			return nil, err
		}
		if srv != nil && srv.Status != hcloud.ServerStatusOff {
			a, _, err := client.API().Server.Reset(ctx, b.server)
			return a, err
		}
		a, _, err := client.API().Server.Poweron(ctx, b.server)
		return a, err
	}); err != nil {
		return 0, err
	}

	addr := net.JoinHostPort(b.server.PublicNet.IPv4.IP.String(), strconv.Itoa(b.o.SSHPort))
	sh := newRescueShell(addr, key, &hostKeyPin{}, b.o.DialContext)
	defer sh.close()
	b.logf("connecting to root@%s", addr)
	if err := b.connect(ctx, sh); err != nil {
		return 0, b.stepError("connect over SSH", err)
	}

	url := b.o.Factory.DiskImageURL(b.schematic, c.Talos.Version, b.arch)
	commands := []struct {
		step, cmd string
		timeout   time.Duration
	}{
		{"discard disk", "blkdiscard -v /dev/sda", discardTimeout},
		{"write Talos image", WriteImageCommand(url), writeTimeout},
		{"sync", "sync", syncTimeout},
	}
	for _, cmd := range commands {
		b.logf("%s", cmd.step)
		cctx, cancel := context.WithTimeout(ctx, cmd.timeout)
		_, err := sh.run(cctx, cmd.cmd)
		cancel()
		if err != nil {
			return 0, b.stepError(cmd.step, err)
		}
	}

	b.logf("powering off")
	if err := b.powerOff(ctx, sh); err != nil {
		return 0, b.stepError("power off", err)
	}

	desc := layout.SnapshotName(c.Cluster.Name, b.arch)
	b.logf("creating snapshot %q", desc)
	var img *hcloud.Image
	if err := b.action(ctx, "create snapshot", func(ctx context.Context) (*hcloud.Action, error) {
		res, _, err := client.API().Server.CreateImage(ctx, b.server, &hcloud.ServerCreateImageOpts{
			Type:        hcloud.ImageTypeSnapshot,
			Description: hcloud.Ptr(desc),
			Labels:      layout.SnapshotLabels(c.Cluster.Name, c.Talos.Version, b.schematic),
		})
		img = res.Image
		return res.Action, err
	}, snapshotTimeout); err != nil {
		return 0, err
	}
	b.logf("snapshot %d ready", img.ID)
	return img.ID, nil
}

// WriteImageCommand is the rescue-system pipeline that streams a Talos disk
// image onto /dev/sda, as the module's Packer provisioner runs it.
func WriteImageCommand(url string) string {
	return "set -euo pipefail; wget --quiet --timeout=20 --waitretry=5 --tries=5 --retry-connrefused --inet4-only -O - " +
		shellQuote(url) + " | xz -T0 -dc | dd of=/dev/sda bs=1M iflag=fullblock oflag=direct conv=fsync status=none"
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// api runs one API call with retries, bounded by apiStepTimeout.
func (b *build) api(ctx context.Context, step string, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, apiStepTimeout)
	defer cancel()
	if err := b.o.Client.Retry(ctx, step+" "+b.name(), fn); err != nil {
		return b.stepError(step, err)
	}
	return nil
}

// action starts an action with retries and waits for it.
func (b *build) action(ctx context.Context, step string, start func(ctx context.Context) (*hcloud.Action, error), timeout ...time.Duration) error {
	d := apiStepTimeout
	if len(timeout) > 0 {
		d = timeout[0]
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var a *hcloud.Action
	if err := b.o.Client.Retry(ctx, step+" "+b.name(), func(ctx context.Context) (err error) {
		a, err = start(ctx)
		return err
	}); err != nil {
		return b.stepError(step, err)
	}
	if err := b.o.Client.WaitForActions(ctx, a); err != nil {
		return b.stepError(step, err)
	}
	return nil
}

func (b *build) wait(ctx context.Context, step string, actions ...*hcloud.Action) error {
	ctx, cancel := context.WithTimeout(ctx, apiStepTimeout)
	defer cancel()
	if err := b.o.Client.WaitForActions(ctx, actions...); err != nil {
		return b.stepError(step, err)
	}
	return nil
}

// connect waits for the rescue system's SSH server. Only failures to reach
// it are retried; a refused key or a changed host key fail at once.
func (b *build) connect(ctx context.Context, sh *rescueShell) error {
	ctx, cancel := context.WithTimeout(ctx, sshReadyTimeout)
	defer cancel()
	for {
		err := sh.connect(ctx)
		if err == nil {
			return nil
		}
		var netErr net.Error
		var opErr *net.OpError
		if !errors.As(err, &opErr) && !errors.As(err, &netErr) && !errors.Is(err, io.EOF) {
			return err
		}
		if serr := b.o.Clock.Sleep(ctx, sshRetryInterval); serr != nil {
			return fmt.Errorf("rescue system not reachable: %w (last error: %w)", serr, err)
		}
	}
}

// powerOff shuts the rescue system down from inside, so the disk is
// quiesced, waits for the server to be off and powers it off hard if it
// takes too long.
func (b *build) powerOff(ctx context.Context, sh *rescueShell) error {
	ctx, cancel := context.WithTimeout(ctx, apiStepTimeout)
	defer cancel()
	// The connection may drop before the exit status arrives: that is how
	// poweroff goes; only a failing command counts.
	var cmdErr *commandError
	pctx, cancel := context.WithTimeout(ctx, poweroffTimeout)
	_, err := sh.run(pctx, "poweroff")
	cancel()
	if errors.As(err, &cmdErr) {
		return err
	}
	sh.close()
	api := b.o.Client.API()
	for range offWaitPolls {
		var srv *hcloud.Server
		if err := b.o.Client.Retry(ctx, "get server "+b.name(), func(ctx context.Context) (err error) {
			srv, _, err = api.Server.GetByID(ctx, b.server.ID)
			return err
		}); err != nil {
			return err
		}
		if srv == nil {
			return errors.New("the server disappeared")
		}
		if srv.Status == hcloud.ServerStatusOff {
			return nil
		}
		if err := b.o.Clock.Sleep(ctx, offPollInterval); err != nil {
			return err
		}
	}
	b.logf("still running after poweroff; powering off hard")
	return b.action(ctx, "power off", func(ctx context.Context) (*hcloud.Action, error) {
		a, _, err := api.Server.Poweroff(ctx, b.server)
		return a, err
	})
}

// cleanup deletes the build's temporary servers and SSH keys, found by label
// so that a server whose create response was lost goes too. leftovers says
// this runs before a build, for an earlier run's remains.
func (b *build) cleanup(ctx context.Context, leftovers bool) error {
	client := b.o.Client
	sel := b.selector()
	var servers []*hcloud.Server
	if err := client.Retry(ctx, "list temporary servers "+sel, func(ctx context.Context) (err error) {
		servers, err = client.API().Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: sel}})
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, srv := range servers {
		if leftovers {
			b.logf("deleting temporary server %s left by an earlier build", srv.Name)
		} else {
			b.logf("deleting temporary server %s", srv.Name)
		}
		var res hcloud.ServerDeleteResult
		err := client.Retry(ctx, "delete server "+srv.Name, func(ctx context.Context) error {
			r, _, err := client.API().Server.DeleteWithResult(ctx, srv)
			if r != nil {
				res = *r
			}
			return err
		})
		if err == nil {
			err = client.WaitForActions(ctx, res.Action)
		}
		if err != nil && hetzner.Classify(err) != hetzner.ClassNotFound {
			errs = append(errs, err)
		}
	}
	var keys []*hcloud.SSHKey
	if err := client.Retry(ctx, "list temporary SSH keys "+sel, func(ctx context.Context) (err error) {
		keys, err = client.API().SSHKey.AllWithOpts(ctx, hcloud.SSHKeyListOpts{ListOpts: hcloud.ListOpts{LabelSelector: sel}})
		return err
	}); err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, k := range keys {
		b.logf("deleting temporary SSH key %s", k.Name)
		err := client.Retry(ctx, "delete SSH key "+k.Name, func(ctx context.Context) error {
			_, err := client.API().SSHKey.Delete(ctx, k)
			return err
		})
		if err != nil && hetzner.Classify(err) != hetzner.ClassNotFound {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// progress serialises the progress lines of parallel builds.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *progress) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintf(p.w, format+"\n", args...)
}
