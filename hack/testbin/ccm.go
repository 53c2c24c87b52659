package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// errNoCCMSource means neither the module proxy nor a source archive can
// provide the CCM.
var errNoCCMSource = errors.New("no source for the hcloud cloud-controller-manager")

// ccmSrc is a CCM module source tree; cleanup removes it if it was extracted.
type ccmSrc struct {
	dir, origin string
	cleanup     func()
}

// ccmSource provides the CCM's source: the module through the Go module
// proxy when it serves it, else the checksummed archive extracted below
// root (never into the repository). $HCLOUD_K8S_CCM_SOURCE=none skips the
// CCM, e.g. to save its build on a machine that never runs it.
func ccmSource(ctx context.Context, repoRoot, root string, verbose bool) (ccmSrc, error) {
	if os.Getenv(testbin.EnvCCMSource) == "none" {
		return ccmSrc{}, fmt.Errorf("%w: skipped ($%s=none)", errNoCCMSource, testbin.EnvCCMSource)
	}
	dir, proxyErr := downloadModule(ctx)
	if proxyErr == nil {
		return ccmSrc{dir: dir, origin: "module proxy (" + dir + ")", cleanup: func() {}}, nil
	}
	if ctx.Err() != nil {
		return ccmSrc{}, ctx.Err()
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "testbin:   module proxy: %v\n", proxyErr)
	}
	archive, err := findArchive(repoRoot)
	if err != nil {
		return ccmSrc{}, err
	}
	if archive == "" {
		return ccmSrc{}, fmt.Errorf("%w: the module proxy does not serve %s@%s, $%s is unset and %s is in none of %s",
			errNoCCMSource, testbin.CCMModule, testbin.CCMVersion, testbin.EnvCCMSource, testbin.CCMArchive,
			strings.Join(archiveDirs(repoRoot), ", "))
	}
	return extractArchive(archive, root)
}

// downloadModule fetches the CCM module into the module cache and returns
// its directory. Only the first GOPROXY entry is asked: a refusal (403 here)
// must not turn into a fallback to direct VCS access.
func downloadModule(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", testbin.CCMModule+"@"+testbin.CCMVersion)
	cmd.Dir = os.TempDir() // outside any module
	cmd.Env = append(buildEnv(), "GOPROXY="+firstProxy(ctx))
	out, runErr := cmd.Output()
	var m struct{ Dir, Error string }
	_ = json.Unmarshal(out, &m)
	switch {
	case runErr == nil && m.Dir != "":
		return m.Dir, nil
	case m.Error != "":
		return "", errors.New(m.Error)
	case runErr != nil:
		return "", fmt.Errorf("go mod download: %w", runErr)
	}
	return "", errors.New("go mod download: no module directory in its output")
}

// firstProxy is the first entry of the go command's GOPROXY list.
func firstProxy(ctx context.Context) string {
	cmd := exec.CommandContext(ctx, "go", "env", "GOPROXY")
	cmd.Env = buildEnv()
	out, err := cmd.Output()
	if err != nil {
		return "off"
	}
	p := strings.TrimSpace(string(out))
	if i := strings.IndexAny(p, ",|"); i >= 0 {
		p = p[:i]
	}
	return p
}

func archiveDirs(repoRoot string) []string { return testbin.CCMArchiveDirs(repoRoot) }

func findArchive(repoRoot string) (string, error) { return testbin.FindCCMArchive(repoRoot) }

// extractArchive verifies the archive's SHA-256 and unpacks it into a
// temporary directory below root, returning the module root inside it.
func extractArchive(archive, root string) (ccmSrc, error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return ccmSrc{}, err
	}
	if err := verifySHA256(data, testbin.CCMArchiveSHA256); err != nil {
		return ccmSrc{}, fmt.Errorf("refusing %s: %w", archive, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return ccmSrc{}, err
	}
	tmp, err := os.MkdirTemp(root, ".src-"+testbin.CCM+"-")
	if err != nil {
		return ccmSrc{}, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := untarGz(data, tmp); err != nil {
		cleanup()
		return ccmSrc{}, fmt.Errorf("extracting %s: %w", archive, err)
	}
	dir, err := moduleRoot(tmp, testbin.CCMModule)
	if err != nil {
		cleanup()
		return ccmSrc{}, fmt.Errorf("%s: %w", archive, err)
	}
	return ccmSrc{dir: dir, origin: archive + " (sha256 verified)", cleanup: cleanup}, nil
}

func verifySHA256(data []byte, want string) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("sha256 is %s, want %s", got, want)
	}
	return nil
}

// untarGz unpacks regular files and directories into dest. Entries that
// would land outside dest, links and special files are refused or skipped:
// the archive only needs to yield a Go source tree.
func untarGz(data []byte, dest string) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q leaves the extraction directory", h.Name)
		}
		path := filepath.Join(dest, name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			err = writeFile(path, tr, h.FileInfo().Mode().Perm())
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// moduleRoot finds the directory, dir itself or one level below (archives
// usually wrap the tree in <name>-<version>/), whose go.mod declares module.
func moduleRoot(dir, module string) (string, error) {
	candidates := []string{dir}
	if des, err := os.ReadDir(dir); err == nil {
		for _, de := range des {
			if de.IsDir() {
				candidates = append(candidates, filepath.Join(dir, de.Name()))
			}
		}
	}
	for _, c := range candidates {
		data, err := os.ReadFile(filepath.Join(c, "go.mod"))
		if err == nil && declaresModule(data, module) {
			return c, nil
		}
	}
	return "", fmt.Errorf("no go.mod declaring module %s at the top or one level down", module)
}

func declaresModule(goMod []byte, module string) bool {
	for _, line := range strings.Split(string(goMod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == module {
			return true
		}
	}
	return false
}
