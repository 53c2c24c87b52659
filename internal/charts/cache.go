package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCacheDir is where archives are cached unless Options.CacheDir says
// otherwise: <user cache dir>/hcloud-k8s/charts.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache directory: %w", err)
	}
	return filepath.Join(dir, "hcloud-k8s", "charts"), nil
}

// cacheEntry is where one chart version is cached. The key is the source
// the archive is downloaded from (the mirror when there is one), not the
// chart's own repository: a mirror may repackage a chart, and its archive
// must not be held to the digest of the upstream one.
type cacheEntry struct {
	archive string // <root>/<key>/<name>-<version>.tgz
	digest  string // archive + ".sha256": "<hex>  <file name>\n", as sha256sum writes it
}

func newCacheEntry(root, key, name, version string) (cacheEntry, error) {
	for _, s := range []string{name, version} {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\:`) {
			return cacheEntry{}, fmt.Errorf("chart name %q and version %q must be non-empty and contain no path separators", name, version)
		}
	}
	archive := filepath.Join(root, key, name+"-"+version+".tgz")
	return cacheEntry{archive: archive, digest: archive + ".sha256"}, nil
}

// cacheKey turns a source location into a relative cache directory: the
// host (its port after an underscore, since a colon is not allowed in a
// Windows file name) and then the path, each element checked.
func cacheKey(host, path string) (string, error) {
	parts := []string{strings.ReplaceAll(host, ":", "_")}
	for _, p := range strings.Split(filepath.ToSlash(path), "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%q: path must not contain ..", path)
		}
		parts = append(parts, strings.ReplaceAll(p, ":", "_"))
	}
	return filepath.Join(parts...), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// recordedDigest returns the digest recorded at first download, "" if none.
func (e cacheEntry) recordedDigest() (string, error) {
	b, err := os.ReadFile(e.digest)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read chart digest: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 || len(fields[0]) != sha256.Size*2 {
		return "", fmt.Errorf("chart digest file %s is malformed; remove it and %s to download the chart again", e.digest, e.archive)
	}
	return fields[0], nil
}

// cached returns the cached archive, nil if there is none.
func (e cacheEntry) cached() ([]byte, error) {
	b, err := os.ReadFile(e.archive)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cached chart: %w", err)
	}
	return b, nil
}

// mismatch is the refusal of an archive that is not the one first recorded.
func (e cacheEntry) mismatch(what, recorded, got string) error {
	return fmt.Errorf("%w: %s has sha256 %s, but %s recorded sha256 %s at first download; "+
		"if the change is expected, remove %s and %s to download it again",
		ErrDigestMismatch, what, got, e.digest, recorded, e.archive, e.digest)
}

// store records data's digest (if none is recorded yet) and then writes the
// archive. The digest goes first so that an interrupted store leaves a
// digest the next download is checked against, never an unrecorded archive.
func (e cacheEntry) store(data []byte, recorded string) error {
	if err := os.MkdirAll(filepath.Dir(e.archive), 0o755); err != nil {
		return fmt.Errorf("create chart cache directory: %w", err)
	}
	sum := sha256Hex(data)
	if recorded == "" {
		line := sum + "  " + filepath.Base(e.archive) + "\n"
		if err := writeAtomic(e.digest, []byte(line)); err != nil {
			return err
		}
	}
	return writeAtomic(e.archive, data)
}

// writeAtomic writes through a temporary file in the same directory and a
// rename, so a reader (another hcloud-k8s running) never sees half a file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
