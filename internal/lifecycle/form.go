package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/formation"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/procedure"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
)

// File names in the state directory.
const (
	TalosconfigFile = "talosconfig"
	KubeconfigFile  = "kubeconfig"
)

// clusterSteps turn the servers into a Kubernetes cluster and mark it
// initialized: formation's steps, with the addons between the API coming up
// and the nodes becoming Ready (the nodes need the CNI and the cloud
// controller manager) and after it (the rest needs Ready nodes). The
// credentials are saved as soon as the API answers, so that an apply that
// stops at the addons or the nodes leaves a kubeconfig to look with.
func clusterSteps() []procedure.Step[applyState] {
	steps := []procedure.Step[applyState]{{Name: "prepare formation", Run: prepareFormation}}
	steps = append(steps, formationSteps(formation.APISteps())...)
	steps = append(steps,
		procedure.Step[applyState]{Name: "save credentials", Run: saveCredentials},
		procedure.Step[applyState]{Name: "install addons", Run: installAddons})
	steps = append(steps, formationSteps(formation.ReadySteps())...)
	return append(steps,
		procedure.Step[applyState]{Name: "install remaining addons", Run: installRemainingAddons},
		procedure.Step[applyState]{Name: "state marker", Run: markInitialized},
	)
}

// formationSteps are formation's steps on apply's state. Each is idempotent,
// so a formation stopped anywhere continues when apply runs again.
func formationSteps(steps []procedure.Step[formation.State]) []procedure.Step[applyState] {
	return procedure.Lift(steps, func(s *applyState) *formation.State { return s.formation })
}

// prepareFormation gathers what formation needs: the servers with their
// addresses (read again when the infrastructure changed, as new servers have
// new addresses) and the cluster's Talos secrets.
func prepareFormation(ctx context.Context, s *applyState) error {
	d, c := s.d, s.c
	if d.StateDir == "" {
		return errors.New("no state directory for the cluster's secrets")
	}
	observed := s.observed
	if observed == nil {
		d.Client.SetPhase("observe")
		var err error
		if observed, err = infra.Observe(ctx, d.Client, c); err != nil {
			return err
		}
		s.observed = observed
	}
	nodes, in := formationInputs(c, observed)
	if len(nodes) == 0 {
		return errors.New("no servers to form a cluster with")
	}
	bundle, created, err := talos.EnsureSecrets(d.StateDir, c.Cluster.Name, c.Talos.Version, s.res.Plan.Initialized)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(s.w, "Created the cluster's Talos secrets in %s (keep them: they cannot be recreated).\n", talos.SecretsPath(d.StateDir))
	}
	in.Cluster, in.Nodes, in.Secrets, in.HCloudToken = c, nodes, bundle, d.Token
	in.Progress, in.PollInterval, in.Timeout, in.Clock = s.w, d.TalosPollInterval, d.TalosTimeout, d.Clock
	fmt.Fprintf(s.w, "Forming the Kubernetes cluster on %d nodes...\n", len(nodes))
	s.formation, s.nodes = formation.NewState(in), len(nodes)
	return nil
}

// saveCredentials writes the talosconfig and kubeconfig to the state directory
// and to the extra paths the cluster file names.
func saveCredentials(_ context.Context, s *applyState) error {
	res, c := s.formation.Result, s.c
	files := map[string][]byte{
		filepath.Join(s.d.StateDir, TalosconfigFile): res.Talosconfig,
		filepath.Join(s.d.StateDir, KubeconfigFile):  res.Kubeconfig,
	}
	if p := c.Cluster.TalosconfigPath; p != "" {
		files[p] = res.Talosconfig
	}
	if p := c.Cluster.KubeconfigPath; p != "" {
		files[p] = res.Kubeconfig
	}
	for path, data := range files {
		if err := WriteSecretFile(path, data); err != nil {
			return err
		}
	}
	return nil
}

// markInitialized creates the <cluster>-state marker once the cluster is
// formed, unless the plan found it.
func markInitialized(ctx context.Context, s *applyState) error {
	if s.res.Plan.Initialized {
		return nil
	}
	s.d.Client.SetPhase("apply")
	return infra.MarkInitialized(ctx, s.d.Client, s.c.Cluster.Name, s.d.Clock.Now())
}

// formationInputs lists the cluster's servers with their roles and addresses, and
// the addresses the kubeconfig and certificates need.
func formationInputs(c *config.Cluster, observed *infra.State) ([]formation.Node, formation.Inputs) {
	var nodes []formation.Node
	var in formation.Inputs
	for _, r := range observed.Sorted() {
		switch {
		case r.Server != nil && (r.Server.Role == layout.RoleControlPlane || r.Server.Role == layout.RoleWorker):
			role := talos.RoleWorker
			if r.Server.Role == layout.RoleControlPlane {
				role = talos.RoleControlPlane
			}
			nodes = append(nodes, formation.Node{
				Name: r.Name, ID: r.ID, Role: role, Pool: r.Server.Pool,
				PublicIPv4: r.Server.PublicIPv4Addr, PublicIPv6: r.Server.PublicIPv6Addr, PrivateIPv4: r.Server.ActualPrivateIP,
			})
		case r.LoadBalancer != nil && r.LoadBalancer.Role == layout.RoleKubeAPI && r.LoadBalancer.PublicInterface:
			in.KubeAPILoadBalancerPublicIPv4 = r.LoadBalancer.PublicIPv4Addr
		case r.FloatingIP != nil && r.Name == layout.FloatingIPName(c.Cluster.Name):
			in.PublicVIPIPv4 = r.FloatingIP.IP
		}
	}
	host := layout.KubeAPIHostInput{
		Hostname: c.KubeAPI.Hostname, PrivateAccess: c.Cluster.Access == "private",
		LoadBalancerPublic: in.KubeAPILoadBalancerPublicIPv4.IsValid(), LoadBalancerPublicIPv4: in.KubeAPILoadBalancerPublicIPv4,
	}
	if c.PublicVIPEnabled() {
		host.PublicVIP = in.PublicVIPIPv4
	}
	if primary, ok := formation.Primary(nodes); ok {
		host.PrimaryPublicIPv4, host.PrimaryPublicIPv6 = primary.PublicIPv4, primary.PublicIPv6
		if l, err := c.Layout(); err == nil {
			host.PrivateIPv4 = l.KubeAPIPrivateIPv4(c.KubeAPI.LoadBalancer.Enabled, c.ControlPlane.PrivateVIPIPv4Enabled, primary.PrivateIPv4)
		}
	}
	in.KubeAPIURL = layout.KubeAPIURL(layout.KubeAPIHost(host))
	return nodes, in
}

// WriteSecretFile writes credentials with mode 0600 (directory 0700), replacing
// the file atomically so a reader never sees half of it, and so an existing file
// with looser permissions does not keep them.
func WriteSecretFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
