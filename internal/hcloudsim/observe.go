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
