package kubesim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// ErrBinariesMissing is wrapped by the error [Start] and [StartCCM] return
// when a binary they need cannot be found.
var ErrBinariesMissing = errors.New("kubesim: test binaries missing")

// EnvBinDir names the environment variable that points at a directory holding
// the test binaries (the output of `go run ./hack/testbin`).
const EnvBinDir = "KUBE_TESTBIN"

// binaries locates etcd and kube-apiserver. It never builds anything.
func binaries(binDir string) (etcd, apiserver string, err error) {
	paths, err := findBinaries(binDir, testbin.Etcd, testbin.APIServer)
	if err != nil {
		return "", "", err
	}
	return paths[0], paths[1], nil
}

// findBinaries locates the named binaries in binDir, else $KUBE_TESTBIN, else
// the testbin cache. It never builds anything.
func findBinaries(binDir string, names ...string) ([]string, error) {
	if binDir == "" {
		binDir = os.Getenv(EnvBinDir)
	}
	where := binDir
	if binDir == "" {
		where = "the testbin cache"
	}
	var paths []string
	for _, name := range names {
		p := filepath.Join(binDir, name)
		if binDir == "" {
			var err error
			if p, err = testbin.CachedPath(name); err != nil {
				return nil, fmt.Errorf("%w: %w; %s", ErrBinariesMissing, err, hint(names))
			}
		}
		paths = append(paths, p)
	}
	var missing []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: not found in %s: %s; %s", ErrBinariesMissing, where, strings.Join(missing, ", "), hint(names))
	}
	return paths, nil
}

// hint says how to provide the named binaries.
func hint(names []string) string {
	h := "build them with `go run ./hack/testbin` from the repository root " +
		"(a cold build of everything takes about 25 minutes and up to 3 GB of RAM on 2 cores; it is cached per machine), " +
		"or set " + EnvBinDir + " to a directory containing " + strings.Join(names, ", ")
	for _, n := range names {
		if n == testbin.CCM {
			h += "; the CCM is built from the module proxy or from the source archive " + testbin.CCMArchive +
				" named by $" + testbin.EnvCCMSource + " (see docs/architecture.md)"
		}
	}
	return h
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
