package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// notYet reports a command whose machinery has not been built, after checking the
// inputs it will need, so users learn about mistakes in them today.
func notYet(o *options, what string, needsToken bool) error {
	c, err := config.Load(o.file)
	if err != nil {
		return err
	}
	if needsToken {
		if _, err := o.credentials(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s for cluster %q: %w (the cluster file is valid; this release cannot talk to Hetzner yet)", what, c.Cluster.Name, errNotImplemented)
}

func newPlanCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, and why (makes no changes)",
		Long: `Compare the cluster file with what exists in Hetzner Cloud (found by the
cluster's labels) and print every resource that would be created, updated or
deleted, with the reason. plan never writes anything. -o json gives a stable,
scriptable listing.

Not implemented yet: this release validates the cluster file and the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "plan", true) },
	}
}

func newApplyCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "apply",
		Short: "Create the cluster or converge it to the cluster file",
		Long: `Create or converge the cluster: Talos image, network, firewall, load balancers,
servers, Talos configuration, bootstrap and addons. apply is idempotent: it can
be interrupted and run again, and it converges without duplicates.

Not implemented yet: this release validates the cluster file and the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "apply", true) },
	}
}

func newUpgradeCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade",
		Short: "Roll Talos and Kubernetes to the versions in the cluster file",
		Long: `Upgrade nodes one at a time, control planes first, gated on cluster health, to
talos.version; then upgrade Kubernetes to kubernetes.version. Resumable.

Not implemented yet: this release validates the cluster file and the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "upgrade", true) },
	}
}

func newDestroyCommand(o *options) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete every resource this cluster owns, and nothing else",
		Long: `Delete every Hetzner resource labelled cluster=<name>, in dependency order.
You are asked to type the cluster name unless --yes is given.

Not implemented yet: this release validates the cluster file and the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "destroy", true) },
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}

func newKubeconfigCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print or write the cluster's admin kubeconfig",
		Long: `Print the admin kubeconfig of a formed cluster from the state directory.

Not implemented yet: clusters are not formed by this release.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "kubeconfig", false) },
	}
}

func newTalosconfigCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "talosconfig",
		Short: "Print or write the cluster's talosconfig",
		Long: `Print the talosconfig of a formed cluster from the state directory.

Not implemented yet: clusters are not formed by this release.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return notYet(o, "talosconfig", false) },
	}
}
