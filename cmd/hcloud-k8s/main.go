// Command hcloud-k8s creates, upgrades, scales and destroys Talos Linux Kubernetes
// clusters on Hetzner Cloud from a declarative cluster file.
package main

import (
	"context"
	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"os"
	"os/signal"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"syscall"

	"github.com/hcloud-k8s/hcloud-k8s/internal/cli"
)

func main() {
	// The first interrupt cancels the context, with the signal as its cause, so
	// long operations stop at a safe point and say why; after it the handler is
	// removed and a second interrupt kills the process as usual.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		signal.Stop(sigs)
		cancel(cli.Interrupted{Signal: s})
	}()
	// The Kubernetes client libraries log to stderr on their own (klog's
	// retries, controller-runtime's warning that no logger was set); what
	// matters reaches the user as an error or a progress line instead.
	klog.SetLogger(logr.Discard())
	ctrllog.SetLogger(logr.Discard())
	code := cli.Execute(ctx, cli.OSEnv(), os.Args[1:])
	cancel(nil)
	os.Exit(code)
}
