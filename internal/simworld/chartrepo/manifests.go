package chartrepo

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The manifests the cluster file names by URL (the CRD bundles of crds.*),
// below manifests/<host>/<path> as internal/charts looks them up in a mirror.
// Ours, with the upstream CRDs' names, groups, kinds and versions.
//
//go:embed manifests
var manifests embed.FS

const manifestsDir = "manifests"

// serveManifests answers GET <prefix>/manifests/<host>/<path>.
func serveManifests(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rest, ok := strings.CutPrefix(req.URL.Path, prefix+"/"+manifestsDir+"/")
		if !ok || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
			http.NotFound(w, req)
			return
		}
		b, err := manifests.ReadFile(path.Join(manifestsDir, path.Clean("/" + rest)[1:]))
		if err != nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(b)
	})
}

// WriteManifests copies the manifests below dir/manifests, the layout of a
// directory mirror (WriteDir writes them too).
func WriteManifests(dir string) error {
	return fs.WalkDir(manifests, manifestsDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := manifests.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("manifest directory: %w", err)
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
