// Package lifecycle runs the cluster procedures the commands offer (plan, apply,
// destroy) on top of the domain packages: it decides the order, gathers inputs such
// as the caller's public IP, and reports progress; the domain packages do the work.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/formation"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/install"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/preflight"
	"github.com/hcloud-k8s/hcloud-k8s/internal/procedure"
)

// Deps are the outside world a procedure uses, passed in so tests can replace it.
type Deps struct {
	Client *hetzner.Client
	// Progress receives human progress lines; nil discards them.
	Progress io.Writer
	// Trace, when not nil, receives a line as each step of a procedure starts
	// and ends, with its time (for debugging); nil prints none.
	Trace io.Writer
	// CurrentIPs returns the caller's public addresses as CIDRs for the firewall;
	// it is called only when the cluster file asks for them.
	CurrentIPs func(ctx context.Context, ipv4, ipv6 bool) ([]string, error)
	// Clock measures elapsed times and paces every wait of a procedure: image
	// builds, Talos and Kubernetes. nil means the wall clock; the local world
	// passes the simulator's scaled clock.
	Clock clock.Clock
	// InfrastructureOnly stops apply after the Hetzner resources: no Talos
	// configuration, no bootstrap.
	InfrastructureOnly bool
	// StateDir holds the cluster's Talos secrets, talosconfig and kubeconfig.
	StateDir string
	// Token is the Hetzner token; it goes into the control planes' VIP documents.
	Token string
	// TalosPollInterval and TalosTimeout pace the waits for Talos and Kubernetes.
	TalosPollInterval time.Duration
	TalosTimeout      time.Duration
	// ImageFactory builds Talos images; nil means factory.talos.dev.
	ImageFactory image.Factory
	// RescueSSHPort is the SSH port of Hetzner's rescue system (default 22).
	RescueSSHPort int
	// DrainTimeout bounds the drain of each removed worker (default
	// DefaultDrainTimeout); ForceDrain deletes its pods instead of evicting
	// them, ignoring PodDisruptionBudgets (--force-drain).
	DrainTimeout time.Duration
	ForceDrain   bool
	// KeepVolumes makes destroy keep every volume of the cluster (and the
	// claims that would make the CSI driver delete theirs), and list them.
	KeepVolumes bool
	// BreakLock takes the cluster's lock even when another run holds it
	// (--break-lock), for a holder known to be gone.
	BreakLock bool
	// ChartMirror, when set, replaces every addon chart's repository (the
	// CLI passes $HCLOUD_K8S_CHART_MIRROR); it wins over addons.chartMirror.
	ChartMirror string
	// ChartCacheDir is the chart cache; "" is the user cache directory.
	ChartCacheDir string
	// AddonTimeout bounds the wait for each phase's addons to be ready
	// (default DefaultAddonTimeout).
	AddonTimeout time.Duration
}

// withDefaults fills in the wall clock and makes Progress safe for the many
// goroutines of one procedure.
func (d Deps) withDefaults() Deps {
	d.Clock = clock.OrReal(d.Clock)
	return d.withSerialProgress()
}

// runner runs one of d's procedures.
func (d Deps) runner(procedureName string) procedure.Runner {
	return procedure.Runner{Procedure: procedureName, Clock: d.Clock, Trace: d.Trace}
}

func (d Deps) progress() io.Writer {
	if d.Progress == nil {
		return io.Discard
	}
	return d.Progress
}

// withSerialProgress makes Progress safe for the many goroutines of one
// procedure: lines from parallel steps never interleave or race.
func (d Deps) withSerialProgress() Deps {
	d.Progress = SerialProgress(d.Progress)
	return d
}

// SerialProgress makes w safe for concurrent writers, in the form Deps.Progress
// is taken as it is. Whatever else prints progress beside a procedure (the
// Hetzner client's rate-limit waits) writes to the same value, so that its
// lines never cut into the procedure's. nil stays nil.
func SerialProgress(w io.Writer) io.Writer {
	if _, ok := w.(*serialWriter); ok || w == nil {
		return w
	}
	return &serialWriter{w: w}
}

type serialWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *serialWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// PlanResult is a plan with what it was computed from.
type PlanResult struct {
	Plan      *infra.Plan
	Desired   *infra.State
	Observed  *infra.State
	Snapshots []image.Snapshot
	// Addons is what apply did to each addon (apply only).
	Addons []install.Report
	// Etcd is what apply does to etcd's members before control planes go
	// (nil when the plan removes or recreates none).
	Etcd *EtcdPlan
}

// MissingSnapshots lists the architectures without a Talos snapshot.
func (r *PlanResult) MissingSnapshots() []image.Snapshot {
	var out []image.Snapshot
	for _, s := range r.Snapshots {
		if s.ID == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Plan reads the cluster from Hetzner and computes what apply would change. It
// makes no writes.
func Plan(ctx context.Context, d Deps, c *config.Cluster) (*PlanResult, error) {
	in := infra.Inputs{}
	if v4, v6 := infra.CurrentIPNeeds(c); v4 || v6 {
		if d.CurrentIPs == nil {
			return nil, errors.New("the firewall needs this machine's public IP (firewall.useCurrentIPv4/6), but no way to look it up was given; set firewall.apiSource in the cluster file or pass --current-ip")
		}
		ips, err := d.CurrentIPs(ctx, v4, v6)
		if err != nil {
			return nil, fmt.Errorf("look up this machine's public IP for the firewall (set firewall.apiSource or pass --current-ip to skip): %w", err)
		}
		in.CurrentIPs = ips
	}
	desired, err := infra.Desire(c, in)
	if err != nil {
		return nil, err
	}
	d.Client.SetPhase("observe")
	observed, err := infra.Observe(ctx, d.Client, c)
	if err != nil {
		return nil, err
	}
	snaps, err := image.Select(ctx, d.Client, c)
	if err != nil {
		return nil, err
	}
	res := &PlanResult{Desired: desired, Observed: observed, Snapshots: snaps}
	if err := preflightPlan(ctx, d, c, res); err != nil {
		return nil, err
	}
	planEtcd(ctx, d, res)
	return res, nil
}

// preflightPlan diffs desired and observed after placing the new servers
// where Hetzner has stock, and adds to the plan's problems everything Hetzner
// would refuse once apply had started creating resources, so that apply
// refuses before its first write instead.
func preflightPlan(ctx context.Context, d Deps, c *config.Cluster, res *PlanResult) error {
	cat, err := preflight.CatalogueFor(ctx, d.Client, res.Desired, res.Observed)
	if err != nil {
		return err
	}
	notes := preflight.Place(c, cat, res.Desired, res.Observed)
	p := infra.Diff(res.Desired, res.Observed)
	p.Notes = notes
	p.Problems = append(p.Problems, preflight.Check(c, cat, res.Desired, p, res.MissingSnapshots())...)
	clashes, err := infra.NameClashes(ctx, d.Client, p)
	if err != nil {
		return err
	}
	quota, err := preflight.CheckProject(ctx, d.Client, p)
	if err != nil {
		return err
	}
	p.Problems = append(append(p.Problems, clashes...), quota...)
	res.Plan = p
	return nil
}

// Apply converges the cluster's Hetzner resources to the cluster file and,
// unless Deps.InfrastructureOnly, forms the Kubernetes cluster on them.
func Apply(ctx context.Context, d Deps, c *config.Cluster) (*PlanResult, error) {
	d = d.withDefaults()
	s := &applyState{d: d, c: c, w: d.progress(), start: d.Clock.Now()}
	_, err := procedure.Run(ctx, d.runner("apply"), applySteps(d), s)
	return s.res, releaseLock(s.lock, withResumeHint("apply", "Nothing was rolled back", err))
}

// withResumeHint says once, at the top, what running the procedure again
// does: the layers below explain the failure and never add this themselves.
// Whether a rerun alone can help is the failure's to say (hetzner.RerunHelps):
// it cannot for sold-out capacity, a project limit, a refused token or an
// invalid request, and saying "run it again" there would send people in
// circles.
func withResumeHint(verb, nothingUndone string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrNotConfirmed) {
		return err
	}
	var held *lock.HeldError
	if errors.As(err, &held) {
		return err // it says itself what to do, and nothing was done
	}
	if errors.Is(err, infra.ErrProblems) {
		// Found before the first write: there is nothing to continue.
		return fmt.Errorf("%w\n%s changed nothing; resolve these and run it again", err, verb)
	}
	if hetzner.RerunHelps(err) {
		return fmt.Errorf("%w\n%s; running %s again continues from here", err, nothingUndone, verb)
	}
	return fmt.Errorf("%w\n%s; once the cause is fixed, %s continues from here", err, nothingUndone, verb)
}

// applyState is what apply's steps share.
type applyState struct {
	d    Deps
	lock *lock.Lock
	// kube is the cluster's API, once a step needed it (drain).
	kube  kubernetes.Interface
	c     *config.Cluster
	w     io.Writer
	start time.Time
	// res is the plan that observe computed (nil until then), with the
	// snapshots the image step built.
	res *PlanResult
	// changed is true when the infrastructure step changed something.
	changed bool
	// observed is what the cluster steps start from: the plan's view when the
	// infrastructure did not change, nil when it must be read again.
	observed *infra.State
	// formation is the formation in progress, from prepare formation on, on
	// nodes nodes.
	formation *formation.State
	nodes     int
	// addons are the rendered addons and applier the client that applies
	// them, from install addons on.
	addons  *install.Plan
	applier *kubeapply.Applier
}

// applySteps is apply, in order. The cluster steps are left out with
// Deps.InfrastructureOnly.
func applySteps(d Deps) []procedure.Step[applyState] {
	steps := []procedure.Step[applyState]{
		{Name: "lock", Run: func(ctx context.Context, s *applyState) (err error) {
			s.lock, err = s.d.takeLock(ctx, s.c, "apply")
			return err
		}},
		{Name: "observe", Run: observe},
		{Name: "image", Run: buildMissingImages},
		{Name: "drain removed workers", Run: drainRemovedWorkers},
		{Name: "remove control planes", Run: removeControlPlanes},
		{Name: "infrastructure", Run: applyInfrastructure},
		{Name: "delete removed nodes", Run: deleteRemovedNodes},
	}
	if !d.InfrastructureOnly {
		steps = append(steps, clusterSteps()...)
	}
	return append(steps, procedure.Step[applyState]{Name: "report", Run: reportApply})
}

// observe reads the cluster and plans what to change; a plan with problems
// stops apply before it writes anything.
func observe(ctx context.Context, s *applyState) error {
	fmt.Fprintf(s.w, "Reading cluster %s from Hetzner Cloud...\n", s.c.Cluster.Name)
	res, err := Plan(ctx, s.d, s.c)
	if err != nil {
		return err
	}
	s.res = res
	return res.Plan.Err()
}

// buildMissingImages builds the Talos snapshots that servers to be created
// need and that do not exist yet.
func buildMissingImages(ctx context.Context, s *applyState) error {
	missing := s.res.MissingSnapshots()
	if len(missing) == 0 || !needsServerCreate(s.res.Plan) {
		return nil
	}
	archs := make([]string, len(missing))
	for i, m := range missing {
		archs[i] = m.Arch
	}
	fmt.Fprintf(s.w, "No Talos snapshot for %s yet: building it (a few minutes)...\n", strings.Join(archs, " and "))
	s.d.Client.SetPhase("image")
	snaps, err := image.Build(ctx, image.BuildOptions{
		Client: s.d.Client, Cluster: s.c, Factory: s.d.ImageFactory, Progress: s.w, Clock: s.d.Clock, SSHPort: s.d.RescueSSHPort,
	})
	if err != nil {
		return err
	}
	s.res.Snapshots = snaps
	return nil
}

// applyInfrastructure creates, updates and deletes the Hetzner resources the
// plan lists.
func applyInfrastructure(ctx context.Context, s *applyState) error {
	p := s.res.Plan
	if !p.HasChanges() {
		fmt.Fprintln(s.w, "No changes: the infrastructure matches the cluster file.")
		s.observed = s.res.Observed
		return nil
	}
	cr, up, del := p.Counts()
	fmt.Fprintf(s.w, "Applying: %d to create, %d to update, %d to delete.\n", cr, up, del)
	images := map[string]int64{}
	for _, snap := range s.res.Snapshots {
		images[snap.Arch] = snap.ID
	}
	s.d.Client.SetPhase("apply")
	ex := &infra.Executor{Client: s.d.Client, Images: images, Reporter: &reporter{w: s.w}, Now: s.d.Clock.Now}
	if err := ex.Apply(ctx, p, s.res.Desired, s.res.Observed); err != nil {
		return err
	}
	s.changed = true
	fmt.Fprintf(s.w, "Infrastructure ready after %s: %d created, %d updated, %d deleted.\n", clock.Since(s.d.Clock, s.start).Round(time.Second), cr, up, del)
	return nil
}

// reportApply ends apply's story.
func reportApply(_ context.Context, s *applyState) error {
	if s.formation != nil {
		fmt.Fprintf(s.w, "Cluster %s is up: %d nodes Ready. kubeconfig and talosconfig are in %s.\n", s.c.Cluster.Name, s.nodes, s.d.StateDir)
	}
	if s.changed {
		fmt.Fprintf(s.w, "Apply complete after %s.\n", clock.Since(s.d.Clock, s.start).Round(time.Second))
	}
	return nil
}

func needsServerCreate(p *infra.Plan) bool {
	for _, c := range p.Changes {
		if c.Action == infra.ActionCreate && c.Ref.Kind == infra.KindServer {
			return true
		}
	}
	return false
}

// reporter prints one line when a step starts and one when it ends.
type reporter struct {
	w io.Writer
}

func (r *reporter) Started(c *infra.Change) {
	fmt.Fprintf(r.w, "  %s %s %s...\n", verbing[c.Action], c.Ref.Kind.Title(), c.Ref.Name)
}

func (r *reporter) Finished(c *infra.Change, err error, elapsed time.Duration) {
	if err != nil {
		fmt.Fprintf(r.w, "  ✗ %s %s failed after %s: %v\n", c.Ref.Kind.Title(), c.Ref.Name, elapsed.Round(100*time.Millisecond), err)
		return
	}
	fmt.Fprintf(r.w, "  ✓ %s %s %s (%s)\n", c.Ref.Kind.Title(), c.Ref.Name, done[c.Action], elapsed.Round(100*time.Millisecond))
}

var (
	verbing = map[infra.Action]string{infra.ActionCreate: "creating", infra.ActionUpdate: "updating", infra.ActionAdopt: "adopting", infra.ActionDelete: "deleting"}
	done    = map[infra.Action]string{infra.ActionCreate: "created", infra.ActionUpdate: "updated", infra.ActionAdopt: "adopted", infra.ActionDelete: "deleted"}
)

// fixFirst marks a failure that running the procedure again does not cure by
// itself (a missing kubeconfig, a drain a budget blocks): the hint then says
// to fix the cause first.
type fixFirst struct{ err error }

func (f *fixFirst) Error() string { return f.err.Error() }
func (f *fixFirst) Unwrap() error { return f.err }

// RerunHelps answers hetzner.RerunHelps: a rerun alone does not help.
func (f *fixFirst) RerunHelps() bool { return false }
