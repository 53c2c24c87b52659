package lifecycle

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/formation"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
)

// File names in the state directory.
const (
	TalosconfigFile = "talosconfig"
	KubeconfigFile  = "kubeconfig"
)

// form turns the servers into a Kubernetes cluster and marks it initialized.
// observed is what the plan saw when apply changed nothing; nil means the cloud
// changed and is read again (new servers have new addresses).
func form(ctx context.Context, d Deps, c *config.Cluster, initialized bool, observed *infra.State) error {
	w := d.progress()
	if d.StateDir == "" {
		return errors.New("no state directory for the cluster's secrets")
	}
	if observed == nil {
		d.Client.SetPhase("observe")
		var err error
		if observed, err = infra.Observe(ctx, d.Client, c); err != nil {
			return err
		}
	}
	nodes, in := formationInputs(c, observed)
	if len(nodes) == 0 {
		return errors.New("no servers to form a cluster with")
	}
	bundle, created, err := talos.EnsureSecrets(d.StateDir, c.Cluster.Name, c.Talos.Version, initialized)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(w, "Created the cluster's Talos secrets in %s (keep them: they cannot be recreated).\n", talos.SecretsPath(d.StateDir))
	}
	in.Cluster, in.Nodes, in.Secrets, in.HCloudToken = c, nodes, bundle, d.Token
	in.Progress, in.PollInterval, in.Timeout = w, d.TalosPollInterval, d.TalosTimeout
	fmt.Fprintf(w, "Forming the Kubernetes cluster on %d nodes...\n", len(nodes))
	res, err := formation.Form(ctx, in)
	if err != nil {
		return fmt.Errorf("form the cluster (run apply again to continue): %w", err)
	}
	files := map[string][]byte{
		filepath.Join(d.StateDir, TalosconfigFile): res.Talosconfig,
		filepath.Join(d.StateDir, KubeconfigFile):  res.Kubeconfig,
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
	if !initialized {
		d.Client.SetPhase("apply")
		if err := createStateMarker(ctx, d.Client, c.Cluster.Name); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "Cluster %s is up: %d nodes Ready. kubeconfig and talosconfig are in %s.\n", c.Cluster.Name, len(nodes), d.StateDir)
	return nil
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
	var primary *formation.Node
	for i := range nodes {
		if nodes[i].Role == talos.RoleControlPlane && (primary == nil || nodes[i].Name < primary.Name) {
			primary = &nodes[i]
		}
	}
	if primary != nil {
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

// createStateMarker uploads <cluster>-state, the module's "initialized" marker: a
// self-signed certificate whose presence tells later runs (and the Terraform
// module) that the cluster was bootstrapped.
func createStateMarker(ctx context.Context, client *hetzner.Client, cluster string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("state marker key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cluster},
		NotBefore: now, NotAfter: now.Add(876600 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("state marker certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	name := layout.StateCertificateName(cluster)
	err = client.Retry(ctx, "create state marker "+name, func(ctx context.Context) error {
		_, _, err := client.API().Certificate.Create(ctx, hcloud.CertificateCreateOpts{
			Name: name, Type: hcloud.CertificateTypeUploaded, Certificate: string(certPEM), PrivateKey: string(keyPEM),
			Labels: layout.StateCertificateLabels(cluster),
		})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return nil // an earlier run created it just before dying
	}
	return err
}
