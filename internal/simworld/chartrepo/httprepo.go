package chartrepo

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/yaml"
)

// httpRepo is a classic Helm chart repository: index.yaml listing every
// archive by a URL relative to the repository, and the archives.
type httpRepo struct {
	prefix   string // "/charts"
	index    []byte
	archives map[string][]byte // file name → archive
}

func newHTTPRepo(archives []Archive, prefix string) (*httpRepo, error) {
	h := &httpRepo{prefix: prefix, archives: map[string][]byte{}}
	entries := map[string][]map[string]any{}
	for _, a := range archives {
		c, err := loader.LoadArchive(bytes.NewReader(a.Data))
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", a.FileName(), err)
		}
		md := c.Metadata
		// The fields of an index entry are the chart's metadata plus
		// where to get it and its digest, as helm repo index writes them.
		e := map[string]any{
			"apiVersion": md.APIVersion, "name": md.Name, "version": md.Version,
			"appVersion": md.AppVersion, "description": md.Description, "type": md.Type,
			"kubeVersion": md.KubeVersion,
			"created":     modTime().Format(time.RFC3339),
			"digest":      a.Digest(),
			"urls":        []string{a.FileName()},
		}
		if len(md.Dependencies) > 0 {
			e["dependencies"] = md.Dependencies
		}
		entries[a.Name] = append(entries[a.Name], e)
		h.archives[a.FileName()] = a.Data
	}
	index, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1",
		"entries":    entries,
		"generated":  modTime().Format(time.RFC3339),
	})
	if err != nil {
		return nil, fmt.Errorf("chart repository index: %w", err)
	}
	h.index = index
	return h, nil
}

func (h *httpRepo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "read-only chart repository", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(req.URL.Path, h.prefix+"/")
	switch {
	case !ok:
		http.NotFound(w, req)
	case name == "index.yaml":
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write(h.index)
	case h.archives[name] != nil:
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(h.archives[name])
	default:
		http.NotFound(w, req)
	}
}
