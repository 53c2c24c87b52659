package lifecycle

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// A server that is off is not up to date: plan shows it as a start, apply
// starts it, and the plan after is empty.
func TestStoppedServerIsStarted(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	w.apply(t, c)

	ctx := context.Background()
	worker := serverNames(t, w.env.Client)["demo-worker-1"]
	a, _, err := w.env.Client.Server.Poweroff(ctx, worker)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Client.Action.WaitFor(ctx, a); err != nil {
		t.Fatal(err)
	}

	p := w.plan(t, c)
	ch := changeOf(p, infra.Ref{Kind: infra.KindServer, Name: "demo-worker-1"})
	if ch == nil || ch.Action != infra.ActionUpdate || ch.Reason != "start: server is off" {
		t.Fatalf("plan for the stopped worker = %+v, want an update \"start: server is off\"", ch)
	}
	if got := len(p.Changes) - countNoops(p); got != 1 {
		t.Errorf("%d changes planned, want only the start", got)
	}

	w.apply(t, c)
	if s := serverNames(t, w.env.Client)["demo-worker-1"]; s.Status != hcloud.ServerStatusRunning {
		t.Errorf("after apply demo-worker-1 is %s", s.Status)
	}
	assertConverged(t, w, c)
}

// A destroy stopped right after its shutdowns went out leaves servers that
// are off (or stopping). Running destroy again removes everything; running
// apply instead brings every server back to running.
func TestDestroyKilledAfterShutdownsRecovers(t *testing.T) {
	for _, next := range []string{"destroy", "apply"} {
		t.Run("then "+next, func(t *testing.T) {
			w := newWorld(t, hcloudsim.Options{})
			c := parse(t, nil)
			w.seed(t, c)
			w.apply(t, c)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			killer := &cancelOnPath{next: simtest.LoopbackHTTPClient(t).Transport, suffix: "/actions/shutdown", after: 2, cancel: cancel}
			client := simClient(t, w.env, w.env.Token, killer)
			deps := w.deps
			deps.Client = client
			if _, err := Destroy(ctx, deps, c, func([]string) bool { return true }); err == nil {
				t.Fatal("destroy was not interrupted")
			}
			// The shutdowns that went out finish in the simulator's time: ACPI,
			// then off.
			shutdowns := int(killer.seen.Load())
			testwait.Eventually(t, 10*time.Second, "the shut-down servers to be off", func() error {
				off := 0
				for _, s := range serverNames(t, w.env.Client) {
					if s.Status == hcloud.ServerStatusOff {
						off++
					}
				}
				if off < shutdowns {
					return fmt.Errorf("%d of %d shut-down servers are off", off, shutdowns)
				}
				return nil
			})

			switch next {
			case "destroy":
				res, err := Destroy(context.Background(), w.deps, c, func([]string) bool { return true })
				if err != nil || len(res.Left) != 0 {
					t.Fatalf("second destroy: %v, left %v", err, res.Left)
				}
				if n := len(serverNames(t, w.env.Client)); n != 0 {
					t.Errorf("%d servers left", n)
				}
			case "apply":
				w.apply(t, c)
				assertConverged(t, w, c)
			}
		})
	}
}

// cancelOnPath cancels a context once the after-th request whose path ends
// in suffix has been answered with success; seen counts those answers.
type cancelOnPath struct {
	next   http.RoundTripper
	suffix string
	after  int64
	seen   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelOnPath) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	// Only requests the server answered count: one cancelled in flight may
	// never have been carried out.
	if err == nil && resp.StatusCode < 300 && strings.HasSuffix(r.URL.Path, c.suffix) && c.seen.Add(1) == c.after {
		c.cancel()
	}
	return resp, err
}

func changeOf(p *infra.Plan, ref infra.Ref) *infra.Change {
	for i := range p.Changes {
		if p.Changes[i].Ref == ref {
			return &p.Changes[i]
		}
	}
	return nil
}

func countNoops(p *infra.Plan) int {
	n := 0
	for _, ch := range p.Changes {
		if ch.Action == infra.ActionNoop {
			n++
		}
	}
	return n
}
