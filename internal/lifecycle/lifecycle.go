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

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
)

// Deps are the outside world a procedure uses, passed in so tests can replace it.
type Deps struct {
	Client *hetzner.Client
	// Progress receives human progress lines; nil discards them.
	Progress io.Writer
	// CurrentIPs returns the caller's public addresses as CIDRs for the firewall;
	// it is called only when the cluster file asks for them.
	CurrentIPs func(ctx context.Context, ipv4, ipv6 bool) ([]string, error)
	// Now is the clock for elapsed times (default time.Now).
	Now func() time.Time
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
	// Clock paces the image builder's waits; nil means the wall clock.
	Clock hetzner.Clock
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
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
	if _, ok := d.Progress.(*serialWriter); !ok && d.Progress != nil {
		d.Progress = &serialWriter{w: d.Progress}
	}
	return d
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
	return &PlanResult{Plan: infra.Diff(desired, observed), Desired: desired, Observed: observed, Snapshots: snaps}, nil
}

// Apply converges the cluster's Hetzner resources to the cluster file.
func Apply(ctx context.Context, d Deps, c *config.Cluster) (*PlanResult, error) {
	d = d.withSerialProgress()
	w := d.progress()
	start := d.now()
	fmt.Fprintf(w, "Reading cluster %s from Hetzner Cloud...\n", c.Cluster.Name)
	res, err := Plan(ctx, d, c)
	if err != nil {
		return nil, err
	}
	p := res.Plan
	if err := p.Err(); err != nil {
		return res, err
	}
	if missing := res.MissingSnapshots(); len(missing) > 0 && needsServerCreate(p) {
		archs := make([]string, len(missing))
		for i, m := range missing {
			archs[i] = m.Arch
		}
		fmt.Fprintf(w, "No Talos snapshot for %s yet: building it (a few minutes)...\n", strings.Join(archs, " and "))
		d.Client.SetPhase("image")
		snaps, err := image.Build(ctx, image.BuildOptions{
			Client: d.Client, Cluster: c, Factory: d.ImageFactory, Progress: w, Clock: d.Clock, SSHPort: d.RescueSSHPort,
		})
		if err != nil {
			return res, err
		}
		res.Snapshots = snaps
	}
	if !p.HasChanges() {
		fmt.Fprintln(w, "No changes: the infrastructure matches the cluster file.")
		return res, formIfAsked(ctx, d, c, p.Initialized, res.Observed)
	}
	cr, up, del := p.Counts()
	fmt.Fprintf(w, "Applying: %d to create, %d to update, %d to delete.\n", cr, up, del)
	images := map[string]int64{}
	for _, s := range res.Snapshots {
		images[s.Arch] = s.ID
	}
	d.Client.SetPhase("apply")
	ex := &infra.Executor{Client: d.Client, Images: images, Reporter: &reporter{w: w}, Now: d.Now}
	if err := ex.Apply(ctx, p, res.Desired, res.Observed); err != nil {
		return res, fmt.Errorf("apply stopped; nothing was rolled back, and running apply again continues from here:\n%w", err)
	}
	fmt.Fprintf(w, "Infrastructure ready after %s: %d created, %d updated, %d deleted.\n", d.now().Sub(start).Round(time.Second), cr, up, del)
	if err := formIfAsked(ctx, d, c, p.Initialized, nil); err != nil {
		return res, err
	}
	fmt.Fprintf(w, "Apply complete after %s.\n", d.now().Sub(start).Round(time.Second))
	return res, nil
}

func formIfAsked(ctx context.Context, d Deps, c *config.Cluster, initialized bool, observed *infra.State) error {
	if d.InfrastructureOnly {
		return nil
	}
	return form(ctx, d, c, initialized, observed)
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
