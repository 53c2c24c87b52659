package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

func TestLongRateLimitWaitsArePrintedAsProgress(t *testing.T) {
	// A bucket of 3 that regains a request every 10 s: plan lists about ten
	// kinds at once, most of them get 429 and wait about 30 s for the
	// bucket, and the requests after that are spaced by more than 10 s. The
	// CLI waits in the simulator's time, which runs simtest.DefaultSpeed
	// times faster than the wall clock.
	sim := simtest.New(t, hcloudsim.Options{RateLimit: hcloudsim.RateLimitOptions{Limit: 3, RefillPerSecond: 0.1}})
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	s := &simCLI{t: t, sim: sim, env: map[string]string{
		envEndpoint: sim.Endpoint, envToken: sim.Token, envSimClock: "1", "XDG_STATE_HOME": dir,
	}}
	if r := s.run("", "init", "-f", file); r.code != 0 {
		t.Fatal(r)
	}
	const line = "Hetzner rate limit: waiting "

	r := s.run("", "plan", "-f", file, "--current-ip", "203.0.113.7", "-o", "json")
	var doc planDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("plan -o json: stdout is not one JSON document (%v): %+v", err, r)
	}
	if !strings.Contains(r.stderr, line) || !strings.Contains(r.stderr, " requests left of 3/h\n") {
		t.Fatalf("plan -o json: no rate-limit progress on stderr: %q", r.stderr)
	}

	r = s.run("", "plan", "-f", file, "--current-ip", "203.0.113.7")
	if r.code != 0 || !strings.Contains(r.stdout, line) || strings.Contains(r.stderr, line) {
		t.Fatalf("plan: want the rate-limit progress on stdout with the rest: %+v", r)
	}
}
