package hcloudsim

import (
	"maps"
	"time"
)

// Stats is a snapshot of the request accounting.
type Stats struct {
	// Requests counts /v1 requests by "METHOD /v1/path/{template}".
	Requests map[string]int64 `json:"requests"`
	// Total is the sum of Requests.
	Total int64 `json:"total"`
	// Clients counts the same requests by program: the first product of
	// the User-Agent (hcloud-k8s, hcloud-cloud-controller-manager, ...).
	Clients map[string]int64 `json:"clients"`
	// SimulatedNow is the simulated time of the snapshot.
	SimulatedNow time.Time `json:"simulated_now"`
	// ElapsedSeconds is simulated time since the simulator started.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// Stats returns the request counts since start or the last ResetStats.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Requests:       maps.Clone(s.stats),
		Total:          s.total,
		Clients:        maps.Clone(s.clients),
		SimulatedNow:   s.clock.Now(),
		ElapsedSeconds: s.Elapsed().Seconds(),
	}
}

// ResetStats zeroes the request counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]int64{}
	s.total = 0
	s.clients = map[string]int64{}
}
