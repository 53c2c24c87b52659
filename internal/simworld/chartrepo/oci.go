package chartrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/registry"
)

// ociRegistry is the read-only part of the OCI distribution API that Helm's
// registry client pulls a chart with: the /v2/ ping, manifests by tag or
// digest (GET and HEAD), blobs, and tag lists. Each chart is the repository
// <namespace>/<name>, each version a tag, laid out as helm push lays it
// out: a config blob of the chart's metadata and one chart layer.
type ociRegistry struct {
	repos     map[string]map[string]string // repository → tag → manifest digest
	manifests map[string][]byte            // digest → manifest
	blobs     map[string][]byte            // digest → content
}

func newRegistry(archives []Archive, namespace string) (*ociRegistry, error) {
	r := &ociRegistry{repos: map[string]map[string]string{}, manifests: map[string][]byte{}, blobs: map[string][]byte{}}
	for _, a := range archives {
		config, err := json.Marshal(map[string]string{"apiVersion": "v2", "name": a.Name, "version": a.Version})
		if err != nil {
			return nil, err
		}
		manifest, err := json.Marshal(ociManifest{
			SchemaVersion: 2,
			MediaType:     "application/vnd.oci.image.manifest.v1+json",
			Config:        descriptorOf(registry.ConfigMediaType, config),
			Layers:        []ociDescriptor{descriptorOf(registry.ChartLayerMediaType, a.Data)},
			Annotations: map[string]string{
				"org.opencontainers.image.title":   a.Name,
				"org.opencontainers.image.version": a.Version,
				"org.opencontainers.image.created": modTime().Format(time.RFC3339),
			},
		})
		if err != nil {
			return nil, fmt.Errorf("manifest of %s: %w", a.FileName(), err)
		}
		r.blobs[digestOf(config)] = config
		r.blobs[digestOf(a.Data)] = a.Data
		r.manifests[digestOf(manifest)] = manifest
		repo := namespace + "/" + a.Name
		if r.repos[repo] == nil {
			r.repos[repo] = map[string]string{}
		}
		// A tag cannot hold "+": helm push writes a semver build as "_".
		r.repos[repo][strings.ReplaceAll(a.Version, "+", "_")] = digestOf(manifest)
	}
	return r, nil
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        ociDescriptor     `json:"config"`
	Layers        []ociDescriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func descriptorOf(mediaType string, b []byte) ociDescriptor {
	return ociDescriptor{MediaType: mediaType, Digest: digestOf(b), Size: len(b)}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (r *ociRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		ociError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "this registry is read-only")
		return
	}
	rest := strings.TrimPrefix(req.URL.Path, "/v2/")
	switch {
	case rest == "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	case strings.HasSuffix(rest, "/tags/list"):
		r.tags(w, req, strings.TrimSuffix(rest, "/tags/list"))
	case strings.Contains(rest, "/manifests/"):
		i := strings.LastIndex(rest, "/manifests/")
		r.manifest(w, req, rest[:i], rest[i+len("/manifests/"):])
	case strings.Contains(rest, "/blobs/"):
		i := strings.LastIndex(rest, "/blobs/")
		r.blob(w, req, rest[:i], rest[i+len("/blobs/"):])
	default:
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "no such endpoint")
	}
}

// tags lists a repository's tags, sorted, honouring the n and last
// pagination parameters of the distribution API.
func (r *ociRegistry) tags(w http.ResponseWriter, req *http.Request, repo string) {
	tags, ok := r.repos[repo]
	if !ok {
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository "+repo+" is not known")
		return
	}
	list := make([]string, 0, len(tags))
	for t := range tags {
		list = append(list, t)
	}
	slices.Sort(list)
	if last := req.URL.Query().Get("last"); last != "" {
		i, _ := slices.BinarySearch(list, last)
		for i < len(list) && list[i] <= last {
			i++
		}
		list = list[i:]
	}
	if n, err := strconv.Atoi(req.URL.Query().Get("n")); err == nil && n >= 0 && n < len(list) {
		list = list[:n]
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": list})
}

func (r *ociRegistry) manifest(w http.ResponseWriter, req *http.Request, repo, ref string) {
	tags, ok := r.repos[repo]
	if !ok {
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository "+repo+" is not known")
		return
	}
	digest := ref
	if !strings.HasPrefix(ref, "sha256:") {
		digest = tags[ref]
	} else if !slices.Contains(valuesOf(tags), ref) {
		digest = ""
	}
	m, ok := r.manifests[digest]
	if !ok {
		ociError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "no manifest "+ref+" in "+repo)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	writeContent(w, req, digest, m)
}

func (r *ociRegistry) blob(w http.ResponseWriter, req *http.Request, repo, digest string) {
	if _, ok := r.repos[repo]; !ok {
		ociError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository "+repo+" is not known")
		return
	}
	b, ok := r.blobs[digest]
	if !ok {
		ociError(w, http.StatusNotFound, "BLOB_UNKNOWN", "no blob "+digest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	writeContent(w, req, digest, b)
}

// writeContent answers with content addressed by digest; a HEAD gets the
// headers only, which is how clients resolve a tag.
func writeContent(w http.ResponseWriter, req *http.Request, digest string, b []byte) {
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if req.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

func valuesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func ociError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]string{"code": code, "message": msg}}})
}
