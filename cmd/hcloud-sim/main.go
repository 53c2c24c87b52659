// Command hcloud-sim runs the Hetzner Cloud API simulator in the foreground
// on a loopback address so the official hcloud CLI, hcloud-go or hcloud-k8s
// can be pointed at it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/loopback"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

const usage = `hcloud-sim runs a local, stateful simulator of the Hetzner Cloud API.

It listens on loopback only and prints, as its first two lines,

    HCLOUD_ENDPOINT=http://127.0.0.1:PORT/v1
    HCLOUD_TOKEN=<token>

so that they can be exported for the official hcloud CLI, hcloud-go and
hcloud-k8s (all read those two variables), e.g.:

    hcloud-sim --speed 20 > /tmp/hcloud-sim.env &
    sleep 1; export $(head -n 2 /tmp/hcloud-sim.env)
    hcloud server-type list

Simulated public IPv4 addresses are in 127.0.0.0/8, so simulated servers are
dialable on this machine. Actions take realistic simulated time; --speed
makes simulated time run faster (e.g. --speed 100: a 20 s boot takes 0.2 s).

Control endpoints (no token needed, never faulted):
    GET  /_sim/stats         request counts by method and path template
    POST /_sim/stats/reset   zero the counters
    GET  /_sim/clock         simulated now, host time, speed, paused, elapsed seconds
    GET  /_sim/faults        current fault injection settings
    PUT  /_sim/faults        replace them, e.g. {"service_error_rate":0.1}

With --world it also runs the rest of the local world (rescue-system SSH, a
fake Talos Image Factory, fake Talos nodes, a real kube-apiserver + etcd per
bootstrapped cluster) and prints two more lines for hcloud-k8s:

    HCLOUD_K8S_IMAGE_FACTORY=http://127.0.0.1:PORT
    HCLOUD_K8S_RESCUE_SSH_PORT=PORT

so that, after exporting all four, "hcloud-k8s apply" builds a whole cluster
locally. --world needs the etcd and kube-apiserver binaries: run
"go run ./hack/testbin" once (10-15 minutes the first time).

The simulator stops cleanly on SIGINT or SIGTERM.

Flags:
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "hcloud-sim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hcloud-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free port)")
	token := fs.String("token", "", "API token clients must send (random when empty)")
	speed := fs.Float64("speed", 1, "simulated seconds per real second")
	seed := fs.Uint64("seed", 1, "seed for all random decisions (IPs, passwords, jitter, faults)")
	noRateLimit := fs.Bool("no-rate-limit", false, "disable the 3600 requests/hour rate limit")
	verbose := fs.Bool("verbose", false, "log every request to stderr")
	world := fs.Bool("world", false, "also run the rest of the local world: rescue-system SSH, a fake Talos Image Factory, fake Talos nodes on the servers' IPs and a real kube-apiserver per bootstrapped cluster (needs `go run ./hack/testbin` once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := hcloudsim.Options{
		Listen:    *listen,
		Token:     *token,
		Speed:     *speed,
		Seed:      *seed,
		RateLimit: hcloudsim.RateLimitOptions{Disabled: *noRateLimit},
	}
	if *verbose {
		opts.Log = stderr
	}
	if *world {
		// Fail before printing anything an `eval` would pick up.
		if err := kubesim.CheckBinaries(""); err != nil {
			return fmt.Errorf("--world: %w", err)
		}
	}
	// Claim this process's own loopback range, so that a second simulator
	// (or world) on the machine hands out other addresses: fake Talos nodes
	// listen on them (internal/hcloudsim/loopback).
	addrs, err := loopback.Claim(loopback.First)
	if err != nil {
		return err
	}
	defer addrs.Release()
	opts.PublicIPv4Start = addrs.Start(0)
	fmt.Fprintf(stderr, "hcloud-sim: simulated public IPv4 addresses are in %s\n", addrs.Prefix())
	sim := hcloudsim.New(opts)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sim.Start(ctx); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	fmt.Fprintf(stdout, "HCLOUD_ENDPOINT=%s\n", sim.Endpoint())
	fmt.Fprintf(stdout, "HCLOUD_TOKEN=%s\n", sim.Token())
	if *world {
		stopWorld, err := startWorld(ctx, sim, stdout, stderr)
		if err != nil {
			sim.Close()
			return err
		}
		defer stopWorld()
	}
	<-ctx.Done()
	if err := sim.Close(); err != nil {
		return fmt.Errorf("stop simulator: %w", err)
	}
	return nil
}

// startWorld starts what hcloud-k8s needs besides the API to build a cluster
// locally, and prints the variables that point hcloud-k8s at it.
func startWorld(ctx context.Context, sim *hcloudsim.Server, stdout, stderr io.Writer) (func(), error) {
	port, err := sim.ServeRescueSSH(0)
	if err != nil {
		return nil, fmt.Errorf("rescue SSH: %w", err)
	}
	factory := imagetest.StartFactory()
	w, err := simworld.StartTalosWorld(ctx, sim, simworld.TalosWorldOptions{TalosImages: simworld.BuiltTalosImages(sim), Log: stderr})
	if err != nil {
		factory.Close()
		return nil, fmt.Errorf("fake Talos nodes: %w", err)
	}
	fmt.Fprintf(stdout, "HCLOUD_K8S_IMAGE_FACTORY=%s\n", factory.URL())
	fmt.Fprintf(stdout, "HCLOUD_K8S_RESCUE_SSH_PORT=%d\n", port)
	fmt.Fprintf(stdout, "%s=%s\n", charts.MirrorEnv, w.ChartMirror())
	return func() { w.Close(); factory.Close() }, nil
}
