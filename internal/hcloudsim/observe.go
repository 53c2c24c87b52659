package hcloudsim

import (
	"slices"
	"time"
)

// ServerState is what a fake node (Talos, rescue SSH) needs to know about a
// simulated server, read through the Go API instead of the HTTP API so that
// observation never consumes rate limit or shows up in request counts.
type ServerState struct {
	ID        int64
	Name      string
	Status    string // API status: initializing, starting, running, off, …
	PublicV4  string // loopback address, "" when IPv4 is disabled
	PrivateV4 []string
	Labels    map[string]string
	UserData  string
	ImageID   int64
	InRescue  bool // booted into the rescue system at its last boot
	BootCount int  // increments on every boot (poweron, reboot, reset, rebuild)
	// RunningSince is the simulated time of the last boot.
	RunningSince time.Time
}

// ServerStates returns a snapshot of every server, in ID order, with the
// simulation settled to the current simulated time.
func (s *Server) ServerStates() []ServerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	out := make([]ServerState, 0, len(s.st.servers))
	for _, sv := range sortedValues(s.st.servers) {
		st := ServerState{
			ID: sv.ID, Name: sv.Name, Status: sv.status, PublicV4: sv.publicV4(), Labels: cloneLabels(sv.Labels),
			UserData: sv.userData, ImageID: sv.imageID, InRescue: sv.inRescue, BootCount: sv.bootCount,
			RunningSince: sv.runningSince,
		}
		for _, pn := range sv.privateNets {
			if !pn.pending {
				st.PrivateV4 = append(st.PrivateV4, pn.ip.String())
			}
		}
		out = append(out, st)
	}
	return slices.Clip(out)
}

// AddressState is a public IPv4 address that is not a server's own: a load
// balancer's or a floating IP's. Fake services (a load-balanced Kubernetes API, a
// control plane's VIP) listen on these addresses.
type AddressState struct {
	Kind     string // "load_balancer" or "floating_ip"
	ID       int64
	Name     string
	Labels   map[string]string
	PublicV4 string // "" when the public interface is off or the address is IPv6
	// ServerID is the server a floating IP is assigned to (0 if none).
	ServerID int64
}

// PublicAddresses returns every load balancer's and floating IP's public IPv4, in
// ID order, with the simulation settled to now.
func (s *Server) PublicAddresses() []AddressState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var out []AddressState
	for _, lb := range sortedValues(s.st.loadBalancers) {
		a := AddressState{Kind: "load_balancer", ID: lb.ID, Name: lb.Name, Labels: cloneLabels(lb.Labels)}
		if lb.publicEnabled {
			a.PublicV4 = lb.ipv4
		}
		out = append(out, a)
	}
	for _, f := range sortedValues(s.st.floatingIPs) {
		a := AddressState{Kind: "floating_ip", ID: f.ID, Name: f.Name, Labels: cloneLabels(f.Labels), ServerID: f.serverID}
		if f.typ == "ipv4" {
			a.PublicV4 = f.ip
		}
		out = append(out, a)
	}
	return out
}
