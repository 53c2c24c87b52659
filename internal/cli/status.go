package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clusterstatus"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
)

func newStatusCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's nodes, etcd members and addons",
		Long: `Show what the running cluster looks like, read through the kubeconfig and
talosconfig that apply wrote to the state directory (no Hetzner token needed,
nothing is changed):

  nodes    role, kubelet and Talos version, Ready (or why not), whether the
           cloud controller manager initialised it, addresses
  etcd     the members, read through the Talos API of the control planes
  addons   for each addon of the cluster file: switched on, the chart it pins,
           the version last applied, and whether every object it applied is
           ready (Deployments available, DaemonSets rolled out, ...), naming
           the ones that are not

status exits 1 when anything is not healthy, so scripts can wait on it.`,
		Example: "  hcloud-k8s status\n  hcloud-k8s status -o json | jq '.addons[] | select(.healthy | not)'",
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
			in := clusterstatus.Inputs{Cluster: c}
			if in.Kubeconfig, err = readStateFile(dir, lifecycle.KubeconfigFile, c.Cluster.Name); err != nil {
				return err
			}
			if in.Talosconfig, err = readStateFile(dir, lifecycle.TalosconfigFile, c.Cluster.Name); err != nil {
				return err
			}
			r, err := clusterstatus.Read(cmd.Context(), in)
			if err != nil {
				return fmt.Errorf("status of cluster %s: %w", c.Cluster.Name, err)
			}
			if o.output == outputJSON {
				doc := struct {
					*clusterstatus.Report
					Healthy bool `json:"healthy"`
				}{r, r.Healthy()}
				if err := writeJSON(cmd.OutOrStdout(), kindStatus, doc); err != nil {
					return err
				}
			} else {
				printStatus(cmd.OutOrStdout(), r)
			}
			if !r.Healthy() {
				return errors.New("the cluster is not healthy (see above)")
			}
			return nil
		},
	}
}

// readStateFile reads a file apply wrote to the cluster's state directory,
// saying what to do when there is none.
func readStateFile(dir, name, cluster string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no %s for cluster %s in %s: run `hcloud-k8s apply` first (or pass the --state-dir it used)", name, cluster, dir)
	}
	return data, err
}

func printStatus(w io.Writer, r *clusterstatus.Report) {
	fmt.Fprintf(w, "Cluster %s\n\nNodes:\n", r.Cluster)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tROLE\tREADY\tKUBELET\tTALOS\tINTERNAL-IP\tEXTERNAL-IP")
	for _, n := range r.Nodes {
		ready := "Ready"
		switch {
		case !n.Ready:
			ready = "NotReady (" + n.Reason + ")"
		case !n.Initialized:
			ready = "Ready, uninitialised"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Role, ready, n.KubeletVersion, dash(n.TalosVersion), dash(n.InternalIP), dash(n.ExternalIP))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nEtcd members:")
	if r.EtcdError != "" {
		fmt.Fprintf(w, "  could not be read: %s\n", r.EtcdError)
	}
	for _, m := range r.Etcd {
		learner := ""
		if m.Learner {
			learner = " (learner)"
		}
		fmt.Fprintf(w, "  %s  %s%s\n", m.Name, m.ID, learner)
	}
	fmt.Fprintln(w, "\nAddons:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tCHART\tAPPLIED\tSTATE")
	for _, a := range r.Addons {
		state := "healthy"
		switch {
		case !a.Enabled && a.Objects == 0:
			state = "off"
		case !a.Enabled:
			state = "off, still in the cluster (apply removes it)"
		case !a.Healthy:
			state = "not ready: " + strings.Join(a.NotReady, ", ")
		}
		applied := "-"
		if a.Applied {
			applied = dash(a.AppliedVersion)
			if a.AppliedVersion == "" {
				applied = "yes"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Name, dash(a.Chart), applied, state)
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
