// Command hcloud-sim runs the Hetzner Cloud API simulator in the foreground
// on a loopback address so the official hcloud CLI, hcloud-go or hcloud-k8s
// can be pointed at it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
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
    GET  /_sim/clock         simulated now, elapsed seconds, speed
    GET  /_sim/faults        current fault injection settings
    PUT  /_sim/faults        replace them, e.g. {"service_error_rate":0.1}

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
	sim := hcloudsim.New(opts)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sim.Start(ctx); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	fmt.Fprintf(stdout, "HCLOUD_ENDPOINT=%s\n", sim.Endpoint())
	fmt.Fprintf(stdout, "HCLOUD_TOKEN=%s\n", sim.Token())
	<-ctx.Done()
	if err := sim.Close(); err != nil {
		return fmt.Errorf("stop simulator: %w", err)
	}
	return nil
}
