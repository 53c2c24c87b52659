// Package cli is the hcloud-k8s command line: cobra commands, flags, and output. It
// parses and validates user input and hands the work to the packages below it; it
// holds no cluster logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"
)

// Env is what the CLI takes from its process, passed in so tests can supply their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// HTTPClient, when set, carries every request the CLI makes (Hetzner API,
	// public IP lookup); tests use it to allow only loopback.
	HTTPClient *http.Client
}

// OSEnv returns the real process environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// options are the global flags, shared by every command.
type options struct {
	env       Env
	file      string
	stateDir  string
	output    string
	debug     bool
	tokenFile string
}

// Output formats of -o.
const (
	outputText = "text"
	outputJSON = "json"
)

// errNotImplemented marks commands whose machinery has not been built yet.
var errNotImplemented = errors.New("not implemented yet")

// NewRootCommand builds the command tree.
func NewRootCommand(env Env) *cobra.Command {
	o := &options{env: env}
	root := &cobra.Command{
		Use:   "hcloud-k8s",
		Short: "Create, upgrade, scale and destroy Talos Kubernetes clusters on Hetzner Cloud",
		Long: `hcloud-k8s turns a declarative cluster file into a production Talos Linux
Kubernetes cluster on Hetzner Cloud and keeps it there.

  hcloud-k8s init       write a starter cluster.yaml
  hcloud-k8s validate   check the cluster file and show the derived network layout
  hcloud-k8s plan       show what would change, and why (no writes)
  hcloud-k8s apply      create or converge the cluster
  hcloud-k8s upgrade    rolling Talos and Kubernetes upgrades
  hcloud-k8s status     nodes, etcd members and addons of the running cluster
  hcloud-k8s destroy    remove everything this cluster owns, nothing else

The Hetzner Cloud API token is read from HCLOUD_TOKEN or from the file given
with --token-file; it is never accepted as a command-line argument and never
printed. HCLOUD_ENDPOINT overrides the API endpoint, as in the hcloud CLI.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != outputText && o.output != outputJSON {
				return fmt.Errorf("invalid value %q for -o/--output: use text or json", o.output)
			}
			return nil
		},
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)

	f := root.PersistentFlags()
	f.StringVarP(&o.file, "file", "f", "cluster.yaml", "cluster file")
	f.StringVar(&o.stateDir, "state-dir", "", "directory for the cluster's secrets, talosconfig and kubeconfig (default $XDG_STATE_HOME/hcloud-k8s/<cluster>)")
	f.StringVarP(&o.output, "output", "o", outputText, "output format: text or json")
	f.BoolVar(&o.debug, "debug", false, "log every API request and extra detail to stderr (never secrets)")
	f.StringVar(&o.tokenFile, "token-file", "", "read the Hetzner Cloud API token from this file instead of HCLOUD_TOKEN")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputText, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.MarkPersistentFlagFilename("file", "yaml", "yml")

	root.AddCommand(
		newInitCommand(o),
		newValidateCommand(o),
		newSchemaCommand(o),
		newPlanCommand(o),
		newApplyCommand(o),
		newUpgradeCommand(o),
		newDestroyCommand(o),
		newStatusCommand(o),
		newKubeconfigCommand(o),
		newTalosconfigCommand(o),
		newVersionCommand(o),
	)
	return root
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, env Env, args []string) int {
	root := NewRootCommand(env)
	root.SetArgs(args)
	if cmd, err := root.ExecuteContextC(ctx); err != nil {
		name := ""
		if cmd != nil {
			name = cmd.Name()
		}
		fmt.Fprintln(env.Stderr, "Error:", explainInterrupt(ctx, name, err))
		return 1
	}
	return 0
}
