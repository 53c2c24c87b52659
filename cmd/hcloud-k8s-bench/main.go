// Command hcloud-k8s-bench measures how economical apply and destroy are with the
// Hetzner API, against the simulator: requests per phase for a cluster of 3 control
// planes and 10 or 50 workers (create, no-op re-apply, destroy), and the simulated
// wall time of the create next to the critical-path lower bound of the latency
// model. It exits non-zero when a target is missed:
//
//	no-op re-apply ≤ 15 requests (whatever the size); create of 3+50 < 400 requests;
//	create time / critical path < 1.2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/loopback"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

const clusterFile = `apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster: {name: bench}
firewall: {apiSource: [203.0.113.0/24]}
controlPlaneNodepools:
  - {name: control, type: cpx22, location: fsn1, count: 3}
workerNodepools:
  - {name: worker, type: cpx32, location: fsn1, count: %d}
`

// Targets from the issue that asked for this benchmark.
const (
	maxNoopRequests  = 15
	maxCreate50      = 400
	maxCriticalRatio = 1.2
	// simSpeed is modest on purpose: the simulator handles requests one at a
	// time, and at high speeds its own real handling time would show up as
	// many simulated seconds and distort the critical-path ratio.
	simSpeed        = 20
	simPollInterval = time.Second // simulated: the CLI's default
)

func main() {
	workers := flag.String("workers", "10,50", "comma-separated worker counts to measure")
	flag.Parse()
	ok := true
	for _, w := range strings.Split(*workers, ",") {
		var n int
		if _, err := fmt.Sscan(w, &n); err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "invalid --workers entry %q\n", w)
			os.Exit(2)
		}
		r, err := measure(context.Background(), n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		ok = r.print(os.Stdout) && ok
	}
	if !ok {
		fmt.Println("\nSome targets were missed.")
		os.Exit(1)
	}
	fmt.Println("\nAll targets met.")
}

type result struct {
	workers                  int
	create, noop, destroy    map[string]int
	createTime, criticalPath time.Duration
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func measure(ctx context.Context, workers int) (*result, error) {
	addrs, err := loopback.Claim(loopback.First)
	if err != nil {
		return nil, err
	}
	defer addrs.Release()
	sim := hcloudsim.New(hcloudsim.Options{Speed: simSpeed, Seed: 1, PublicIPv4Start: addrs.Start(0)})
	if err := sim.Start(ctx); err != nil {
		return nil, err
	}
	defer sim.Close()
	c, err := config.Parse([]byte(fmt.Sprintf(clusterFile, workers)), "bench.yaml")
	if err != nil {
		return nil, err
	}
	api := hcloud.NewClient(hcloud.WithEndpoint(sim.Endpoint()), hcloud.WithToken(sim.Token()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(10 * time.Millisecond)}))
	if _, err := simworld.SeedTalosSnapshots(ctx, api, c); err != nil {
		return nil, err
	}
	run := func(phase string, fn func(lifecycle.Deps) error) (map[string]int, time.Duration, error) {
		client, err := hetzner.New(hetzner.Options{Token: sim.Token(), Endpoint: sim.Endpoint(), HTTPClient: &http.Client{},
			Clock: sim.Clock(), PollInterval: simPollInterval})
		if err != nil {
			return nil, 0, err
		}
		defer client.Close()
		start, realStart := sim.Now(), time.Now()
		err = fn(lifecycle.Deps{Client: client, Progress: io.Discard, InfrastructureOnly: true})
		elapsed := sim.Now().Sub(start)
		fmt.Fprintf(os.Stderr, "%s: %s simulated, %s real\n", phase, elapsed.Round(time.Second), time.Since(realStart).Round(time.Millisecond))
		perPhase := map[string]int{}
		for p, routes := range client.Stats() {
			for _, n := range routes {
				perPhase[p] += n
			}
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", phase, err)
		}
		return perPhase, elapsed, nil
	}
	r := &result{workers: workers}
	applyStart := sim.Now()
	if r.create, r.createTime, err = run("create", func(d lifecycle.Deps) error { _, err := lifecycle.Apply(ctx, d, c); return err }); err != nil {
		return nil, err
	}
	if r.criticalPath, err = criticalPath(ctx, api, applyStart); err != nil {
		return nil, err
	}
	if r.noop, _, err = run("no-op", func(d lifecycle.Deps) error { _, err := lifecycle.Apply(ctx, d, c); return err }); err != nil {
		return nil, err
	}
	if r.destroy, _, err = run("destroy", func(d lifecycle.Deps) error {
		res, err := lifecycle.Destroy(ctx, d, c, func([]string) bool { return true })
		if err == nil && len(res.Left) > 0 {
			err = errors.New("resources left after destroy")
		}
		return err
	}); err != nil {
		return nil, err
	}
	return r, nil
}

// criticalPath is the lower bound the latency model puts on the create: the
// longest chain of actions that must run one after another. Actions on one server
// are serialised by Hetzner's resource lock, and a server can only be created once
// its network, firewall and placement group exist; so the bound is the longest
// prerequisite action plus the longest busy time of any single server, with each
// action taking exactly its modelled duration.
func criticalPath(ctx context.Context, api *hcloud.Client, since time.Time) (time.Duration, error) {
	var actions []*hcloud.Action
	for kind, list := range map[string]func(context.Context, hcloud.ActionListOpts) ([]*hcloud.Action, error){
		"server": api.Server.Action.All, "network": api.Network.Action.All, "firewall": api.Firewall.Action.All,
	} {
		as, err := list(ctx, hcloud.ActionListOpts{})
		if err != nil {
			return 0, fmt.Errorf("list %s actions: %w", kind, err)
		}
		actions = append(actions, as...)
	}
	var prereq time.Duration
	busy := map[int64][][2]time.Time{}
	for _, a := range actions {
		if a.Started.Before(since) || a.Finished.IsZero() {
			continue
		}
		server := int64(0)
		for _, res := range a.Resources {
			if res.Type == hcloud.ActionResourceTypeServer {
				server = res.ID
			}
		}
		if server == 0 {
			prereq = max(prereq, a.Finished.Sub(a.Started))
			continue
		}
		busy[server] = append(busy[server], [2]time.Time{a.Started, a.Finished})
	}
	var longest time.Duration
	for _, spans := range busy {
		longest = max(longest, covered(spans))
	}
	return prereq + longest, nil
}

// covered is the total length of the union of the spans.
func covered(spans [][2]time.Time) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var sum time.Duration
	var cur [2]time.Time
	for i, s := range spans {
		if i == 0 || s[0].After(cur[1]) {
			if i > 0 {
				sum += cur[1].Sub(cur[0])
			}
			cur = s
			continue
		}
		if s[1].After(cur[1]) {
			cur[1] = s[1]
		}
	}
	if len(spans) > 0 {
		sum += cur[1].Sub(cur[0])
	}
	return sum
}

func (r *result) print(w io.Writer) bool {
	fmt.Fprintf(w, "\n3 control planes + %d workers\n", r.workers)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  phase\trequests\tby step\n")
	line := func(name string, m map[string]int) {
		var parts []string
		for _, k := range []string{"observe", "apply", "destroy", "verify"} {
			if m[k] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
			}
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", name, total(m), strings.Join(parts, ", "))
	}
	line("create", r.create)
	line("no-op re-apply", r.noop)
	line("destroy", r.destroy)
	tw.Flush()
	ratio := float64(r.createTime) / float64(r.criticalPath)
	fmt.Fprintf(w, "  create took %s of simulated time; critical path of the latency model %s; ratio %.2f\n",
		r.createTime.Round(100*time.Millisecond), r.criticalPath.Round(100*time.Millisecond), ratio)
	ok := true
	check := func(cond bool, msg string) {
		if !cond {
			ok = false
			fmt.Fprintf(w, "  MISSED: %s\n", msg)
		}
	}
	check(total(r.noop) <= maxNoopRequests, fmt.Sprintf("no-op re-apply costs %d requests (target ≤ %d)", total(r.noop), maxNoopRequests))
	if r.workers == 50 {
		check(total(r.create) < maxCreate50, fmt.Sprintf("create costs %d requests (target < %d)", total(r.create), maxCreate50))
	}
	check(ratio < maxCriticalRatio, fmt.Sprintf("create/critical path = %.2f (target < %.1f)", ratio, maxCriticalRatio))
	return ok
}
