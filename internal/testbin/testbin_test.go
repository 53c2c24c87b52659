package testbin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRequiredVersion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "go.mod")
	os.WriteFile(p, []byte("module x\n\nrequire k8s.io/kubernetes v1.34.4\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.7.3 // indirect\n)\n\nreplace k8s.io/api => k8s.io/api v0.34.4\n"), 0o644)
	for mod, want := range map[string]string{"k8s.io/kubernetes": "v1.34.4", "go.etcd.io/etcd/server/v3": "v3.7.3"} {
		if got, err := RequiredVersion(p, mod); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %s", mod, got, err, want)
		}
	}
	if _, err := RequiredVersion(p, "k8s.io/api"); err == nil {
		t.Error("replace line taken for a require")
	}
}

func TestFindToolsDir(t *testing.T) {
	dir, err := FindToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "etcd", "go.mod")); err != nil {
		t.Errorf("tools dir %s has no etcd module: %v", dir, err)
	}
}

func TestBinaries(t *testing.T) {
	toolsDir, err := FindToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, b := range Binaries() {
		if seen[b.Name] {
			t.Errorf("%s listed twice", b.Name)
		}
		seen[b.Name] = true
		v, err := b.Version(toolsDir)
		if err != nil {
			t.Errorf("%s: %v", b.Name, err)
			continue
		}
		if got := b.Path("/c", v); got != filepath.Join("/c", b.Name+"-"+v, b.Name) {
			t.Errorf("%s: path %s", b.Name, got)
		}
	}
	for _, name := range []string{Etcd, APIServer, ControllerManager, Scheduler, CCM} {
		if _, err := Lookup(name); err != nil {
			t.Error(err)
		}
	}
	if ccm, _ := Lookup(CCM); ccm.ToolsModule != "" {
		t.Errorf("CCM pinned by a tools module: %+v", ccm)
	}
	if v, _ := (Binary{Name: CCM}).Version(toolsDir); v != CCMVersion {
		t.Errorf("CCM version %s, want %s", v, CCMVersion)
	}
	// The controller manager and scheduler are pinned with the API server.
	kcm, _ := Lookup(ControllerManager)
	api, _ := Lookup(APIServer)
	if kcm.ToolsModule != api.ToolsModule || kcm.Module != api.Module {
		t.Errorf("controller manager pinned apart from the API server: %+v vs %+v", kcm, api)
	}
}
