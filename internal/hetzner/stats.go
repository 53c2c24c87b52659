package hetzner

import (
	"context"
	"maps"
	"strings"
	"sync"
)

// DefaultPhase is the phase of requests made before any SetPhase.
const DefaultPhase = "default"

// Requests are attributed to a phase so that --debug and benchmarks can say
// where the budget went ("image: 41 requests, infra: 97, …").
//
// Two mechanisms, one rule: the phase in the request's context (WithPhase)
// wins; otherwise the client's current phase (SetPhase) applies. SetPhase
// suits the CLI's sequential steps; WithPhase is for work that runs
// concurrently with another phase, such as building images while the
// network is created. The shared action poller has no caller context, so
// its requests count towards the client's current phase.

type phaseKey struct{}

// WithPhase returns a context whose Hetzner requests are counted under phase.
func WithPhase(ctx context.Context, phase string) context.Context {
	return context.WithValue(ctx, phaseKey{}, phase)
}

func phaseFrom(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(phaseKey{}).(string)
	return p, ok && p != ""
}

// requestStats counts requests by phase and endpoint template.
type requestStats struct {
	mu     sync.Mutex
	phase  string
	counts map[string]map[string]int
	total  int
}

func newRequestStats() *requestStats {
	return &requestStats{phase: DefaultPhase, counts: map[string]map[string]int{}}
}

func (s *requestStats) setPhase(phase string) {
	if phase == "" {
		phase = DefaultPhase
	}
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
}

func (s *requestStats) record(ctx context.Context, method, path string) {
	key := method + " " + PathTemplate(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	phase, ok := phaseFrom(ctx)
	if !ok {
		phase = s.phase
	}
	byKey := s.counts[phase]
	if byKey == nil {
		byKey = map[string]int{}
		s.counts[phase] = byKey
	}
	byKey[key]++
	s.total++
}

func (s *requestStats) snapshot() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]int, len(s.counts))
	for phase, byKey := range s.counts {
		out[phase] = maps.Clone(byKey)
	}
	return out
}

func (s *requestStats) sum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// PathTemplate replaces every all-digit path segment with {id}, so that
// "/v1/servers/42/actions/poweron" and "/v1/servers/43/actions/poweron" count
// as the same endpoint. The query string, if any, is dropped.
func PathTemplate(path string) string {
	path, _, _ = strings.Cut(path, "?")
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		if isDigits(seg) {
			segments[i] = "{id}"
		}
	}
	return strings.Join(segments, "/")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
