package cli

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/install"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
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
	return fmt.Errorf("%s for cluster %q: %w (the cluster file is valid)", what, c.Cluster.Name, errNotImplemented)
}

func addCurrentIPFlag(cmd *cobra.Command, lf *lifecycleFlags) {
	cmd.Flags().StringSliceVar(&lf.currentIPs, "current-ip", nil, "this machine's public IP(s) for the firewall, instead of asking icanhazip.com (only used when firewall.apiSource is not set)")
}

func newPlanCommand(o *options) *cobra.Command {
	var lf lifecycleFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, and why (makes no changes)",
		Long: `Compare the cluster file with what exists in Hetzner Cloud (found by the
cluster=<name> label, one list request per resource kind) and print every
resource that would be created, updated or deleted, with the reason. plan never
writes anything. -o json lists every resource with its kind, name, labels, key
attributes and action, for scripts and CI.

Before anything is listed as a change, plan checks what Hetzner would refuse
half-way through apply: server types that do not exist, are deprecated or are
out of stock where new servers go (every pool at once, with where they are in
stock), load balancer types, the snapshot build server, names that something
else in the project holds, and the limits of placement groups and networks.
Pools with fallbackLocations get their new servers placed where there is stock,
and plan says where.

Exit status: 0 when the plan was computed and apply could run it (whether or
not it has changes), 1 on errors and when the plan has problems that apply
would refuse to work around (the plan is still printed, also with -o json).`,
		Example: `  hcloud-k8s plan
  hcloud-k8s plan -o json | jq '.resources[] | select(.action != "no-op")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.openSession(&lf)
			if err != nil {
				return err
			}
			defer s.client.Close()
			res, err := lifecycle.Plan(cmd.Context(), s.deps, s.cluster)
			if err != nil {
				return err
			}
			if o.output == outputJSON {
				err = writeJSON(cmd.OutOrStdout(), kindPlan, planJSON(res))
			} else {
				err = printPlan(cmd.OutOrStdout(), res)
			}
			if err != nil {
				return err
			}
			if n := len(res.Plan.Problems); n > 0 {
				return fmt.Errorf("the plan has %d problem(s) that apply would refuse to work around (listed above); apply would change nothing", n)
			}
			return nil
		},
	}
	addCurrentIPFlag(cmd, &lf)
	return cmd
}

func newApplyCommand(o *options) *cobra.Command {
	var lf lifecycleFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Create the cluster's Hetzner resources or converge them to the cluster file",
		Long: `Create the cluster, or converge it to the cluster file, in three stages:

1. Talos snapshot: when none matches the cluster's labels, build it on a
   temporary server in Hetzner's rescue system (both architectures in parallel
   if needed) and delete the temporary server and key afterwards.
2. Infrastructure: network and subnets, firewall, SSH key, placement groups,
   servers, load balancers, floating IP and reverse DNS, named and labelled as
   the Terraform module does. Independent steps run in parallel; all requests
   share one rate-limit budget; running actions are polled together.
3. Cluster: push each node's Talos configuration over the maintenance API,
   bootstrap etcd on the first control plane (once, ever), wait for every
   control plane in etcd, the Kubernetes API and every node Ready, write
   talosconfig and kubeconfig (mode 0600) to the state directory, and upload
   the <cluster>-state marker. The Talos secrets are created once in the state
   directory: keep it safe, they cannot be recreated.

apply is idempotent and safe to interrupt: run it again and it continues, with
no duplicates and no second bootstrap. A failed apply never deletes anything to
"roll back". A worker the cluster file no longer has (a lower count, a pool
removed) is cordoned and drained first, as kubectl drain does (evictions that
respect PodDisruptionBudgets; DaemonSet and mirror pods stay; emptyDir data is
lost with the server, so such pods are evicted too), then its server and its Node are deleted. A drain that does
not finish within --drain-timeout stops apply with the pods and budgets that
block it, uncordons the node and deletes nothing; --force-drain deletes the
pods regardless. Control planes of a bootstrapped cluster are not removed (that
needs etcd member removal, which comes later): apply says so and stops.

Before any of this, apply checks the plan against what Hetzner offers (see
plan --help) and refuses, having changed nothing, if Hetzner would refuse part
of it. While it runs, apply holds the cluster's lock (an SSH key named
<cluster>-lock): a second apply or destroy of the cluster fails at once and
says who holds it and since when. A lock left by a crashed run expires after
15 minutes, or at once when that run was a process of this machine;
--break-lock takes it anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.openSession(&lf)
			if err != nil {
				return err
			}
			defer s.client.Close()
			res, err := lifecycle.Apply(cmd.Context(), s.deps, s.cluster)
			if o.output == outputJSON && res != nil {
				doc := applyDoc{planDoc: planJSON(res), Complete: err == nil, InfrastructureOnly: lf.infrastructureOnly, Addons: res.Addons}
				if doc.Addons == nil {
					doc.Addons = []install.Report{}
				}
				if err != nil {
					doc.Error = err.Error()
				}
				if werr := writeJSON(cmd.OutOrStdout(), kindApply, doc); werr != nil && err == nil {
					err = werr
				}
			}
			if o.debug {
				printStats(o.env.Stderr, s.client)
			}
			return err
		},
	}
	addCurrentIPFlag(cmd, &lf)
	cmd.Flags().BoolVar(&lf.infrastructureOnly, "infrastructure-only", false, "stop after the Hetzner resources: no Talos configuration, no bootstrap")
	cmd.Flags().DurationVar(&lf.drainTimeout, "drain-timeout", lifecycle.DefaultDrainTimeout, "how long to wait for each removed worker to drain before apply stops and changes nothing")
	cmd.Flags().BoolVar(&lf.forceDrain, "force-drain", false, "delete a removed worker's pods instead of evicting them, ignoring PodDisruptionBudgets (you accept the risk)")
	addBreakLockFlag(cmd, &lf)
	return cmd
}

// addBreakLockFlag adds --break-lock to a command that takes the cluster's lock.
func addBreakLockFlag(cmd *cobra.Command, lf *lifecycleFlags) {
	cmd.Flags().BoolVar(&lf.breakLock, "break-lock", false, "take the cluster's lock even if another run holds it (only when you know that run is gone: two runs at once can leave the cluster half-changed)")
}

func newDestroyCommand(o *options) *cobra.Command {
	var yes bool
	var lf lifecycleFlags
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete every resource this cluster owns, and nothing else",
		Long: `Delete every Hetzner resource labelled cluster=<name>: servers, load
balancers, floating IP, volumes, placement groups, firewall, SSH key, network and
the state marker, in dependency order, and the load balancers the cluster's
cloud controller manager made for Services (label hcloud-ccm/service-uid,
attached to the cluster's network; one in another network may be another
cluster's and is left alone). When the cluster's API answers (the kubeconfig
in the state directory), destroy first deletes its Services of type
LoadBalancer and its PersistentVolumeClaims, so that the CCM and the CSI
driver release what they made, and then deletes the Hetzner volumes the
cluster's PersistentVolumes name; without the API it says that such volumes
cannot be proven the cluster's and leaves them; --keep-volumes keeps every
volume and lists it. Delete protection (on by default) is
turned off for these resources only. An existing network or firewall the cluster
file names by ID is left alone, and so are Talos snapshots (reused by the next
apply). At the end destroy lists the cluster's resources again and reports
anything left.

You are shown what will be deleted and asked to type the cluster name, unless
--yes is given.

Like apply, destroy holds the cluster's lock (an SSH key named <cluster>-lock)
while it runs: a second apply or destroy of the cluster fails at once and says
who holds it. A lock left by a crashed run expires after 15 minutes, or at once
when that run was a process of this machine; --break-lock takes it anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.openSession(&lf)
			if err != nil {
				return err
			}
			defer s.client.Close()
			name := s.cluster.Cluster.Name
			confirm := func(summary []string) bool {
				out := o.env.Stderr
				fmt.Fprintf(out, "This deletes %d resources of cluster %s:\n", len(summary), name)
				for _, line := range summary {
					fmt.Fprintf(out, "  - %s\n", line)
				}
				if yes {
					return true
				}
				fmt.Fprintf(out, "Type the cluster name (%s) to confirm: ", name)
				line, _ := bufio.NewReader(o.env.Stdin).ReadString('\n')
				return strings.TrimSpace(line) == name
			}
			res, err := lifecycle.Destroy(cmd.Context(), s.deps, s.cluster, confirm)
			if errors.Is(err, lifecycle.ErrNotConfirmed) {
				return err
			}
			if o.output == outputJSON && res != nil {
				if werr := writeJSON(cmd.OutOrStdout(), kindDestroy, newDestroyDoc(name, res, err)); werr != nil && err == nil {
					err = werr
				}
			} else if res != nil && err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Destroyed cluster %s: %d resources deleted, nothing left.\n", name, len(res.Deleted))
				for _, k := range res.Kept {
					fmt.Fprintf(cmd.OutOrStdout(), "  kept %s (delete it in the console if you no longer need it)\n", k)
				}
			}
			if o.debug {
				printStats(o.env.Stderr, s.client)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&lf.keepVolumes, "keep-volumes", false, "keep the cluster's volumes (and its volume claims, whose deletion would make the CSI driver delete them) and list them")
	addBreakLockFlag(cmd, &lf)
	return cmd
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

func newKubeconfigCommand(o *options) *cobra.Command {
	return newCredentialFileCommand(o, "kubeconfig", lifecycle.KubeconfigFile, "the cluster's admin kubeconfig",
		"  hcloud-k8s kubeconfig > ~/.kube/demo.yaml\n  hcloud-k8s kubeconfig --write ~/.kube/config-demo")
}

func newTalosconfigCommand(o *options) *cobra.Command {
	return newCredentialFileCommand(o, "talosconfig", lifecycle.TalosconfigFile, "the cluster's talosconfig (admin role)",
		"  hcloud-k8s talosconfig --write ~/.talos/config")
}

// newCredentialFileCommand prints or copies a credential file apply wrote to the
// state directory. Copies are written with mode 0600.
func newCredentialFileCommand(o *options, name, file, what, example string) *cobra.Command {
	var write string
	cmd := &cobra.Command{
		Use:   name,
		Short: "Print or write " + what,
		Long: "Print " + what + ", which apply wrote to the cluster's state directory, or\n" +
			"copy it to a file with --write (mode 0600). It holds credentials: treat it like a password.",
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := config.Load(o.file)
			if err != nil {
				return err
			}
			dir, err := o.clusterStateDir(c.Cluster.Name)
			if err != nil {
				return err
			}
			data, err := readStateFile(dir, file, c.Cluster.Name)
			if err != nil {
				return err
			}
			if write == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := lifecycle.WriteSecretFile(write, data); err != nil {
				return err
			}
			fmt.Fprintf(o.env.Stderr, "Wrote %s to %s (mode 0600).\n", name, write)
			return nil
		},
	}
	cmd.Flags().StringVar(&write, "write", "", "write to this file (mode 0600) instead of printing")
	return cmd
}

// applyDoc is apply's -o json document: the plan apply started from, and how
// it ended.
type applyDoc struct {
	planDoc
	// Complete is true when every step finished.
	Complete bool `json:"complete"`
	// InfrastructureOnly is true when apply stopped after the Hetzner resources
	// by request (--infrastructure-only).
	InfrastructureOnly bool `json:"infrastructureOnly"`
	// Addons is what apply did to each addon, in the order applied.
	Addons []install.Report `json:"addons"`
	// Error is the reason apply stopped; empty when it completed.
	Error string `json:"error,omitempty"`
}

// destroyDoc is destroy's -o json document.
type destroyDoc struct {
	Cluster string `json:"cluster"`
	// Complete is true when nothing labelled with the cluster is left.
	Complete bool     `json:"complete"`
	Deleted  []string `json:"deleted"`
	Left     []string `json:"left"`
	Kept     []string `json:"kept"`
	Error    string   `json:"error,omitempty"`
}

func newDestroyDoc(cluster string, res *lifecycle.DestroyResult, err error) destroyDoc {
	doc := destroyDoc{
		Cluster: cluster, Complete: err == nil && len(res.Left) == 0,
		Deleted: orEmpty(res.Deleted), Left: orEmpty(res.Left), Kept: orEmpty(res.Kept),
	}
	if err != nil {
		doc.Error = err.Error()
	}
	return doc
}
