package hcloudsim

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
)

// simRoutes registers the control API. It needs no token and is never
// subject to rate limits or faults, so tests can always observe the sim.
func (s *Server) simRoutes() {
	s.sim.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeValue(w, http.StatusOK, s.Stats())
	})
	s.sim.HandleFunc("POST /_sim/stats/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	s.sim.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, _ *http.Request) {
		writeValue(w, http.StatusOK, s.clockInfo())
	})
	s.sim.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeValue(w, http.StatusOK, s.Faults())
	})
	s.sim.HandleFunc("PUT /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeError(w, errf(http.StatusBadRequest, "json_error", "invalid faults document: %v", err))
			return
		}
		s.SetFaults(f)
		writeValue(w, http.StatusOK, s.Faults())
	})
}

// ClockInfo describes simulated time for GET /_sim/clock. The embedded
// reading lets another process (the CLI under the demo) run a replica of the
// simulator's clock; see clock.Reading.Replica.
type ClockInfo struct {
	clock.Reading
	Started        time.Time `json:"started"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
}

func (s *Server) clockInfo() ClockInfo {
	r := clock.Read(s.clock)
	return ClockInfo{Reading: r, Started: s.epoch, ElapsedSeconds: r.Now.Sub(s.epoch).Seconds()}
}

func writeValue(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, status, b)
}
