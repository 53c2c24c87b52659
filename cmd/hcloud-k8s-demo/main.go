// Command hcloud-k8s-demo runs the local demo: it starts the Hetzner Cloud
// simulator in-process and drives the real hcloud-k8s binary against it through a
// whole infrastructure lifecycle, printing each command and its output.
//
//	go build -o /tmp/hcloud-k8s ./cmd/hcloud-k8s
//	go run ./cmd/hcloud-k8s-demo --cli /tmp/hcloud-k8s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	cli, dir string
	env      []string
	out      io.Writer
	sim      *hcloudsim.Server
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hcloud-k8s-demo", flag.ContinueOnError)
	cli := fs.String("cli", "", "path of the hcloud-k8s binary to drive (required)")
	speed := fs.Float64("speed", 100, "simulated seconds per real second")
	dir := fs.String("dir", "", "working directory for cluster.yaml (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cli == "" {
		return errors.New("--cli is required: build it with `go build -o /tmp/hcloud-k8s ./cmd/hcloud-k8s`")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "hcloud-k8s-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	sim := hcloudsim.New(hcloudsim.Options{Speed: *speed, Seed: 1})
	if err := sim.Start(ctx); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	d := &demo{cli: *cli, dir: *dir, out: out, sim: sim, env: append(os.Environ(),
		"HCLOUD_ENDPOINT="+sim.Endpoint(), "HCLOUD_TOKEN="+sim.Token(), "HCLOUD_POLL_INTERVAL=100ms",
		"XDG_STATE_HOME="+filepath.Join(*dir, "state"))}
	realStart := time.Now()
	fmt.Fprintf(out, "Hetzner Cloud simulator on %s (simulated time runs %.0fx faster)\n", sim.Endpoint(), *speed)

	file := filepath.Join(*dir, "cluster.yaml")
	if err := d.cli_(ctx, "init", "-f", file, "--name", "demo", "--location", "fsn1"); err != nil {
		return err
	}
	// The demo never looks up this machine's public IP: it names the API sources.
	if err := edit(file, "  # apiSource:\n  #   - 203.0.113.7/32", "  apiSource:\n    - 203.0.113.7/32"); err != nil {
		return err
	}
	c, err := config.Load(file)
	if err != nil {
		return err
	}
	d.say("Seeding the simulator with a Talos snapshot (the image builder of a later release makes it)")
	api := hcloud.NewClient(hcloud.WithEndpoint(sim.Endpoint()), hcloud.WithToken(sim.Token()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(50 * time.Millisecond)}))
	if _, err := simworld.SeedTalosSnapshots(ctx, api, c); err != nil {
		return err
	}
	sim.ResetStats()
	simStart := sim.Elapsed()

	steps := [][]string{
		{"validate", "-f", file},
		{"plan", "-f", file},
		{"apply", "-f", file, "--infrastructure-only"},
		{"plan", "-f", file},
	}
	for _, s := range steps {
		if err := d.cli_(ctx, s...); err != nil {
			return err
		}
	}
	d.say("Scaling the workers from 2 to 3")
	if err := edit(file, "    count: 2\n", "    count: 3\n"); err != nil {
		return err
	}
	for _, s := range [][]string{{"apply", "-f", file, "--infrastructure-only"}, {"destroy", "-f", file, "--yes"}} {
		if err := d.cli_(ctx, s...); err != nil {
			return err
		}
	}
	st := sim.Stats()
	fmt.Fprintf(out, "\nDone: the cluster's infrastructure was created, scaled and destroyed.\n")
	fmt.Fprintf(out, "  simulated time: %s   real time: %s   API requests: %d\n",
		(sim.Elapsed() - simStart).Round(time.Second), time.Since(realStart).Round(100*time.Millisecond), st.Total)
	return nil
}

func (d *demo) say(msg string) {
	fmt.Fprintf(d.out, "\n==> %s\n", msg)
}

// cli_ runs the hcloud-k8s binary with the simulator's environment.
func (d *demo) cli_(ctx context.Context, args ...string) error {
	fmt.Fprintf(d.out, "\n$ hcloud-k8s %s\n", strings.Join(shortPaths(args, d.dir), " "))
	cmd := exec.CommandContext(ctx, d.cli, args...)
	cmd.Env = d.env
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hcloud-k8s %s: %w", args[0], err)
	}
	return nil
}

func shortPaths(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.TrimPrefix(strings.TrimPrefix(a, dir), "/")
	}
	return out
}

func edit(file, from, to string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), from) {
		return fmt.Errorf("%s does not contain %q", file, from)
	}
	return os.WriteFile(file, []byte(strings.Replace(string(data), from, to, 1)), 0o600)
}
