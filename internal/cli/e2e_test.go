package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

// simCLI runs the CLI against a simulator, through a transport that dials only
// loopback.
type simCLI struct {
	t   *testing.T
	env map[string]string
	sim *simtest.Env
}

func (s *simCLI) run(stdin string, args ...string) result {
	s.t.Helper()
	var out, errb bytes.Buffer
	e := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return s.env[k] }, HTTPClient: simtest.LoopbackHTTPClient(s.t),
	}
	code := Execute(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

func TestPlanApplyDestroyAgainstTheSimulator(t *testing.T) {
	sim := simtest.New(t, hcloudsim.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	s := &simCLI{t: t, sim: sim, env: map[string]string{
		envEndpoint: sim.Endpoint, envToken: sim.Token, envPollInterval: "1ms", "XDG_STATE_HOME": dir,
	}}
	if r := s.run("", "init", "-f", file); r.code != 0 {
		t.Fatal(r)
	}
	data := strings.Replace(mustRead(t, file), "  # apiSource:\n  #   - 203.0.113.7/32", "  apiSource: [203.0.113.7/32]", 1)
	os.WriteFile(file, []byte(data), 0o600)
	c, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := simworld.SeedTalosSnapshots(context.Background(), sim.Client, c); err != nil {
		t.Fatal(err)
	}
	sim.Sim.ResetStats()

	r := s.run("", "plan", "-f", file, "-o", "json")
	var doc planDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("plan -o json: %v %+v", err, r)
	}
	if doc.Summary["create"] != 15 || doc.Summary["update"] != 0 || doc.Summary["delete"] != 0 {
		t.Errorf("summary = %v", doc.Summary)
	}
	found := false
	for _, res := range doc.Resources {
		if res.Kind == "server" && res.Name == "demo-worker-2" {
			found = true
			if res.Action != "create" || res.Labels["role"] != "worker" || res.Attributes["placement_group"] != "demo-worker-pg-1" || res.Attributes["subnet"] != "10.0.80.0/25" {
				t.Errorf("worker entry = %+v", res)
			}
		}
	}
	if !found {
		t.Error("plan lists no demo-worker-2")
	}
	if n := sim.Sim.Stats().Requests; countWrites(n) != 0 {
		t.Errorf("plan wrote: %v", n)
	}

	if r := s.run("", "apply", "-f", file, "--infrastructure-only"); r.code != 0 || !strings.Contains(r.stdout, "Infrastructure ready") {
		t.Fatalf("apply: %+v", r)
	}
	if r := s.run("", "plan", "-f", file); r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan after apply: %+v", r)
	}

	// The wrong name deletes nothing.
	r = s.run("prod\n", "destroy", "-f", file)
	if r.code == 0 || !strings.Contains(r.stderr, "not confirmed") || !strings.Contains(r.stderr, "server demo-worker-1") {
		t.Fatalf("destroy with the wrong name: %+v", r)
	}
	if r := s.run("", "plan", "-f", file); !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("an unconfirmed destroy changed something: %s", r.stdout)
	}
	r = s.run("demo\n", "destroy", "-f", file)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing left") {
		t.Fatalf("destroy: %+v", r)
	}
	if r := s.run("", "plan", "-f", file, "-o", "json"); !strings.Contains(r.stdout, `"create": 15`) {
		t.Errorf("after destroy the plan should create everything again: %s", r.stdout)
	}
}

func countWrites(requests map[string]int64) int64 {
	var n int64
	for route, c := range requests {
		if !strings.HasPrefix(route, "GET ") {
			n += c
		}
	}
	return n
}
