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
