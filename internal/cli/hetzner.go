package cli

import (
	"context"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	simclock "github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
)

// session is what a command that talks to Hetzner needs: the cluster file and
// the shared client.
type session struct {
	cluster *config.Cluster
	client  *hetzner.Client
	deps    lifecycle.Deps
}

// lifecycleFlags are shared by plan and apply.
type lifecycleFlags struct {
	currentIPs         []string
	infrastructureOnly bool
	breakLock          bool
	drainTimeout       time.Duration
	forceDrain         bool
	keepVolumes        bool
}

// openSession loads the cluster file, resolves credentials and builds the client.
// The caller must close the client.
func (o *options) openSession(lf *lifecycleFlags) (*session, error) {
	c, err := config.Load(o.file)
	if err != nil {
		return nil, err
	}
	cred, err := o.credentials()
	if err != nil {
		return nil, err
	}
	hopts := hetzner.Options{Token: cred.Token, Endpoint: cred.Endpoint, HTTPClient: o.env.HTTPClient}
	if v := o.env.Getenv(envPollInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("invalid %s %q: use a duration such as 500ms or 2s", envPollInterval, v)
		}
		hopts.PollInterval = d
	}
	// With -o json the progress lines go to stderr too, and both they and
	// the debug log are written from concurrent goroutines: one lock for both.
	stderr := lifecycle.SerialProgress(o.env.Stderr)
	if o.debug {
		hopts.Debug = stderr
	}
	// Human progress lines go to stdout with text output, to stderr with
	// -o json, whose stdout is one JSON document and nothing else.
	progress := stderr
	if o.output == outputText {
		progress = lifecycle.SerialProgress(o.env.Stdout)
	}
	hopts.OnRateLimitWait = func(w hetzner.RateLimitWait) { fmt.Fprintln(progress, w) }
	simClock, err := o.simulatorClock(cred.Endpoint)
	if err != nil {
		return nil, err
	}
	if simClock != nil {
		hopts.Clock = simClock
	}
	client, err := hetzner.New(hopts)
	if err != nil {
		return nil, err
	}
	stateDir, err := o.clusterStateDir(c.Cluster.Name)
	if err != nil {
		client.Close()
		return nil, err
	}
	deps := lifecycle.Deps{Client: client, Progress: progress, StateDir: stateDir, Token: cred.Token, TalosPollInterval: hopts.PollInterval}
	if simClock != nil {
		deps.Clock = simClock
		// The Talos and Kubernetes waits still sleep on the wall clock: give
		// them the real duration of the simulated interval, so that they poll
		// as often as they did before the client followed the simulator.
		// Drop this once those waits take deps.Clock.
		deps.TalosPollInterval = simclock.RealDuration(simClock, hopts.PollInterval)
	}
	if lf != nil {
		deps.InfrastructureOnly = lf.infrastructureOnly
		deps.BreakLock = lf.breakLock
		deps.DrainTimeout, deps.ForceDrain = lf.drainTimeout, lf.forceDrain
		deps.KeepVolumes = lf.keepVolumes
	}
	deps.ChartMirror = o.env.Getenv(charts.MirrorEnv)
	if u := o.env.Getenv(envImageFactory); u != "" {
		deps.ImageFactory = &image.FactoryClient{BaseURL: strings.TrimRight(u, "/"), HTTPClient: o.env.HTTPClient}
	}
	if v := o.env.Getenv(envRescueSSHPort); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			client.Close()
			return nil, fmt.Errorf("invalid %s %q: use a port number", envRescueSSHPort, v)
		}
		deps.RescueSSHPort = port
	}
	if lf != nil && len(lf.currentIPs) > 0 {
		ips, err := parseCurrentIPs(lf.currentIPs)
		if err != nil {
			client.Close()
			return nil, err
		}
		deps.CurrentIPs = func(context.Context, bool, bool) ([]string, error) { return ips, nil }
	} else {
		httpc := o.env.HTTPClient
		if httpc == nil {
			httpc = &http.Client{Timeout: 10 * time.Second}
		}
		deps.CurrentIPs = func(ctx context.Context, v4, v6 bool) ([]string, error) {
			return lifecycle.LookupPublicIPs(ctx, httpc, v4, v6)
		}
	}
	return &session{cluster: c, client: client, deps: deps}, nil
}

func parseCurrentIPs(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		if a, err := netip.ParseAddr(s); err == nil {
			bits := 32
			if a.Is6() {
				bits = 64
			}
			p, _ := a.Prefix(bits)
			out = append(out, p.String())
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked().String())
			continue
		}
		return nil, fmt.Errorf("invalid value %q for --current-ip: give an IP address such as 203.0.113.7 or 2001:db8::1", s)
	}
	return out, nil
}

// envSimClock, set to 1, makes the CLI wait in the Hetzner simulator's time
// instead of the wall clock. It is a testing hook for the local world (the
// demo runs the CLI against a simulator whose time runs 100x faster): the CLI
// reads GET /_sim/clock once and runs a local replica of that clock. Only a
// loopback HCLOUD_ENDPOINT is accepted.
const envSimClock = "HCLOUD_K8S_SIM_CLOCK"

// simulatorClock returns the replica of the simulator's clock when
// envSimClock asks for it, nil otherwise.
func (o *options) simulatorClock(endpoint string) (*simclock.Scaled, error) {
	switch v := o.env.Getenv(envSimClock); v {
	case "", "0":
		return nil, nil
	case "1":
	default:
		return nil, fmt.Errorf("invalid %s %q: use 1 to follow the local simulator's clock, or leave it unset", envSimClock, v)
	}
	if endpoint == "" {
		return nil, fmt.Errorf("%s=1 needs HCLOUD_ENDPOINT pointing at a local Hetzner simulator", envSimClock)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := simclock.FetchReplica(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("%s=1: %w", envSimClock, err)
	}
	return c, nil
}
