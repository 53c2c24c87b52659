package testbin

import (
	"fmt"
	"os"
	"path/filepath"
)

// Names of the test world's executables, as hack/testbin caches and links them.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	CCM               = "hcloud-cloud-controller-manager"
)

// The hcloud cloud-controller-manager is not built from a tools module: the
// Go module proxy does not serve it everywhere, so hack/testbin may build it
// from a source archive instead (see docs/architecture.md). Its version and
// the archive's checksum are pinned here.
const (
	CCMModule        = "github.com/hetznercloud/hcloud-cloud-controller-manager"
	CCMVersion       = "v1.35.0"
	CCMArchive       = "hcloud-cloud-controller-manager-" + CCMVersion + ".tar.gz"
	CCMArchiveSHA256 = "38477a70ecd46ccd901ae3e2fdd048690a1577569d5f05dba3011043e5b78e89"
)

// Binary is one executable of the test world and where its version is pinned.
type Binary struct {
	Name string
	// ToolsModule is the directory below tools/ whose go.mod pins Module;
	// empty when the version is a constant (the CCM).
	ToolsModule string
	Module      string
	// Package is the main package to build.
	Package string
}

// Binaries lists every executable hack/testbin provides, the ones built
// from tools modules first.
func Binaries() []Binary {
	return []Binary{
		{Name: Etcd, ToolsModule: "etcd", Module: "go.etcd.io/etcd/server/v3", Package: "go.etcd.io/etcd/server/v3"},
		{Name: APIServer, ToolsModule: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-apiserver"},
		// Same module and version as the API server, so the control plane
		// matches a real cluster's.
		{Name: ControllerManager, ToolsModule: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-controller-manager"},
		{Name: Scheduler, ToolsModule: "kube-apiserver", Module: "k8s.io/kubernetes", Package: "k8s.io/kubernetes/cmd/kube-scheduler"},
		{Name: CCM, Module: CCMModule, Package: CCMModule},
	}
}

// Lookup returns the Binary called name.
func Lookup(name string) (Binary, error) {
	for _, b := range Binaries() {
		if b.Name == name {
			return b, nil
		}
	}
	return Binary{}, fmt.Errorf("testbin: no binary called %q", name)
}

// Version is the version of b pinned by the tools directory toolsDir.
func (b Binary) Version(toolsDir string) (string, error) {
	if b.ToolsModule == "" {
		return CCMVersion, nil
	}
	return RequiredVersion(filepath.Join(toolsDir, b.ToolsModule, "go.mod"), b.Module)
}

// Path is where hack/testbin caches version of b below the cache root:
// <root>/<name>-<version>/<name>.
func (b Binary) Path(root, version string) string {
	return filepath.Join(root, b.Name+"-"+version, b.Name)
}

// CachedPath is the cache path of the binary called name for the version the
// repository around the working directory pins. The file may not exist.
func CachedPath(name string) (string, error) {
	b, err := Lookup(name)
	if err != nil {
		return "", err
	}
	toolsDir, err := FindToolsDir()
	if err != nil {
		return "", fmt.Errorf("%w, so the pinned versions are unknown", err)
	}
	v, err := b.Version(toolsDir)
	if err != nil {
		return "", err
	}
	root, err := CacheDir()
	if err != nil {
		return "", err
	}
	return b.Path(root, v), nil
}

// EnvCCMSource names the environment variable that points hack/testbin at
// the CCM source archive (CCMArchive) when the module proxy does not serve
// the module.
const EnvCCMSource = "HCLOUD_K8S_CCM_SOURCE"

// machineArchiveDir is where this machine keeps third-party source
// archives that the module proxy does not serve.
const machineArchiveDir = "/work/shared/third_party"

// CCMArchiveDirs are the directories searched for CCMArchive when
// $HCLOUD_K8S_CCM_SOURCE is unset: third_party of a "shared" directory next
// to the repository, then the machine's.
func CCMArchiveDirs(repoRoot string) []string {
	return []string{filepath.Join(filepath.Dir(repoRoot), "shared", "third_party"), machineArchiveDir}
}

// FindCCMArchive returns the CCM source archive: $HCLOUD_K8S_CCM_SOURCE
// (which must exist when set), else the first of CCMArchiveDirs holding it,
// else "". The caller checks CCMArchiveSHA256.
func FindCCMArchive(repoRoot string) (string, error) {
	if p := os.Getenv(EnvCCMSource); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", EnvCCMSource, err)
		}
		return p, nil
	}
	for _, d := range CCMArchiveDirs(repoRoot) {
		p := filepath.Join(d, CCMArchive)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", nil
}
