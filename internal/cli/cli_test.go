package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/cluster-file.md and the golden files in testdata")

type result struct {
	code           int
	stdout, stderr string
}

// run executes the CLI in dir with the given environment variables.
func run(t *testing.T, dir string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	}
	// Paths in args are relative to dir: the CLI resolves -f against the working
	// directory, so tests pass absolute paths instead of changing it.
	code := Execute(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

func TestInitThenValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	r := run(t, dir, nil, "init", "-f", file, "--name", "prod", "--location", "nbg1")
	if r.code != 0 {
		t.Fatalf("init failed: %+v", r)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cluster file mode = %v, want 0600", fi.Mode().Perm())
	}
	r = run(t, dir, nil, "validate", "-f", file)
	if r.code != 0 || !strings.Contains(r.stdout, `cluster "prod" with 3 control plane(s) and 2 worker(s)`) || !strings.Contains(r.stdout, "10.0.64.126") {
		t.Fatalf("validate: %+v", r)
	}
	r = run(t, dir, nil, "validate", "-f", file, "-o", "json")
	var rep validationReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.Valid || rep.Layout.ControlPlaneSubnet.String() != "10.0.64.0/25" {
		t.Fatalf("validate -o json: %v %+v", err, r)
	}

	// A second init must not clobber the file.
	r = run(t, dir, nil, "init", "-f", file)
	if r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("init over an existing file: %+v", r)
	}
	r = run(t, dir, nil, "init", "-f", file, "--force", "--name", "other")
	if r.code != 0 {
		t.Fatalf("init --force: %+v", r)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "name: other") {
		t.Error("--force did not overwrite")
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"init", "-f", file, "--name", "Bad_Name"}, "--name"},
		{[]string{"init", "-f", file, "--location", "mars"}, "--location"},
		{[]string{"version", "-o", "yaml"}, "-o/--output"},
		{[]string{"schema", "--format", "xml"}, "--format"},
		{[]string{"validate", "-f", filepath.Join(dir, "missing.yaml")}, "hcloud-k8s init"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			r := run(t, dir, nil, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want failure naming %q, got %+v", tc.want, r)
			}
		})
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a failed init wrote the file")
	}
}

func TestValidateReportsAllErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte(`apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster:
  name: demo
  acess: public
controlPlaneNodepools:
  - {name: cp, type: cpx22, location: fsn1, count: 2}
`), 0o600)
	r := run(t, dir, nil, "validate", "-f", file)
	if r.code == 0 {
		t.Fatal("invalid file accepted")
	}
	for _, want := range []string{file + `:5: cluster.acess: unknown key "acess"; did you mean "access"?`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, file+":6: controlPlaneNodepools: the counts add up to 2 control planes; etcd needs an odd number") {
		t.Errorf("the even count is not reported in the same run:\n%s", r.stderr)
	}
	r = run(t, dir, nil, "validate", "-f", file, "-o", "json")
	var rep validationReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if rep.Valid || len(rep.Errors) != 2 || rep.Errors[1].Path != "controlPlaneNodepools" || rep.Errors[1].Line != 6 {
		t.Errorf("json errors = %+v", rep.Errors)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUnbuiltCommandsFailAndNeverPrintTheToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	if r := run(t, dir, nil, "init", "-f", file); r.code != 0 {
		t.Fatal(r)
	}
	const token = "s3cr3t-token-value-that-must-never-appear"
	for _, verb := range []string{"upgrade"} {
		t.Run(verb, func(t *testing.T) {
			r := run(t, dir, map[string]string{envToken: token}, verb, "-f", file, "--debug")
			if r.code == 0 {
				t.Fatalf("%s pretended to succeed: %+v", verb, r)
			}
			if !strings.Contains(r.stderr, "not implemented yet") {
				t.Errorf("%s error does not say it is not implemented: %s", verb, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, token) {
				t.Errorf("%s printed the token", verb)
			}
		})
	}
}

func TestTokenSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	run(t, dir, nil, "init", "-f", file)

	r := run(t, dir, nil, "plan", "-f", file)
	if r.code == 0 || !strings.Contains(r.stderr, "HCLOUD_TOKEN") {
		t.Errorf("missing token: %+v", r)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	r = run(t, dir, nil, "apply", "-f", file, "--token-file", empty)
	if r.code == 0 || !strings.Contains(r.stderr, "is empty") {
		t.Errorf("empty token file: %+v", r)
	}
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("abc123\n"), 0o644)
	r = run(t, dir, nil, "upgrade", "-f", file, "--token-file", tokenFile)
	if !strings.Contains(r.stderr, "readable by other users") || !strings.Contains(r.stderr, "not implemented yet") {
		t.Errorf("token file: %+v", r)
	}
	if strings.Contains(r.stderr, "abc123") {
		t.Error("token printed")
	}
}

func TestVersionAndCompletion(t *testing.T) {
	r := run(t, "", nil, "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.DefaultTalos != "v1.13.9" || v.DefaultKubernetes != "v1.34.10" {
		t.Errorf("version: %v %+v", err, r)
	}
	r = run(t, "", nil, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "hcloud-k8s") {
		t.Errorf("completion bash: code %d", r.code)
	}
	r = run(t, "", nil, "--help")
	for _, verb := range []string{"plan", "apply", "upgrade", "destroy", "validate", "init", "schema", "kubeconfig", "talosconfig", "version", "completion"} {
		if !strings.Contains(r.stdout, verb) {
			t.Errorf("--help does not list %s", verb)
		}
	}
}

// The committed reference must be what the schema generates today.
func TestClusterFileReferenceIsCurrent(t *testing.T) {
	r := run(t, "", nil, "schema", "--format", "markdown")
	if r.code != 0 {
		t.Fatal(r)
	}
	path := filepath.Join("..", "..", "docs", "cluster-file.md")
	if *update {
		if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustRead(t, path); got != r.stdout {
		t.Errorf("docs/cluster-file.md is stale; run: go test ./internal/cli -run TestClusterFileReferenceIsCurrent -update")
	}
	r = run(t, "", nil, "schema")
	var s map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s["$id"] == nil {
		t.Errorf("schema is not a JSON Schema: %v", err)
	}
}
