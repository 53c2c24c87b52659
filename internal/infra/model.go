// Package infra plans and applies the Hetzner Cloud side of a cluster: network and
// subnets, firewall, SSH key, placement groups, servers, load balancers, floating IP
// and reverse DNS, named and labelled exactly as terraform-hcloud-kubernetes does.
//
// It is split the way design.md §2 asks: Desire (spec → desired resources) and Diff
// (desired + observed → plan) are pure and hold most of the logic and tests; Observe
// reads the cloud with one label-selector list call per kind; Apply executes a plan.
package infra

import (
	"fmt"
	"net/netip"
)

// Kind is a kind of Hetzner resource.
type Kind string

// Kinds, in the order a plan lists them.
const (
	KindNetwork        Kind = "network"
	KindSubnet         Kind = "subnet"
	KindFirewall       Kind = "firewall"
	KindSSHKey         Kind = "ssh_key"
	KindPlacementGroup Kind = "placement_group"
	KindServer         Kind = "server"
	KindLoadBalancer   Kind = "load_balancer"
	KindFloatingIP     Kind = "floating_ip"
	KindCertificate    Kind = "certificate"
	KindVolume         Kind = "volume" // never desired; deleted by destroy
)

// kindOrder ranks kinds so that creation follows dependencies.
var kindOrder = map[Kind]int{
	KindNetwork: 0, KindSubnet: 1, KindFirewall: 2, KindSSHKey: 3, KindPlacementGroup: 4,
	KindServer: 5, KindLoadBalancer: 6, KindFloatingIP: 7, KindVolume: 8, KindCertificate: 9,
}

// Ref identifies a resource within one cluster: kind and name (a subnet's name is its
// IP range, since Hetzner subnets have no names).
type Ref struct {
	Kind Kind
	Name string
}

func (r Ref) String() string { return string(r.Kind) + "/" + r.Name }

// Resource is one Hetzner resource, desired or observed. Exactly one of the spec
// pointers matching Kind is set.
type Resource struct {
	Kind   Kind
	Name   string
	Labels map[string]string

	// External resources (an existing network or firewall named by ID in the
	// cluster file) are used but never created, changed or deleted.
	External bool

	// Observed only.
	ID        int64
	Protected bool // delete protection is on

	Network        *NetworkSpec        `json:",omitempty"`
	Subnet         *SubnetSpec         `json:",omitempty"`
	Firewall       *FirewallSpec       `json:",omitempty"`
	SSHKey         *SSHKeySpec         `json:",omitempty"`
	PlacementGroup *PlacementGroupSpec `json:",omitempty"`
	Server         *ServerSpec         `json:",omitempty"`
	LoadBalancer   *LoadBalancerSpec   `json:",omitempty"`
	FloatingIP     *FloatingIPSpec     `json:",omitempty"`
	Certificate    *CertificateSpec    `json:",omitempty"`
	Volume         *VolumeSpec         `json:",omitempty"`
}

// Ref returns the resource's identity.
func (r *Resource) Ref() Ref { return Ref{r.Kind, r.Name} }

// NetworkSpec is the cluster's private network.
type NetworkSpec struct {
	IPRange               netip.Prefix
	ExposeRoutesToVSwitch bool
	DeleteProtection      bool
}

// SubnetSpec is a cloud subnet of the network.
type SubnetSpec struct {
	Network     string // network name
	IPRange     netip.Prefix
	NetworkZone string
	Purpose     string // control-plane, load-balancer, worker-shared, ... (for plan output)
}

// FirewallSpec is the cluster firewall.
type FirewallSpec struct {
	Rules []FirewallRule
}

// FirewallRule is one rule in Hetzner's terms.
type FirewallRule struct {
	Description    string
	Direction      string // in, out
	Protocol       string // tcp, udp, icmp, gre, esp
	Port           string // "" for protocols without ports
	SourceIPs      []string
	DestinationIPs []string
}

// SSHKeySpec is the cluster's SSH key. Talos runs no SSH server, but Hetzner mails a
// root password for servers created without a key; the module sets one for that.
// PublicKey is empty in the desired state: any key of this name and labels will do,
// and a fresh ED25519 key is generated when it is missing.
type SSHKeySpec struct {
	PublicKey string
}

// PlacementGroupSpec is a spread placement group (at most 10 servers).
type PlacementGroupSpec struct {
	Type string // spread
}

// ServerSpec is a control-plane or worker server.
type ServerSpec struct {
	Role               string // control-plane or worker
	Pool               string
	Index              int // 1-based index within the pool
	Type               string
	Location           string
	Arch               string // amd64 or arm64: which Talos snapshot to boot
	PlacementGroup     string // placement group name; "" for none
	Subnet             netip.Prefix
	PrivateIP          netip.Addr // pinned address; invalid for "assigned by Hetzner"
	Firewall           string     // firewall name, or "" when ExternalFirewallID is used
	ExternalFirewallID int64
	SSHKey             string
	PublicIPv4         bool
	PublicIPv6         bool
	Backups            bool
	DeleteProtection   bool
	RDNSIPv4           string // reverse DNS template; "" for none
	RDNSIPv6           string

	// Observed only.
	ActualPrivateIP netip.Addr
	Image           int64
	PublicIPv4Addr  netip.Addr
	PublicIPv6Addr  netip.Addr            // the ::1 address of the server's /64
	PTR             map[netip.Addr]string // reverse DNS per public address
	Status          string
}

// LoadBalancerSpec is the kube-API or an ingress load balancer.
type LoadBalancerSpec struct {
	Role             string // kube-api or ingress
	Pool             string // ingress pool name; "" otherwise
	Type             string
	Location         string
	Algorithm        string
	Network          string
	Subnet           netip.Prefix // the load-balancer subnet PrivateIP lies in
	PrivateIP        netip.Addr
	PublicInterface  bool
	DeleteProtection bool
	// ServicesManagedByCCM marks the single ingress LB, whose services and targets
	// the Hetzner CCM owns (the module ignores them); they are never diffed.
	ServicesManagedByCCM bool
	Services             []LBService
	Targets              []LBTarget
	RDNSIPv4             string
	RDNSIPv6             string

	// Observed only.
	PublicIPv4Addr netip.Addr
	PublicIPv6Addr netip.Addr
	PTR            map[netip.Addr]string
}

// LBService is one listener of a load balancer.
type LBService struct {
	Protocol        string // tcp
	ListenPort      int
	DestinationPort int
	ProxyProtocol   bool
	HealthCheck     LBHealthCheck
}

// LBHealthCheck is a service's health check.
type LBHealthCheck struct {
	Protocol string // tcp or http
	Port     int
	Interval int // seconds
	Timeout  int
	Retries  int
	HTTP     *LBHealthCheckHTTP `json:",omitempty"`
}

// LBHealthCheckHTTP is the HTTP part of a health check.
type LBHealthCheckHTTP struct {
	Path        string
	Response    string
	TLS         bool
	StatusCodes []string
}

// LBTarget is a label-selector target.
type LBTarget struct {
	LabelSelector string
	UsePrivateIP  bool
}

// FloatingIPSpec is the control plane's public VIP.
type FloatingIPSpec struct {
	HomeLocation     string
	Description      string
	DeleteProtection bool
	// Observed only.
	IP netip.Addr
}

// CertificateSpec is the <cluster>-state marker, uploaded once the cluster has been
// bootstrapped; its presence means "initialized".
type CertificateSpec struct{}

// VolumeSpec is a volume labelled with the cluster (for example by the CSI driver's
// extra labels); only destroy touches volumes.
type VolumeSpec struct {
	Server int64 // attached server, 0 if none
}

// String is a short description for plan output.
func (r *Resource) String() string {
	switch {
	case r.Subnet != nil:
		return fmt.Sprintf("subnet %s (%s)", r.Name, r.Subnet.Purpose)
	default:
		return r.Kind.Title() + " " + r.Name
	}
}

// Title is the kind as people write it: "SSH key", "load balancer".
func (k Kind) Title() string {
	if t, ok := kindTitle[k]; ok {
		return t
	}
	return string(k)
}

var kindTitle = map[Kind]string{
	KindNetwork: "network", KindSubnet: "subnet", KindFirewall: "firewall", KindSSHKey: "SSH key",
	KindPlacementGroup: "placement group", KindServer: "server", KindLoadBalancer: "load balancer",
	KindFloatingIP: "floating IP", KindCertificate: "certificate", KindVolume: "volume",
}
