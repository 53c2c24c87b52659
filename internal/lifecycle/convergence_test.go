package lifecycle

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

// cancelAfter cancels a context once n requests have been sent: an apply killed at
// a precise, repeatable point (a count of requests, not a time). With n = 0 it
// only counts.
type cancelAfter struct {
	next   http.RoundTripper
	n      int64
	sent   atomic.Int64
	fired  atomic.Bool
	cancel context.CancelFunc
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.sent.Add(1) == c.n {
		c.fired.Store(true)
		c.cancel()
	}
	return c.next.RoundTrip(r)
}

// applyKilledAfter runs apply on w with a client whose context is cancelled as
// its n-th request is sent (never with n = 0), and returns apply's error and
// the transport that counted the requests.
func applyKilledAfter(t *testing.T, w *world, c *config.Cluster, n int64) (*cancelAfter, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	killer := &cancelAfter{next: simtest.LoopbackHTTPClient(t).Transport, n: n, cancel: cancel}
	client := simClient(t, w.env, w.env.Token, killer)
	deps := w.deps
	deps.Client = client
	_, err := Apply(ctx, deps, c)
	return killer, err
}

// assertConverged checks that the cloud holds exactly what the file asks for: a plan
// with no changes, and no resource of any kind beyond the desired ones.
func assertConverged(t *testing.T, w *world, c *config.Cluster) {
	t.Helper()
	res, err := Plan(context.Background(), w.deps, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.HasChanges() || len(res.Plan.Problems) > 0 || len(res.Plan.Unmanaged) > 0 {
		t.Fatalf("not converged: %+v problems %v unmanaged %v", res.Plan.Changes, res.Plan.Problems, res.Plan.Unmanaged)
	}
	for ref := range res.Observed.Resources {
		if res.Desired.Get(ref) == nil {
			t.Errorf("orphan: %s", ref)
		}
	}
	if got, want := len(res.Observed.Resources), len(res.Desired.Resources); got != want {
		t.Errorf("%d resources exist, %d desired", got, want)
	}
	servers, _ := w.env.Client.Server.All(context.Background())
	if len(servers) != c.ControlPlaneCount()+c.WorkerCount() {
		t.Errorf("%d servers in the project, want %d (a duplicate or a leftover)", len(servers), c.ControlPlaneCount()+c.WorkerCount())
	}
	for _, s := range servers {
		if s.Status != hcloud.ServerStatusRunning {
			t.Errorf("server %s is %s, not running", s.Name, s.Status)
		}
	}
}

// TestApplyKilledAnywhereConverges interrupts apply after a seeded number of requests,
// many times over, and runs it again: every run must end with the same resources,
// no duplicates and no orphans. Every kill point lies within an apply, and each
// run must really have been interrupted, or the test would not test what it says.
func TestApplyKilledAnywhereConverges(t *testing.T) {
	// How many requests a full apply of this cluster takes, measured rather
	// than assumed. The count of action polls varies from run to run (and
	// drops when the machine is slow: a loaded machine has seen 59 where
	// another run took 76), so the kill points stay within the first two
	// thirds.
	ref := newWorld(t, hcloudsim.Options{})
	refCluster := parse(t, nil)
	ref.seed(t, refCluster)
	counted, err := applyKilledAfter(t, ref, refCluster, 0)
	if err != nil {
		t.Fatalf("uninterrupted apply: %v\n%s", err, ref.out)
	}
	full := counted.sent.Load()
	within := full * 2 / 3
	t.Logf("a full apply takes %d requests; killing within the first %d", full, within)

	rng := rand.New(rand.NewPCG(42, 7))
	const points = 24
	killed := 0
	for i := range points {
		n := 1 + rng.Int64N(within)
		t.Run("", func(t *testing.T) {
			w := newWorld(t, hcloudsim.Options{})
			c := parse(t, nil)
			w.seed(t, c)
			killer, err := applyKilledAfter(t, w, c, n)
			t.Logf("point %d: killed after %d requests: %v", i, n, err != nil)
			if !killer.fired.Load() || err == nil {
				t.Errorf("point %d: apply was not interrupted (kill after %d requests fired: %v; apply error: %v; %d requests sent)",
					i, n, killer.fired.Load(), err, killer.sent.Load())
			} else {
				killed++
			}
			w.apply(t, c)
			assertConverged(t, w, c)
		})
	}
	if killed != points {
		t.Errorf("%d of %d runs were interrupted", killed, points)
	}
}

// TestApplyConvergesUnderFaults runs apply against a simulator that fails requests
// and actions at random (seeded); apply is re-run until it succeeds, as a user would,
// and must converge: every resource as desired and every server running (a failed
// start action leaves a server off, which is not done).
func TestApplyConvergesUnderFaults(t *testing.T) {
	tests := []struct {
		name   string
		seed   uint64
		faults hcloudsim.Faults
	}{
		{"mixed", 3, hcloudsim.Faults{ServiceErrorRate: 0.05, RateLimitRate: 0.03, LockedRate: 0.05, ActionErrorRate: 0.05}},
		{"failed actions", 5, hcloudsim.Faults{ActionErrorRate: 0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, hcloudsim.Options{Seed: tt.seed})
			c := parse(t, nil)
			w.seed(t, c)
			w.env.Sim.SetFaults(tt.faults)
			var err error
			runs := 0
			for runs < 10 {
				runs++
				if _, err = Apply(context.Background(), w.deps, c); err == nil {
					break
				}
				t.Logf("apply run %d failed (expected under faults): %v", runs, err)
			}
			if err != nil {
				t.Fatalf("apply did not converge in %d runs: %v", runs, err)
			}
			w.env.Sim.SetFaults(hcloudsim.Faults{})
			assertConverged(t, w, c)
			if res, err := Destroy(context.Background(), w.deps, c, func([]string) bool { return true }); err != nil || len(res.Left) != 0 {
				t.Fatalf("destroy after faults: %v %+v", err, res)
			}
		})
	}
}

// A server name taken by something that is not ours stops apply with the name.
func TestApplyRefusesForeignNameClash(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	if _, _, err := w.env.Client.PlacementGroup.Create(context.Background(), hcloudPG("demo-worker-pg-1")); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(context.Background(), w.deps, c)
	if err == nil || !containsAll(err.Error(), "demo-worker-pg-1", "does not carry the label cluster=demo") {
		t.Fatalf("err = %v", err)
	}
}

func hcloudPG(name string) hcloud.PlacementGroupCreateOpts {
	return hcloud.PlacementGroupCreateOpts{Name: name, Type: hcloud.PlacementGroupTypeSpread, Labels: map[string]string{"owner": "someone-else"}}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
