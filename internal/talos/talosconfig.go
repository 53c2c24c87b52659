package talos

import (
	"errors"
	"fmt"
	"time"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/role"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// TalosconfigEndpoints are the talosconfig endpoints (docs/terraform-parity.md,
// "Fixed private addresses"): the
// control planes' private IPs under private access, else their public IPv4s
// followed by their public IPv6s, each list in server-name order.
func TalosconfigEndpoints(c *config.Cluster, cps []ControlPlaneNode) []string {
	var out []string
	sorted := sortedControlPlanes(cps)
	if c.Cluster.Access == "private" {
		for _, cp := range sorted {
			if cp.PrivateIPv4.IsValid() {
				out = append(out, cp.PrivateIPv4.String())
			}
		}
		return out
	}
	for _, cp := range sorted {
		if cp.PublicIPv4.IsValid() {
			out = append(out, cp.PublicIPv4.String())
		}
	}
	for _, cp := range sorted {
		if cp.PublicIPv6.IsValid() {
			out = append(out, cp.PublicIPv6.String())
		}
	}
	return out
}

// Talosconfig builds the client configuration of the cluster: one context
// named after the cluster, the control planes as endpoints, the primary
// control plane's private IP as node, and a fresh os:admin client
// certificate (valid one year, like talosctl's) issued by the bundle's OS CA.
// The result holds a private key: write it with mode 0600 (Marshal).
func Talosconfig(c *config.Cluster, b *secrets.Bundle, cps []ControlPlaneNode) (*clientconfig.Config, error) {
	if b == nil || b.Certs == nil || b.Certs.OS == nil {
		return nil, errors.New("talosconfig: secrets bundle has no Talos OS CA")
	}
	endpoints := TalosconfigEndpoints(c, cps)
	if len(endpoints) == 0 {
		return nil, errors.New("talosconfig: no control-plane address to use as endpoint (private access needs private IPs, public access public IPs)")
	}
	p, ok := primary(cps)
	if !ok || !p.PrivateIPv4.IsValid() {
		return nil, errors.New("talosconfig: the primary control plane has no private IPv4")
	}
	if b.Clock == nil {
		b.Clock = secrets.NewFixedClock(time.Now())
	}
	cert, err := b.GenerateTalosAPIClientCertificate(role.MakeSet(role.Admin))
	if err != nil {
		return nil, fmt.Errorf("talosconfig: issue client certificate: %w", err)
	}
	cfg := clientconfig.NewConfig(c.Cluster.Name, endpoints, b.Certs.OS.Crt, cert)
	cfg.Contexts[c.Cluster.Name].Nodes = []string{p.PrivateIPv4.String()}
	return cfg, nil
}

// Marshal encodes a talosconfig as talosctl writes it.
func Marshal(cfg *clientconfig.Config) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New("no talosconfig")
	}
	b, err := cfg.Bytes()
	if err != nil {
		return nil, errors.New("encode talosconfig failed") // never echo content
	}
	return b, nil
}
