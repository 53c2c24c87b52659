package lifecycle

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/install"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// DefaultAddonTimeout bounds the wait for one phase's addons to be ready.
const DefaultAddonTimeout = 10 * time.Minute

// installAddons renders every addon (so a chart that cannot be fetched or a
// value its schema refuses stops apply before anything is applied), then
// applies the ones the nodes need to become Ready and initialised: the hcloud
// Secret, Cilium and the cloud controller managers.
func installAddons(ctx context.Context, s *applyState) error {
	in, err := addonInputs(s)
	if err != nil {
		return err
	}
	mirror := charts.MirrorFrom(s.c.Addons.ChartMirror, func(string) string { return s.d.ChartMirror })
	f, err := charts.NewFetcher(charts.Options{CacheDir: s.d.ChartCacheDir, Mirror: mirror})
	if err != nil {
		return err
	}
	fmt.Fprintln(s.w, "Rendering the addons...")
	plan, err := install.Prepare(ctx, install.Options{Cluster: s.c, Inputs: in, Fetcher: f, Progress: s.w})
	if err != nil {
		return err
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(s.formation.Result.Kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	rc.UserAgent = "hcloud-k8s"
	if s.applier, err = kubeapply.New(rc, kubeapply.Options{}); err != nil {
		return err
	}
	s.addons = plan
	fmt.Fprintln(s.w, "Installing the addons the nodes need (CNI, cloud controller managers)...")
	return s.applyAddons(ctx, addons.PhaseEarly)
}

// installRemainingAddons applies the addons that need Ready nodes to run on.
func installRemainingAddons(ctx context.Context, s *applyState) error {
	fmt.Fprintln(s.w, "Installing the remaining addons...")
	return s.applyAddons(ctx, addons.PhaseLate)
}

func (s *applyState) applyAddons(ctx context.Context, phase addons.Phase) error {
	timeout := s.d.AddonTimeout
	if timeout <= 0 {
		timeout = DefaultAddonTimeout
	}
	reports, err := s.addons.Apply(ctx, s.applier, phase, install.WaitOptions{Timeout: timeout})
	s.res.Addons = append(s.res.Addons, reports...)
	return err
}

// addonInputs gathers what the addons need besides the cluster file: the
// Hetzner IDs of the cluster's network, firewall and SSH key, the token, the
// Talos snapshots' selectors, the autoscaler pools' Talos configurations and
// the generated secrets kept in the state directory.
func addonInputs(s *applyState) (addons.Inputs, error) {
	c := s.c
	in := addons.Inputs{HCloudToken: s.d.Token}
	for _, r := range s.observed.Sorted() {
		switch r.Kind {
		case infra.KindNetwork:
			in.NetworkID = r.ID
		case infra.KindFirewall:
			in.FirewallID = r.ID
		case infra.KindSSHKey:
			if r.Name == layout.SSHKeyName(c.Cluster.Name) {
				in.SSHKeyID = r.ID
			}
		}
	}
	schematic := image.SchematicID(c)
	in.ImageSelectors.AMD64 = snapshotSelector(c.Cluster.Name, c.Images.AMD64.Selector, c.Talos.Version, schematic)
	in.ImageSelectors.ARM64 = snapshotSelector(c.Cluster.Name, c.Images.ARM64.Selector, c.Talos.Version, schematic)
	if c.Addons.ClusterAutoscaler.Enabled && len(c.AutoscalerNodepools) > 0 {
		cfgs, err := s.formation.AutoscalerConfigs()
		if err != nil {
			return in, err
		}
		in.AutoscalerWorkerConfigs = cfgs
	}
	if err := install.EnsureSecrets(s.d.StateDir, c, &in); err != nil {
		return in, err
	}
	return in, nil
}

func snapshotSelector(cluster, mode, talosVersion, schematic string) string {
	if mode == "latest" {
		return layout.LatestSnapshotSelector(cluster)
	}
	return layout.SnapshotSelector(cluster, talosVersion, schematic)
}
