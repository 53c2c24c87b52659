// Package imagetest provides a loopback fake of the Talos Image Factory for
// tests of the image builder.
package imagetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
)

// Factory is a fake Image Factory on 127.0.0.1. It implements image.Factory
// with the real client (image.FactoryClient) pointed at itself, so tests
// exercise the production HTTP code without leaving loopback.
//
//	POST /schematics                               → {"id": Schematic.ID()}
//	GET  /image/<schematic>/<version>/hcloud-<arch>.raw.xz → EncodeXZ(DiskImage(…))
//
// Schematic IDs are derived like the real factory's: the SHA-256 of the
// schematic's YAML (image.Schematic.ID). Images are served only for
// registered schematics.
type Factory struct {
	client *image.FactoryClient
	srv    *httptest.Server

	mu         sync.Mutex
	schematics map[string]bool
	downloads  map[string]int // path → count
}

// NewFactory starts a fake factory and stops it when the test ends.
func NewFactory(t testing.TB) *Factory {
	t.Helper()
	f := StartFactory()
	t.Cleanup(f.Close)
	return f
}

// StartFactory starts a fake factory outside a test (the local demo); Close stops it.
func StartFactory() *Factory {
	f := &Factory{schematics: map[string]bool{}, downloads: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.client = &image.FactoryClient{BaseURL: f.srv.URL, HTTPClient: f.srv.Client()}
	return f
}

// Close stops the fake factory.
func (f *Factory) Close() { f.srv.Close() }

// URL is the factory's base URL (http://127.0.0.1:port).
func (f *Factory) URL() string { return f.srv.URL }

// Schematic registers s with the fake over HTTP.
func (f *Factory) Schematic(ctx context.Context, s image.Schematic) (string, error) {
	return f.client.Schematic(ctx, s)
}

// DiskImageURL is the fake's URL of the hcloud disk image.
func (f *Factory) DiskImageURL(schematicID, talosVersion, arch string) string {
	return f.client.DiskImageURL(schematicID, talosVersion, arch)
}

// Register makes a schematic ID known without POSTing it, like a schematic
// someone else created (talos.schematicID).
func (f *Factory) Register(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.schematics[id] = true
}

// Downloads returns how often each disk image path was fetched.
func (f *Factory) Downloads() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.downloads))
	for k, v := range f.downloads {
		out[k] = v
	}
	return out
}

var imagePath = regexp.MustCompile(`^/image/([0-9a-f]{64})/(v[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*)/hcloud-(amd64|arm64)\.raw\.xz$`)

func (f *Factory) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/schematics":
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var s image.Schematic
		if err == nil {
			err = yaml.Unmarshal(body, &s)
		}
		if err != nil {
			http.Error(w, "invalid schematic: "+err.Error(), http.StatusBadRequest)
			return
		}
		id := s.ID()
		f.Register(id)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	case r.Method == http.MethodGet:
		m := imagePath.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		known := f.schematics[m[1]]
		if known {
			f.downloads[r.URL.Path]++
		}
		f.mu.Unlock()
		if !known {
			http.Error(w, "schematic not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-xz")
		_, _ = w.Write(EncodeXZ(DiskImage(m[1], m[2], m[3])))
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// diskMagic starts every fake disk image.
const diskMagic = "HCLOUD-K8S FAKE TALOS DISK IMAGE v1"

// DiskImageInfo is what a fake disk image says about itself.
type DiskImageInfo struct {
	Platform     string // hcloud
	Arch         string // amd64 or arm64
	TalosVersion string
	SchematicID  string
}

// String reads like "Talos v1.13.9 hcloud-amd64 schematic 376567988ad3…".
func (i DiskImageInfo) String() string {
	return fmt.Sprintf("Talos %s %s-%s schematic %s", i.TalosVersion, i.Platform, i.Arch, i.SchematicID)
}

// DiskImage is the uncompressed content of the fake hcloud disk image: a
// text header naming schematic, version and architecture, padded with
// deterministic filler to 4 KiB so it looks like a (tiny) disk.
func DiskImage(schematicID, talosVersion, arch string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nplatform: hcloud\narch: %s\ntalos_version: %s\nschematic: %s\n\n", diskMagic, arch, talosVersion, schematicID)
	seed := sha256.Sum256(b.Bytes())
	for i := 0; b.Len() < 4096; i++ {
		sum := sha256.Sum256(append(seed[:], byte(i), byte(i>>8)))
		fmt.Fprintf(&b, "%x\n", sum)
	}
	return b.Bytes()[:4096]
}

// ParseDiskImage reads the header of a fake disk image (e.g. a simulated
// server's disk content); ok is false for anything else.
func ParseDiskImage(content []byte) (info DiskImageInfo, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	if !sc.Scan() || sc.Text() != diskMagic {
		return info, false
	}
	for sc.Scan() && sc.Text() != "" {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		switch k {
		case "platform":
			info.Platform = v
		case "arch":
			info.Arch = v
		case "talos_version":
			info.TalosVersion = v
		case "schematic":
			info.SchematicID = v
		}
	}
	return info, info.Arch != "" && info.TalosVersion != "" && info.SchematicID != ""
}
