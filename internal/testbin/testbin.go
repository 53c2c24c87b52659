// Package testbin knows where hack/testbin keeps the binaries of the test
// world (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the
// hcloud cloud-controller-manager): which versions are pinned, and the cache
// directory they are built into. hack/testbin (which builds them) and
// internal/kubesim (which runs them) share it so they always agree. Standard
// library only.
package testbin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CacheDir is $(os.UserCacheDir)/hcloud-k8s/testbin; each tool version lives in
// <tool>-<version>/<tool> below it.
func CacheDir() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory: %w", err)
	}
	return filepath.Join(c, "hcloud-k8s", "testbin"), nil
}

// ErrNoToolsDir means the working directory is not inside the repository.
var ErrNoToolsDir = errors.New("tools/kube-apiserver/go.mod not found above the working directory")

// FindToolsDir walks up from the working directory to the repository's tools
// directory (the one holding tools/kube-apiserver/go.mod).
func FindToolsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "kube-apiserver", "go.mod")); err == nil {
			return filepath.Join(dir, "tools"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoToolsDir
		}
		dir = parent
	}
}

// RequiredVersion reads the version with which the go.mod at goMod requires
// module. go mod tidy lists the selected version of every direct dependency, so
// the require line is authoritative; replace lines are not requires.
func RequiredVersion(goMod, module string) (string, error) {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "require" {
			f = f[1:]
		}
		if len(f) == 2 && f[0] == module && strings.HasPrefix(f[1], "v") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s: no require line for %s", goMod, module)
}
