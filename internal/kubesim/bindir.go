package kubesim

import (
	"errors"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	"os"
	"path/filepath"
	"strings"
)

// ErrBinariesMissing is wrapped by the error [Start] returns when etcd or
// kube-apiserver cannot be found.
var ErrBinariesMissing = errors.New("kubesim: test binaries missing")

// EnvBinDir names the environment variable that points at a directory holding
// the etcd and kube-apiserver binaries (the output of `go run ./hack/testbin`).
const EnvBinDir = "KUBE_TESTBIN"

// binaries locates etcd and kube-apiserver. It never builds anything.
func binaries(binDir string) (etcd, apiserver string, err error) {
	if binDir == "" {
		binDir = os.Getenv(EnvBinDir)
	}
	var where string
	if binDir != "" {
		etcd = filepath.Join(binDir, "etcd")
		apiserver = filepath.Join(binDir, "kube-apiserver")
		where = binDir
	} else {
		etcd, apiserver, err = cachedBinaries()
		if err != nil {
			return "", "", fmt.Errorf("%w: %v; %s", ErrBinariesMissing, err, buildHint)
		}
		where = "the testbin cache"
	}
	var missing []string
	for _, p := range []string{etcd, apiserver} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%w: not found in %s: %s; %s", ErrBinariesMissing, where, strings.Join(missing, ", "), buildHint)
	}
	return etcd, apiserver, nil
}

const buildHint = "build them with `go run ./hack/testbin` from the repository root " +
	"(a cold build takes 10-15 minutes and up to 3 GB of RAM on 2 cores; it is cached per machine), " +
	"or set " + EnvBinDir + " to a directory containing etcd and kube-apiserver"

// cachedBinaries returns the cache paths hack/testbin builds to, for the
// versions pinned in tools/etcd/go.mod and tools/kube-apiserver/go.mod.
func cachedBinaries() (etcd, apiserver string, err error) {
	toolsDir, err := testbin.FindToolsDir()
	if err != nil {
		return "", "", fmt.Errorf("%w, so the pinned versions are unknown", err)
	}
	ev, err := testbin.RequiredVersion(filepath.Join(toolsDir, "etcd", "go.mod"), "go.etcd.io/etcd/server/v3")
	if err != nil {
		return "", "", err
	}
	kv, err := testbin.RequiredVersion(filepath.Join(toolsDir, "kube-apiserver", "go.mod"), "k8s.io/kubernetes")
	if err != nil {
		return "", "", err
	}
	root, err := CacheDir()
	if err != nil {
		return "", "", err
	}
	return filepath.Join(root, "etcd-"+ev, "etcd"),
		filepath.Join(root, "kube-apiserver-"+kv, "kube-apiserver"), nil
}

// CacheDir is where hack/testbin keeps the binaries:
// $(os.UserCacheDir)/hcloud-k8s/testbin.
func CacheDir() (string, error) { return testbin.CacheDir() }

// CheckBinaries reports whether Start would find etcd and kube-apiserver (from
// binDir, $KUBE_TESTBIN or the testbin cache), so a long-running program can
// fail at start-up rather than at the first bootstrap.
func CheckBinaries(binDir string) error {
	_, _, err := binaries(binDir)
	return err
}
