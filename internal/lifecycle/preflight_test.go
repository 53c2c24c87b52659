package lifecycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// writes counts the simulator's non-GET requests so far.
func (w *world) writes() int64 {
	var n int64
	for route, c := range w.env.Sim.Stats().Requests {
		if !strings.HasPrefix(route, "GET ") {
			n += c
		}
	}
	return n
}

// applyRefusedBeforeWriting runs apply on c and checks that it stopped at
// observe with plan problems, having written nothing; it returns the error.
func (w *world) applyRefusedBeforeWriting(t *testing.T, c *config.Cluster) error {
	t.Helper()
	before := w.writes()
	_, err := Apply(context.Background(), w.deps, c)
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if !errors.Is(err, infra.ErrProblems) || !strings.HasPrefix(err.Error(), "apply stopped at observe: ") {
		t.Fatalf("apply did not refuse in pre-flight: %v", err)
	}
	// The only writes are the lock's: its key created and deleted.
	if n := w.writes() - before; n != 2 {
		t.Errorf("apply wrote %d requests before refusing; want only the lock's 2", n)
	}
	if k, _, err := w.env.Client.SSHKey.GetByName(context.Background(), "demo-lock"); err != nil || k != nil {
		t.Errorf("the lock was not released: %v %v", k, err)
	}
	if !strings.HasSuffix(err.Error(), "apply changed nothing; resolve these and run it again") {
		t.Errorf("the refusal does not say that nothing changed: %v", err)
	}
	return err
}

// Every pool that Hetzner cannot satisfy is refused at once, by plan and by
// apply, before anything is created: an unknown type and a sold-out type
// (with where it is in stock).
func TestPreflightRefusesWhatHetznerCannotDeliver(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, func(c *config.Cluster) { c.ControlPlaneNodepools[0].Type = "zzz99" })
	w.seed(t, c)
	w.env.Sim.SetFaults(hcloudsim.Faults{UnavailableServerTypes: []string{"cpx31@fsn1"}})

	p := w.plan(t, c)
	want := []string{
		"controlPlaneNodepools[0] (control): 3 new server(s) of type zzz99 in fsn1: server type zzz99 does not exist; Hetzner offers ",
		"workerNodepools[0] (worker): 2 new server(s) of type cpx31 in fsn1: Hetzner has no stock of cpx31 in fsn1 right now; it is in stock in ash, hel1, hil, nbg1, sin; change location, or list fallbackLocations to let hcloud-k8s pick one with stock",
	}
	for _, wp := range want {
		found := false
		for _, got := range p.Problems {
			found = found || strings.HasPrefix(got, wp)
		}
		if !found {
			t.Errorf("plan problems %q\nlack %q", p.Problems, wp)
		}
	}
	w.applyRefusedBeforeWriting(t, c)
}

// A network (or any resource) named like one the cluster needs but not
// carrying its label is a plan problem, found before the first write.
func TestPreflightFindsForeignNames(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	ctx := context.Background()
	if _, _, err := w.env.Client.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: "demo", IPRange: mustCIDR("10.0.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.env.Client.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: "demo-worker-pg-1", Type: hcloud.PlacementGroupTypeSpread, Labels: map[string]string{"cluster": "other"}}); err != nil {
		t.Fatal(err)
	}
	p := w.plan(t, c)
	for _, want := range []string{
		"a network named demo already exists but does not carry the label cluster=demo; hcloud-k8s will not touch it",
		"a placement group named demo-worker-pg-1 already exists but belongs to cluster other (label cluster=other)",
	} {
		if !containsLine(p.Problems, want) {
			t.Errorf("plan problems %q\nlack %q", p.Problems, want)
		}
	}
	w.applyRefusedBeforeWriting(t, c)
}

// With fallbackLocations, new servers go to the first location with stock and
// the plan says so; once created they stay there when stock returns.
func TestPreflightFallbackLocation(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, func(c *config.Cluster) {
		c.WorkerNodepools[0].FallbackLocations = []string{"nbg1", "hel1"}
		c.WorkerNodepools[0].PlacementGroupFallback = config.PlacementGroupFallbackNone
		c.WorkerNodepools[0].PlacementGroup = true
	})
	w.seed(t, c)
	w.env.Sim.SetFaults(hcloudsim.Faults{UnavailableServerTypes: []string{"cpx31@fsn1", "cpx31@nbg1"}})

	p := w.plan(t, c)
	if len(p.Problems) != 0 {
		t.Fatalf("problems: %v", p.Problems)
	}
	wantNote := "workerNodepools[0] (worker): Hetzner has no stock of cpx31 in fsn1 right now; it is in stock in ash, hel1, hil, sin; 2 new server(s) go to hel1, the first of fallbackLocations with stock, without a placement group (placementGroupFallback: none)"
	if len(p.Notes) != 1 || p.Notes[0] != wantNote {
		t.Errorf("notes = %q\nwant %q", p.Notes, wantNote)
	}
	w.apply(t, c)
	for _, name := range []string{"demo-worker-1", "demo-worker-2"} {
		s := serverNames(t, w.env.Client)[name]
		if s.Location.Name != "hel1" || s.PlacementGroup != nil {
			t.Errorf("%s in %s, placement group %v; want hel1 without one", name, s.Location.Name, s.PlacementGroup)
		}
	}
	if s := serverNames(t, w.env.Client)["demo-control-1"]; s.Location.Name != "fsn1" {
		t.Errorf("control plane moved to %s", s.Location.Name)
	}

	// Stock is back: the servers stay in hel1, and nothing is to change.
	w.env.Sim.SetFaults(hcloudsim.Faults{})
	if p := w.plan(t, c); p.HasChanges() || len(p.Problems) != 0 || len(p.Notes) != 0 {
		t.Errorf("plan after stock returned: changes %v problems %v notes %v", p.HasChanges(), p.Problems, p.Notes)
	}
}

// Without a location with stock among the pool's, the refusal names them.
func TestPreflightFallbackExhausted(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, func(c *config.Cluster) { c.WorkerNodepools[0].FallbackLocations = []string{"nbg1"} })
	w.seed(t, c)
	w.env.Sim.SetFaults(hcloudsim.Faults{UnavailableServerTypes: []string{"cpx31@fsn1", "cpx31@nbg1"}})
	err := w.applyRefusedBeforeWriting(t, c)
	if !strings.Contains(err.Error(), "none of its locations (fsn1, nbg1) can take it") {
		t.Errorf("err = %v", err)
	}
}

func containsLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// While one apply runs, a second one of the same cluster stops at its first
// step and says who holds the cluster; once the first is done, the lock is
// gone.
func TestSecondApplyIsRefusedWhileOneRuns(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	// The first apply is held inside its infrastructure step: the
	// simulator's clock stands still, so its first action never finishes.
	w.env.Clock.Pause()
	first := make(chan error, 1)
	go func() {
		_, err := Apply(context.Background(), w.deps, c)
		first <- err
	}()
	testwait.Eventually(t, 10*time.Second, "the first apply to hold the lock", func() error {
		if k, _, _ := w.env.Client.SSHKey.GetByName(context.Background(), "demo-lock"); k == nil {
			return errors.New("no lock yet")
		}
		return nil
	})
	_, err := Apply(context.Background(), w.deps, c)
	var held *lock.HeldError
	if !errors.As(err, &held) || !strings.HasPrefix(err.Error(), "apply stopped at lock: cluster demo is locked: ") || held.Command != "apply" {
		t.Errorf("second apply: %v", err)
	}
	w.env.Clock.Resume()
	if err := <-first; err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if k, _, _ := w.env.Client.SSHKey.GetByName(context.Background(), "demo-lock"); k != nil {
		t.Error("the lock outlived the apply")
	}
	assertConverged(t, w, c)
}
