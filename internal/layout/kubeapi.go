package layout

import (
	"net"
	"net/netip"
	"strconv"
)

// Ports of the Kubernetes and Talos APIs (talos.tf) and KubePrism.
const (
	KubeAPIPort   = 6443
	TalosAPIPort  = 50000
	KubePrismHost = "127.0.0.1"
	KubePrismPort = 7445
)

// KubeAPIPrivateIPv4 is the module's kube_api_private_ipv4, the address the
// nodes use for the Kubernetes API (the cluster endpoint in machine configs):
// the kube-API load balancer's private IP if that load balancer is enabled,
// else the private control-plane VIP if enabled, else the primary control
// plane's private IP.
func (n Network) KubeAPIPrivateIPv4(loadBalancerEnabled, privateVIPEnabled bool, primaryPrivateIPv4 netip.Addr) netip.Addr {
	switch {
	case loadBalancerEnabled:
		return n.KubeAPILoadBalancerIP
	case privateVIPEnabled:
		return n.ControlPlaneVIP
	default:
		return primaryPrivateIPv4
	}
}

// KubeAPIHostInput holds what decides the external Kubernetes API host. A
// zero Addr or an empty string means "not set / not present".
type KubeAPIHostInput struct {
	Hostname      string     // kube_api_hostname
	PrivateAccess bool       // cluster_access == "private"
	PrivateIPv4   netip.Addr // kube_api_private_ipv4 (Network.KubeAPIPrivateIPv4)

	// LoadBalancerPublic is true when the kube-API load balancer exists and
	// has its public interface enabled.
	LoadBalancerPublic     bool
	LoadBalancerPublicIPv4 netip.Addr
	LoadBalancerPublicIPv6 netip.Addr

	// PublicVIP is the control plane's public floating IP; zero when the
	// public VIP is not enabled.
	PublicVIP netip.Addr

	PrimaryPublicIPv4 netip.Addr // primary control plane (PrimaryServerName)
	PrimaryPublicIPv6 netip.Addr
}

// KubeAPIHost is the module's kube_api_host, the host of the external API
// URL written into the kubeconfig (talos.tf): the first that is set of
// kube_api_hostname; the private API IP under private access; the public IPv4
// (else IPv6) of a public kube-API load balancer; the public VIP; the primary
// control plane's public IPv4, else IPv6. It is "" when none is known yet.
func KubeAPIHost(in KubeAPIHostInput) string {
	if in.Hostname != "" {
		return in.Hostname
	}
	var candidates []netip.Addr
	if in.PrivateAccess {
		candidates = append(candidates, in.PrivateIPv4)
	}
	if in.LoadBalancerPublic {
		candidates = append(candidates, in.LoadBalancerPublicIPv4, in.LoadBalancerPublicIPv6)
	}
	candidates = append(candidates, in.PublicVIP, in.PrimaryPublicIPv4, in.PrimaryPublicIPv6)
	for _, a := range candidates {
		if a.IsValid() {
			return a.String()
		}
	}
	return ""
}

// KubeAPIURL is https://<host>:6443. An IPv6 host is bracketed.
func KubeAPIURL(host string) string {
	return "https://" + net.JoinHostPort(host, strconv.Itoa(KubeAPIPort))
}
