package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/registry"
	"sigs.k8s.io/yaml"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

// requests counts the requests a test server answered, by path.
type requests struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *requests) add(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[path]++
}

func (r *requests) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.n {
		n += c
	}
	return n
}

// chartRepo is a classic chart repository on loopback: index.yaml and
// the archives it lists. An archive at a path starting with "abs/" is
// listed by absolute URL, others relative to the repository.
type chartRepo struct {
	srv      *httptest.Server
	requests requests
	mu       sync.Mutex
	archives map[string][]byte // path under the repository → archive
	entries  map[string][]map[string]any
}

// newChartRepo serves a repository under /repo on 127.0.0.1.
func newChartRepo(t *testing.T) *chartRepo {
	r := &chartRepo{archives: map[string][]byte{}, entries: map[string][]map[string]any{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *chartRepo) url() string { return r.srv.URL + "/repo" }

// add lists name at version, served from path (relative to the repository).
func (r *chartRepo) add(name, version, path string, archive []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.archives[path] = archive
	u := path
	if strings.HasPrefix(path, "abs/") {
		u = r.url() + "/" + path
	}
	r.entries[name] = append(r.entries[name], map[string]any{
		"apiVersion": "v2", "name": name, "version": version, "urls": []string{u},
	})
}

func (r *chartRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.add(req.URL.Path)
	r.mu.Lock()
	defer r.mu.Unlock()
	path, ok := strings.CutPrefix(req.URL.Path, "/repo/")
	switch {
	case !ok:
		http.NotFound(w, req)
	case path == "index.yaml":
		b, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "entries": r.entries})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b)
	case r.archives[path] != nil:
		_, _ = w.Write(r.archives[path])
	default:
		http.NotFound(w, req)
	}
}

// testRegistry is the part of the OCI distribution API Helm's registry
// client uses to pull: manifests by tag or digest, blobs, tag lists.
type testRegistry struct {
	srv       *httptest.Server
	requests  requests
	mu        sync.Mutex
	blobs     map[string][]byte            // digest → content
	tags      map[string]map[string]string // repository → tag → manifest digest
	manifests map[string][]byte            // digest → manifest
}

func newTestRegistry(t *testing.T) *testRegistry {
	r := &testRegistry{blobs: map[string][]byte{}, tags: map[string]map[string]string{}, manifests: map[string][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// url is oci://127.0.0.1:port/path.
func (r *testRegistry) url(path string) string {
	return "oci://" + strings.TrimPrefix(r.srv.URL, "http://") + "/" + path
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// push stores archive as chart name at version in repository path/name,
// laid out as helm push does: a Helm config blob and one chart layer.
func (r *testRegistry) push(t *testing.T, path, name, version string, archive []byte) {
	t.Helper()
	config, err := json.Marshal(map[string]string{"apiVersion": "v2", "name": name, "version": version})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": registry.ConfigMediaType, "digest": digestOf(config), "size": len(config)},
		"layers": []any{
			map[string]any{"mediaType": registry.ChartLayerMediaType, "digest": digestOf(archive), "size": len(archive)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobs[digestOf(config)] = config
	r.blobs[digestOf(archive)] = archive
	r.manifests[digestOf(manifest)] = manifest
	repo := path + "/" + name
	if r.tags[repo] == nil {
		r.tags[repo] = map[string]string{}
	}
	r.tags[repo][strings.ReplaceAll(version, "+", "_")] = digestOf(manifest)
}

func (r *testRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.add(req.URL.Path)
	r.mu.Lock()
	defer r.mu.Unlock()
	rest, ok := strings.CutPrefix(req.URL.Path, "/v2/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	if rest == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if repo, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		tags, known := r.tags[repo]
		if !known {
			ociError(w, http.StatusNotFound, "NAME_UNKNOWN")
			return
		}
		list := []string{}
		for tag := range tags {
			list = append(list, tag)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": list})
		return
	}
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		repo, ref := rest[:i], rest[i+len("/manifests/"):]
		digest := ref
		if !strings.HasPrefix(ref, "sha256:") {
			digest = r.tags[repo][ref]
		}
		m, ok := r.manifests[digest]
		if !ok {
			ociError(w, http.StatusNotFound, "MANIFEST_UNKNOWN")
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", digest)
		w.Header().Set("Content-Length", fmt.Sprint(len(m)))
		if req.Method != http.MethodHead {
			_, _ = w.Write(m)
		}
		return
	}
	if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		b, ok := r.blobs[rest[i+len("/blobs/"):]]
		if !ok {
			ociError(w, http.StatusNotFound, "BLOB_UNKNOWN")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if req.Method != http.MethodHead {
			_, _ = w.Write(b)
		}
		return
	}
	http.NotFound(w, req)
}

func ociError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]string{"code": code, "message": code}}})
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// loopbackOnly is a transport that dials loopback addresses only, so that
// a test fails rather than reaches a real repository.
func loopbackOnly(t *testing.T) *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: simtest.LoopbackDialer(t)}
}

// newTestFetcher is a Fetcher with its own cache, dialling loopback only,
// and reading no credentials of the machine's user.
func newTestFetcher(t *testing.T, mirror string) (*Fetcher, string) {
	t.Helper()
	// Helm's registry client falls back to Docker's credentials.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	cache := t.TempDir()
	f, err := NewFetcher(Options{
		CacheDir:       cache,
		Mirror:         mirror,
		Transport:      loopbackOnly(t),
		RegistryConfig: filepath.Join(t.TempDir(), "registry.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, cache
}
