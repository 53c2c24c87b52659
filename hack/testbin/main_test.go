package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestToolsMatchBinaries(t *testing.T) {
	ts := tools()
	bs := testbin.Binaries()
	if len(ts) != len(bs) {
		t.Fatalf("%d tools for %d binaries", len(ts), len(bs))
	}
	for i, tl := range ts {
		if tl.Name != bs[i].Name || tl.ldflags == nil || tl.estimate == "" {
			t.Errorf("tool %d: %+v", i, tl)
		}
	}
	if got := kubeLDFlags("v1.34.4"); !strings.Contains(got, "gitVersion=v1.34.4") || !strings.Contains(got, "gitMinor=34 ") {
		t.Errorf("kubeLDFlags: %s", got)
	}
}

func TestExtractArchiveRefusesWrongChecksum(t *testing.T) {
	p := filepath.Join(t.TempDir(), testbin.CCMArchive)
	if err := os.WriteFile(p, tarGz(t, map[string]string{"x/go.mod": "module " + testbin.CCMModule + "\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	_, err := extractArchive(p, root)
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), testbin.CCMArchiveSHA256) {
		t.Fatalf("got %v, want a checksum refusal naming the expected sum", err)
	}
	if des, _ := os.ReadDir(root); len(des) != 0 {
		t.Errorf("something was extracted: %v", des)
	}
}

func TestUntarGz(t *testing.T) {
	dest := t.TempDir()
	data := tarGz(t, map[string]string{"ccm-v1/go.mod": "module " + testbin.CCMModule + "\n", "ccm-v1/main.go": "package main\n"})
	if err := untarGz(data, dest); err != nil {
		t.Fatal(err)
	}
	dir, err := moduleRoot(dest, testbin.CCMModule)
	if err != nil || dir != filepath.Join(dest, "ccm-v1") {
		t.Errorf("moduleRoot = %q, %v", dir, err)
	}
	if _, err := moduleRoot(dest, "example.com/other"); err == nil {
		t.Error("moduleRoot found a module the archive does not hold")
	}
	for _, evil := range []string{"../evil", "/etc/evil"} {
		if err := untarGz(tarGz(t, map[string]string{evil: "x"}), t.TempDir()); err == nil {
			t.Errorf("entry %q accepted", evil)
		}
	}
}

// TestRealArchive checks the pinned checksum and layout against the archive
// when this machine has it.
func TestRealArchive(t *testing.T) {
	repo, err := testbin.FindToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	p, err := findArchive(filepath.Dir(repo))
	if err != nil || p == "" {
		t.Skipf("no CCM source archive on this machine (%v)", err)
	}
	src, err := extractArchive(p, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer src.cleanup()
	if _, err := os.Stat(filepath.Join(src.dir, "main.go")); err != nil {
		t.Errorf("no main package at the module root: %v", err)
	}
}

func TestFindArchive(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "clone")
	sibling := filepath.Join(base, "shared", "third_party", testbin.CCMArchive)
	if err := os.MkdirAll(filepath.Dir(sibling), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sibling, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(testbin.EnvCCMSource, "")
	if got, err := findArchive(repo); err != nil || got != sibling {
		t.Errorf("default: got %q, %v; want %s", got, err, sibling)
	}
	explicit := filepath.Join(t.TempDir(), "ccm.tar.gz")
	os.WriteFile(explicit, nil, 0o644)
	t.Setenv(testbin.EnvCCMSource, explicit)
	if got, err := findArchive(repo); err != nil || got != explicit {
		t.Errorf("$%s: got %q, %v; want %s", testbin.EnvCCMSource, got, err, explicit)
	}
	t.Setenv(testbin.EnvCCMSource, filepath.Join(base, "missing.tar.gz"))
	if _, err := findArchive(repo); err == nil {
		t.Errorf("a missing $%s was not an error", testbin.EnvCCMSource)
	}
}

func TestLinkAssets(t *testing.T) {
	root := t.TempDir()
	var entries []entry
	for _, name := range []string{"etcd", "kube-apiserver", testbin.CCM} {
		p := filepath.Join(root, name+"-v1", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
		entries = append(entries, entry{tool: tool{Binary: testbin.Binary{Name: name}}, version: "v1", path: p})
	}
	assets := filepath.Join(root, "assets")
	if err := linkAssets(root, assets, entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !isExecutable(filepath.Join(assets, e.Name)) {
			t.Errorf("%s not linked", e.Name)
		}
	}
	// Without the CCM (its binary gone), the link is dropped, not left dangling.
	if err := linkAssets(root, assets, entries[:2]); err != nil {
		t.Fatal(err)
	}
	if des, _ := os.ReadDir(assets); len(des) != 2 {
		t.Errorf("assets hold %d entries, want 2", len(des))
	}
}
