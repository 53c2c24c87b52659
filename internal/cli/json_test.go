package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
)

// The -o json documents are a contract with users' scripts: these golden
// files pin every field name and shape. A change that shows up here must be
// a deliberate one, described in docs/json-output.md (run with -update to
// rewrite the files after such a change).

func TestJSONDocumentsMatchGolden(t *testing.T) {
	plan := testPlanResult(t)
	docs := []struct {
		name string
		kind string
		doc  any
	}{
		{"plan", kindPlan, planJSON(plan)},
		{"apply", kindApply, applyDoc{planDoc: planJSON(plan), Error: "apply stopped at infrastructure: create server demo-worker-1 (cpx31 in fsn1): ..."}},
		{"destroy", kindDestroy, newDestroyDoc("demo", &lifecycle.DestroyResult{
			Deleted: []string{"server demo-control-1", "network demo"},
			Kept:    []string{"snapshot talos-v1.13.9-amd64 (12)"},
		}, nil)},
		{"version", kindVersion, versionInfo{
			Version: "v0.1.0", Commit: "0123456789abcdef", GoVersion: "go1.26.8", Platform: "linux/amd64",
			DefaultTalos: "v1.13.9", DefaultKubernetes: "v1.34.10",
		}},
		{"init", kindInit, initDoc{File: "cluster.yaml", Cluster: "demo"}},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeJSON(&buf, d.kind, d.doc); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, d.name, buf.Bytes())
		})
	}
}

// TestValidateJSONMatchesGolden goes through the real command, valid and
// invalid, so the documents users get are the ones pinned.
func TestValidateJSONMatchesGolden(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(good, []byte(configtest.Demo().YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(configtest.Demo().YAML(), "count: 3", "count: 2", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"validate": good, "validate-invalid": bad} {
		t.Run(name, func(t *testing.T) {
			r := run(t, dir, nil, "validate", "-f", file, "-o", "json")
			if r.stdout == "" {
				t.Fatalf("no JSON on stdout: %+v", r)
			}
			checkGolden(t, name, []byte(strings.ReplaceAll(r.stdout, dir, "$DIR")))
		})
	}
}

// TestJSONDocumentsHaveHeader checks the header every document starts with,
// independent of the golden files, so that regenerating them cannot drop it.
func TestJSONDocumentsHaveHeader(t *testing.T) {
	for _, v := range []any{struct{}{}, initDoc{File: "f", Cluster: "c"}} {
		var buf bytes.Buffer
		if err := writeJSON(&buf, "Thing", v); err != nil {
			t.Fatal(err)
		}
		var head struct{ APIVersion, Kind string }
		if err := json.Unmarshal(buf.Bytes(), &head); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, buf.String())
		}
		if head.APIVersion != APIVersion || head.Kind != "Thing" {
			t.Errorf("header = %+v, want %s/Thing", head, APIVersion)
		}
		if !strings.HasPrefix(buf.String(), "{\n  \"apiVersion\": \""+APIVersion+"\",\n  \"kind\": \"Thing\"") {
			t.Errorf("apiVersion and kind are not the first fields:\n%s", buf.String())
		}
	}
	if err := writeJSON(&bytes.Buffer{}, "List", []string{"a"}); err == nil {
		t.Error("a JSON array was accepted as a document; every document must be an object")
	}
}

// testPlanResult is a plan for the demo cluster against a project that holds
// only its network, with one setting changed, so the plan has creates and an
// update.
func testPlanResult(t *testing.T) *lifecycle.PlanResult {
	t.Helper()
	c := configtest.Load(t, configtest.Demo(), nil)
	desired, err := infra.Desire(c, infra.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	_, ipRange, _ := net.ParseCIDR("10.0.0.0/16")
	observed := infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, infra.Cloud{Networks: []*hcloud.Network{{
		ID: 41, Name: layout.NetworkName(c.Cluster.Name), IPRange: ipRange, ExposeRoutesToVSwitch: false,
		Labels: layout.ClusterLabels(c.Cluster.Name), Protection: hcloud.NetworkProtection{Delete: true},
	}}})
	return &lifecycle.PlanResult{
		Plan: infra.Diff(desired, observed), Desired: desired, Observed: observed,
		Snapshots: []image.Snapshot{{Arch: "amd64", ID: 12, Name: "talos-v1.13.9-amd64", Selector: "os=talos"}},
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "json", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no golden file %s: run go test ./internal/cli -run JSON -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s -o json changed; if that is intended, update docs/json-output.md and run with -update.\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestJSONKeysAreCamelCase walks every golden document: every key is
// camelCase (lowercase first letter, no underscores or dashes), except inside
// labels, whose keys are the user's and Hetzner's label names.
func TestJSONKeysAreCamelCase(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, bad := range nonCamelKeys("", doc) {
			t.Errorf("%s: key %s is not camelCase", f, bad)
		}
	}
}

func nonCamelKeys(path string, v any) []string {
	var bad []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := path + "." + k
			if k == "" || k[0] < 'a' || k[0] > 'z' || strings.ContainsAny(k, "_- ") {
				bad = append(bad, p)
			}
			if k != "labels" {
				bad = append(bad, nonCamelKeys(p, child)...)
			}
		}
	case []any:
		for _, child := range v {
			bad = append(bad, nonCamelKeys(path+"[]", child)...)
		}
	}
	return bad
}
