package hcloudsim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// SetFaults replaces the fault configuration at runtime.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = cloneFaults(f)
}

// Faults returns the current fault configuration.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneFaults(s.faults)
}

func cloneFaults(f Faults) Faults {
	f.FailCommands = maps.Clone(f.FailCommands)
	f.Routes = slices.Clone(f.Routes)
	f.UnavailableServerTypes = slices.Clone(f.UnavailableServerTypes)
	f.UnavailableLocations = slices.Clone(f.UnavailableLocations)
	f.SoldOutUnannounced = slices.Clone(f.SoldOutUnannounced)
	return f
}

// routeFaulted reports whether per-request faults apply to a route.
func (f *Faults) routeFaulted(route string) bool {
	return len(f.Routes) == 0 || slices.Contains(f.Routes, route)
}

// injectActionFault decides whether a new action will fail: first by the
// one-shot FailCommands budget, then by ActionErrorRate.
func (s *Server) injectActionFault(command string) *schema.ActionError {
	f := &s.faults
	if n := f.FailCommands[command]; n > 0 {
		f.FailCommands[command] = n - 1
		return &schema.ActionError{Code: "action_failed", Message: fmt.Sprintf("%s failed (injected fault)", command)}
	}
	if f.ActionErrorRate > 0 && s.rng.Float64() < f.ActionErrorRate {
		return &schema.ActionError{Code: "action_failed", Message: fmt.Sprintf("%s failed (injected fault)", command)}
	}
	return nil
}

// soldOut reports whether fault injection made a server type (everywhere
// or, written "type@location", in one location) or a location unable to
// provision servers.
func (s *Server) soldOut(serverType, location string) bool {
	return slices.Contains(s.faults.UnavailableServerTypes, serverType) ||
		slices.Contains(s.faults.UnavailableServerTypes, serverType+"@"+location) ||
		slices.Contains(s.faults.UnavailableLocations, location)
}

// soldOutUnannounced reports whether a create of serverType in location fails
// although the catalogue still lists it as available (Faults.SoldOutUnannounced).
func (s *Server) soldOutUnannounced(serverType, location string) bool {
	return slices.Contains(s.faults.SoldOutUnannounced, serverType) ||
		slices.Contains(s.faults.SoldOutUnannounced, serverType+"@"+location)
}
