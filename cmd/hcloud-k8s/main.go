// Command hcloud-k8s creates, upgrades, scales and destroys Talos Linux Kubernetes
// clusters on Hetzner Cloud from a declarative cluster file.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hcloud-k8s/hcloud-k8s/internal/cli"
)

func main() {
	// The first interrupt cancels the context so long operations can stop at a safe
	// point; a second one kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
