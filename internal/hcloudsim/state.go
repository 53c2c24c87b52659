package hcloudsim

import (
	"net/netip"
	"time"
)

// resource holds the fields every user resource shares: they drive the
// generic name / label_selector filters, sorting and pagination.
type resource struct {
	ID      int64
	Name    string
	Created time.Time
	Labels  map[string]string
}

func (r *resource) base() *resource { return r }

// listable is implemented by every stored kind through the embedded resource.
type listable interface{ base() *resource }

// resKey identifies a resource for locking and action references.
type resKey struct {
	typ string
	id  int64
}

// state is the simulated project. It is only touched with Server.mu held.
type state struct {
	ids map[string]int64 // next ID per kind

	actions map[int64]*action
	events  eventQueue
	locks   map[resKey]int // running actions per resource

	locations   []*location
	datacenters []*datacenter
	serverTypes []*serverType
	lbTypes     []*lbType
	isos        []*iso

	servers         map[int64]*server
	networks        map[int64]*network
	firewalls       map[int64]*firewall
	loadBalancers   map[int64]*loadBalancer
	placementGroups map[int64]*placementGroup
	floatingIPs     map[int64]*floatingIP
	sshKeys         map[int64]*sshKey
	images          map[int64]*image
	certificates    map[int64]*certificate
	volumes         map[int64]*volume
	primaryIPs      map[int64]*primaryIP

	health map[healthKey]*healthState // load balancer target health (health.go)

	publicV4 netip.Addr // last allocated loopback IPv4
	publicV6 uint32     // last allocated IPv6 /64 index
}

// idBase spaces the ID ranges of kinds apart so that passing, say, a network
// ID where a server ID is expected fails with not_found instead of silently
// hitting another object.
var idBase = map[string]int64{
	"action":          50_000_000,
	"server":          1_000_000,
	"network":         2_000_000,
	"firewall":        3_000_000,
	"load_balancer":   4_000_000,
	"placement_group": 5_000_000,
	"floating_ip":     6_000_000,
	"ssh_key":         7_000_000,
	"image":           8_000_000,
	"certificate":     9_000_000,
	"volume":          10_000_000,
	"primary_ip":      11_000_000,
}

func newState(publicV4Start netip.Addr) *state {
	st := &state{
		ids:             map[string]int64{},
		actions:         map[int64]*action{},
		locks:           map[resKey]int{},
		servers:         map[int64]*server{},
		networks:        map[int64]*network{},
		firewalls:       map[int64]*firewall{},
		loadBalancers:   map[int64]*loadBalancer{},
		placementGroups: map[int64]*placementGroup{},
		floatingIPs:     map[int64]*floatingIP{},
		sshKeys:         map[int64]*sshKey{},
		images:          map[int64]*image{},
		certificates:    map[int64]*certificate{},
		volumes:         map[int64]*volume{},
		primaryIPs:      map[int64]*primaryIP{},
		health:          map[healthKey]*healthState{},
		publicV4:        publicV4Start,
	}
	for k, v := range idBase {
		st.ids[k] = v
	}
	seedCatalog(st)
	return st
}

func (st *state) nextID(kind string) int64 {
	st.ids[kind]++
	return st.ids[kind]
}

func (st *state) locked(typ string, id int64) bool { return st.locks[resKey{typ, id}] > 0 }

// allocPublicIPv4 hands out the addresses after Options.PublicIPv4Start
// (127.0.1.1, 127.0.1.2, … by default), skipping .0 and .255 so every simulated
// public address is dialable on loopback and never 127.0.0.1.
func (st *state) allocPublicIPv4() string {
	for {
		st.publicV4 = st.publicV4.Next()
		b := st.publicV4.As4()
		if b[3] != 0 && b[3] != 255 {
			return st.publicV4.String()
		}
	}
}

// allocPublicIPv6 returns the next /64 from the documentation prefix 2001:db8::/32.
func (st *state) allocPublicIPv6() netip.Prefix {
	st.publicV6++
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[4], b[5], b[6], b[7] = byte(st.publicV6>>24), byte(st.publicV6>>16), byte(st.publicV6>>8), byte(st.publicV6)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}
