package talos

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Role is the kind of node a machine configuration is generated for.
type Role string

// Roles. Autoscaler configs are per pool, not per server: the cluster
// autoscaler creates the servers, so there is no server name or ID.
const (
	RoleControlPlane Role = "control-plane"
	RoleWorker       Role = "worker"
	RoleAutoscaler   Role = "autoscaler"
)

// ControlPlaneNode is what the cloud knows about one control-plane server.
// A zero address means the server has no such address (e.g. no public IPv4
// when talos.publicIPv4Enabled is false).
type ControlPlaneNode struct {
	Name        string     // Hetzner server name, e.g. demo-control-1
	PrivateIPv4 netip.Addr // IP in the control-plane subnet (assigned by Hetzner)
	PublicIPv4  netip.Addr
	PublicIPv6  netip.Addr // the server's address (<network>::1), not the /64
}

// ClusterInputs are the cloud facts every node's configuration depends on.
// They are the same for all nodes of a cluster, so a caller builds them once.
type ClusterInputs struct {
	// Secrets is the cluster's machine secrets bundle (EnsureSecrets).
	Secrets *secrets.Bundle

	// HCloudToken goes into the HCloudVIPConfig documents (apiToken) of
	// control planes, which let Talos move the VIPs. It is a secret.
	HCloudToken string

	// ControlPlanes lists every control-plane server (in any order). Their
	// IPs become certificate SANs, and the primary one (smallest name) is the
	// Kubernetes API endpoint when neither the kube-API load balancer nor the
	// private VIP is enabled.
	ControlPlanes []ControlPlaneNode

	// KubeAPILoadBalancerPublicIPv4/IPv6 are the public IPs of the
	// <cluster>-kube-api load balancer; zero when it does not exist or has no
	// public interface. Its private IP follows from the layout.
	KubeAPILoadBalancerPublicIPv4 netip.Addr
	KubeAPILoadBalancerPublicIPv6 netip.Addr

	// PublicVIPIPv4 is the address of the control planes' floating IP; it is
	// used only when the cluster file enables the public VIP.
	PublicVIPIPv4 netip.Addr

	// InlineManifests is the complete, ordered cluster.inlineManifests list of
	// control planes (the module's order, docs/terraform-parity.md "Addons":
	// hcloud secret, Cilium, CCMs, ... then the user's extraInlineManifests,
	// then RBAC/OIDC). Nil means only talos.extraInlineManifests: rendering the
	// addons is not done here.
	InlineManifests []config.InlineManifest
}

// NodeInputs is everything Generate needs besides the cluster file.
type NodeInputs struct {
	ClusterInputs

	Role Role
	// Pool is the name of the node pool (controlPlaneNodepools,
	// workerNodepools or autoscalerNodepools, according to Role).
	Pool string
	// ServerName is the Hetzner server name, used as the static hostname.
	// Empty for RoleAutoscaler.
	ServerName string
	// ServerID is the Hetzner server ID, the value of the nodeid node label
	// (a replaced server gets a new ID, so its configuration changes and is
	// re-applied). Zero for RoleAutoscaler.
	ServerID int64
}

// primary returns the primary control plane: the one with the smallest
// server name (talos.tf: sort(keys(hcloud_server.control_plane))[0]).
func primary(cps []ControlPlaneNode) (ControlPlaneNode, bool) {
	return layout.Primary(cps, func(cp ControlPlaneNode) string { return cp.Name })
}

// sortedControlPlanes returns the control planes ordered by server name, the
// order of the module's per-server lists (hcloud_server.control_plane is a
// map keyed by name).
func sortedControlPlanes(cps []ControlPlaneNode) []ControlPlaneNode {
	out := slices.Clone(cps)
	slices.SortFunc(out, func(a, b ControlPlaneNode) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// check reports inputs that would produce a broken configuration. Messages
// never include the token or secret material.
func (in NodeInputs) check(c *config.Cluster) error {
	var errs []error
	if in.Secrets == nil {
		errs = append(errs, errors.New("no secrets bundle"))
	}
	switch in.Role {
	case RoleControlPlane, RoleWorker:
		if in.ServerName == "" {
			errs = append(errs, fmt.Errorf("%s node needs a server name", in.Role))
		}
		if in.ServerID <= 0 {
			errs = append(errs, fmt.Errorf("%s node %q needs its Hetzner server ID (nodeid label)", in.Role, in.ServerName))
		}
	case RoleAutoscaler:
		if in.ServerName != "" || in.ServerID != 0 {
			errs = append(errs, errors.New("autoscaler configurations are per pool: leave server name and ID empty"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown node role %q", in.Role))
	}
	if _, ok := poolOf(c, in.Role, in.Pool); !ok && in.Role != "" {
		errs = append(errs, fmt.Errorf("no %s pool named %q in the cluster file", in.Role, in.Pool))
	}
	if len(in.ControlPlanes) == 0 {
		errs = append(errs, errors.New("no control-plane servers known: their IPs are needed for the API endpoint and certificate SANs"))
	}
	for _, cp := range in.ControlPlanes {
		if cp.Name == "" || !cp.PrivateIPv4.Is4() {
			errs = append(errs, fmt.Errorf("control plane %q has no private IPv4", cp.Name))
		}
	}
	if in.Role == RoleControlPlane && in.HCloudToken == "" && (c.ControlPlane.PrivateVIPIPv4Enabled || c.PublicVIPEnabled()) {
		errs = append(errs, errors.New("control-plane VIPs need the Hetzner Cloud API token (HCloudVIPConfig.apiToken)"))
	}
	if in.Role == RoleControlPlane && c.PublicVIPEnabled() && !in.PublicVIPIPv4.Is4() {
		errs = append(errs, errors.New("the public VIP is enabled but its floating IP address is not known"))
	}
	return errors.Join(errs...)
}

// pool is the part of a node pool the machine configuration uses.
type pool struct {
	name        string
	labels      map[string]string
	annotations map[string]string
	taints      []string
}

func poolOf(c *config.Cluster, r Role, name string) (pool, bool) {
	var np *config.Nodepool
	switch r {
	case RoleControlPlane:
		for i := range c.ControlPlaneNodepools {
			if c.ControlPlaneNodepools[i].Name == name {
				np = &c.ControlPlaneNodepools[i].Nodepool
			}
		}
	case RoleWorker:
		for i := range c.WorkerNodepools {
			if c.WorkerNodepools[i].Name == name {
				np = &c.WorkerNodepools[i].Nodepool
			}
		}
	case RoleAutoscaler:
		for i := range c.AutoscalerNodepools {
			if c.AutoscalerNodepools[i].Name == name {
				np = &c.AutoscalerNodepools[i].Nodepool
			}
		}
	}
	if np == nil {
		return pool{}, false
	}
	return pool{name: np.Name, labels: np.Labels, annotations: np.Annotations, taints: np.Taints}, true
}
