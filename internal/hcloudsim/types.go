package hcloudsim

import (
	"net/netip"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/labelselector"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// Server status values (schema ServerStatus).
const (
	statusInitializing = "initializing"
	statusStarting     = "starting"
	statusRunning      = "running"
	statusStopping     = "stopping"
	statusOff          = "off"
	statusDeleting     = "deleting"
	statusRebuilding   = "rebuilding"
	statusMigrating    = "migrating"
)

type server struct {
	resource
	status       string
	stype        *serverType
	loc          *location
	imageID      int64
	pip4         *primaryIP // nil when the server has no public IPv4
	pip6         *primaryIP // nil when the server has no public IPv6
	privateNets  []*serverNet
	fwStatus     map[int64]string // firewall ID → pending/applied
	pg           *placementGroup
	rescue       bool // rescue enabled for the next boot
	inRescue     bool // currently booted into the rescue system
	protection   schema.ServerProtection
	userData     string
	sshKeys      []int64
	bootCount    int
	runningSince time.Time
	primaryDisk  int
	backupWindow string // "" while backups are disabled
}

// serverNet is a server's attachment to a private network.
type serverNet struct {
	network  *network
	ip       netip.Addr
	aliasIPs []netip.Addr
	mac      string
	pending  bool // attach_to_network still running: not yet visible
}

type network struct {
	resource
	ipRange    netip.Prefix
	subnets    []*subnet
	routes     []schema.NetworkRoute
	protection bool
	expose     bool
	quarantine map[netip.Addr]time.Time // released IPs not reusable until then
}

type subnet struct {
	typ        string
	zone       string
	prefix     netip.Prefix
	gateway    netip.Addr
	vswitchID  int64
	releasedAt time.Time // last detach from this subnet
}

type firewall struct {
	resource
	rules   []schema.FirewallRule
	applied []*fwTarget
}

// fwTarget is one apply_to entry: a server or a label selector.
type fwTarget struct {
	serverID int64
	selector string
	sel      labelselector.Selector
}

type loadBalancer struct {
	resource
	ltype         *lbType
	loc           *location
	algorithm     string
	publicEnabled bool
	ipv4          string
	ipv4DNS       string
	ipv6          netip.Addr
	ipv6DNS       string
	privateNets   []*lbNet
	services      []*lbService
	targets       []*lbTarget
	protection    bool
}

type lbNet struct {
	network *network
	ip      netip.Addr
}

// lbService is a service; its pointer identifies the service's health
// statuses (state.health), which survive update_service.
type lbService struct {
	s schema.LoadBalancerService
}

type lbTarget struct {
	typ          string
	serverID     int64
	selector     string
	sel          labelselector.Selector
	ip           string
	usePrivateIP bool
}

// primaryIP is a public address owned by the project; servers get one per
// enabled IP family at create.
type primaryIP struct {
	resource
	typ        string // ipv4 or ipv6
	addr       netip.Addr
	prefix     netip.Prefix // ipv6: the /64
	loc        *location
	assigneeID int64
	autoDelete bool
	protection bool
	dnsPtr     map[string]string
}

// ip is the API form: the address for IPv4, the /64 for IPv6.
func (p *primaryIP) ip() string {
	if p.typ == "ipv6" {
		return p.prefix.String()
	}
	return p.addr.String()
}

// owns reports whether a (single) address belongs to the primary IP.
func (p *primaryIP) owns(a netip.Addr) bool {
	if p.typ == "ipv6" {
		return p.prefix.Contains(a)
	}
	return p.addr == a
}

// publicV4 returns the server's public IPv4 or "".
func (sv *server) publicV4() string {
	if sv.pip4 == nil {
		return ""
	}
	return sv.pip4.addr.String()
}

// hasPublicNet reports whether the server has any public interface.
func (sv *server) hasPublicNet() bool { return sv.pip4 != nil || sv.pip6 != nil }

type placementGroup struct {
	resource
	typ string
}

type floatingIP struct {
	resource
	typ         string
	ip          string // IPv4 address or IPv6 /64 prefix
	homeLoc     *location
	serverID    int64
	description *string
	dnsPtr      map[string]string
	protection  bool
}

type sshKey struct {
	resource
	fingerprint string
	publicKey   string
}

type image struct {
	resource
	typ         string
	status      string
	description string
	imageSize   *float32
	diskSize    float32
	createdFrom *schema.ImageCreatedFrom
	boundTo     *int64
	osFlavor    string
	osVersion   string
	arch        string
	protection  bool
	deprecated  *time.Time
}

type certificate struct {
	resource
	typ         string
	pem         string
	notBefore   time.Time
	notAfter    time.Time
	domainNames []string
	fingerprint string
	issuance    string
}

type volume struct {
	resource
	size       int
	serverID   int64
	loc        *location
	format     *string
	protection bool
	status     string
}
