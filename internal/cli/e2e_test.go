package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/netwatch"
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
	httpClient := simtest.LoopbackHTTPClient(s.t)
	// A connection dialled but never used would hold up the simulator's
	// shutdown for a second.
	defer httpClient.CloseIdleConnections()
	e := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return s.env[k] }, HTTPClient: httpClient,
	}
	code := Execute(context.Background(), e, args)
	// Every run is a probe of the token: it must never be printed.
	if token := s.env[envToken]; token != "" {
		assertNoSecret(s.t, fmt.Sprintf("the output of %v", args), out.String()+errb.String(), token)
	}
	return result{code, out.String(), errb.String()}
}

func TestPlanApplyDestroyAgainstTheSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the kube-apiserver and etcd binaries (go run ./hack/testbin)")
	}
	netwatch.Guard(t, os.Getpid()) // the CLI and the whole world stay on loopback
	sim := simtest.New(t, hcloudsim.Options{})
	sshPort, err := sim.Sim.ServeRescueSSH(0)
	if err != nil {
		t.Fatal(err)
	}
	factory := imagetest.NewFactory(t)
	world, err := simworld.StartTalosWorld(context.Background(), sim.Sim, simworld.TalosWorldOptions{TalosImages: simworld.BuiltTalosImages(sim.Sim), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(world.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	s := &simCLI{t: t, sim: sim, env: map[string]string{
		envEndpoint: sim.Endpoint, envToken: sim.Token, envPollInterval: "20ms", "XDG_STATE_HOME": dir,
		envImageFactory: factory.URL(), envRescueSSHPort: strconv.Itoa(sshPort),
		// The charts come from the world's OCI registry here (the lifecycle
		// tests use its HTTP chart repository): both ways real charts come.
		charts.MirrorEnv: world.ChartRegistry(), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
	}}
	if r := s.run("", "init", "-f", file); r.code != 0 {
		t.Fatal(r)
	}
	data := strings.Replace(mustRead(t, file), "  # apiSource:\n  #   - 203.0.113.7/32", "  apiSource: [203.0.113.7/32]", 1)
	os.WriteFile(file, []byte(data), 0o600)
	sim.Sim.ResetStats()

	r := s.run("", "plan", "-f", file, "-o", "json")
	var doc planDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("plan -o json: %v %+v", err, r)
	}
	if doc.Summary["create"] != 15 || doc.Summary["update"] != 0 || doc.Summary["delete"] != 0 || doc.Snapshots[0].ID != 0 {
		t.Errorf("summary = %v", doc.Summary)
	}
	found := false
	for _, res := range doc.Resources {
		if res.Kind == "server" && res.Name == "demo-worker-2" {
			found = true
			if res.Action != "create" || res.Labels["role"] != "worker" || res.Attributes["placementGroup"] != "demo-worker-pg-1" || res.Attributes["subnet"] != "10.0.80.0/25" {
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

	r = s.run("", "apply", "-f", file, "--debug")
	if r.code != 0 || !strings.Contains(r.stdout, "building it") || !strings.Contains(r.stdout, "5 nodes Ready") {
		t.Fatalf("apply: %+v", r)
	}
	// The state directory holds the Talos secrets and both credentials now;
	// the API token is in none of them (s.run checked the output, debug log
	// included).
	if n := assertNoSecretInFiles(t, dir, sim.Token); n < 4 {
		t.Errorf("%d files below %s; want the cluster file, secrets, talosconfig and kubeconfig", n, dir)
	}
	// The credentials apply wrote are printed, or copied with mode 0600.
	r = s.run("", "kubeconfig", "-f", file)
	if r.code != 0 || !strings.Contains(r.stdout, "server: https://127.") || !strings.Contains(r.stdout, "client-certificate-data") {
		t.Errorf("kubeconfig: %+v", r)
	}
	copyTo := filepath.Join(dir, "copy", "talosconfig")
	if r := s.run("", "talosconfig", "-f", file, "--write", copyTo); r.code != 0 {
		t.Fatalf("talosconfig --write: %+v", r)
	}
	if fi, err := os.Stat(copyTo); err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(mustRead(t, copyTo), "context: demo") {
		t.Errorf("talosconfig copy: %v", err)
	}
	if r := s.run("", "plan", "-f", file); r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan after apply: %+v", r)
	}

	// status: every node Ready and initialised by the CCM, three etcd
	// members, the default addons applied and healthy.
	r = s.run("", "status", "-f", file, "-o", "json")
	var st struct {
		Kind    string `json:"kind"`
		Healthy bool   `json:"healthy"`
		Nodes   []struct {
			Name               string
			Ready, Initialized bool
			TalosVersion       string
			ExternalIP         string
		}
		Etcd   []struct{ Name string }
		Addons []struct {
			Name             string
			Enabled, Healthy bool
			AppliedVersion   string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || st.Kind != kindStatus || !st.Healthy {
		t.Fatalf("status -o json: %v %+v", err, r)
	}
	if len(st.Nodes) != 5 || len(st.Etcd) != 3 {
		t.Errorf("status: %d nodes, %d etcd members; want 5 and 3", len(st.Nodes), len(st.Etcd))
	}
	for _, n := range st.Nodes {
		if !n.Ready || !n.Initialized || n.TalosVersion == "" || !strings.HasPrefix(n.ExternalIP, "127.") {
			t.Errorf("status node %+v: want Ready, initialised, a Talos version and the CCM's external address", n)
		}
	}
	for _, a := range st.Addons {
		if a.Name == "cilium" && (!a.Enabled || !a.Healthy || a.AppliedVersion != "1.19.6") {
			t.Errorf("status addon %+v: want cilium 1.19.6 applied and healthy", a)
		}
	}
	if r := s.run("", "status", "-f", file); r.code != 0 || !strings.Contains(r.stdout, "hcloud-ccm") || !strings.Contains(r.stdout, "Etcd members:") {
		t.Errorf("status: %+v", r)
	}

	// The wrong name deletes nothing.
	r = s.run("prod\n", "destroy", "-f", file)
	if r.code == 0 || !strings.Contains(r.stderr, "not confirmed") || !strings.Contains(r.stderr, "server demo-worker-1") {
		t.Fatalf("destroy with the wrong name: %+v", r)
	}
	if r := s.run("", "plan", "-f", file); !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("an unconfirmed destroy changed something: %s", r.stdout)
	}
	r = s.run("demo\n", "destroy", "-f", file, "--debug")
	if r.code != 0 || !strings.Contains(r.stdout, "nothing left") {
		t.Fatalf("destroy: %+v", r)
	}
	if r := s.run("", "kubeconfig", "-f", file, "--state-dir", filepath.Join(dir, "elsewhere")); r.code == 0 || !strings.Contains(r.stderr, "run `hcloud-k8s apply` first") {
		t.Errorf("kubeconfig without a state: %+v", r)
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
