package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultFactoryURL is the public Talos Image Factory.
const DefaultFactoryURL = "https://factory.talos.dev"

// Factory is the part of the Talos Image Factory the builder uses: register
// a schematic, and the URL of the hcloud disk image for a schematic.
type Factory interface {
	// Schematic registers s (idempotently) and returns its ID.
	Schematic(ctx context.Context, s Schematic) (id string, err error)
	// DiskImageURL is the hcloud-<arch>.raw.xz disk image of a schematic
	// and Talos version.
	DiskImageURL(schematicID, talosVersion, arch string) string
}

// FactoryClient talks to an Image Factory over HTTP.
type FactoryClient struct {
	// BaseURL is the factory's base URL without a trailing slash; empty
	// means DefaultFactoryURL.
	BaseURL string
	// HTTPClient carries the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
}

// factoryTimeout bounds one schematic request.
const factoryTimeout = 30 * time.Second

func (f *FactoryClient) base() string {
	if f.BaseURL == "" {
		return DefaultFactoryURL
	}
	return strings.TrimRight(f.BaseURL, "/")
}

// Schematic POSTs the schematic's YAML to /schematics and returns the ID the
// factory answers with.
func (f *FactoryClient) Schematic(ctx context.Context, s Schematic) (string, error) {
	body, err := yaml.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("image factory: encode schematic: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, factoryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base()+"/schematics", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("image factory: %w", err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	hc := f.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: factoryTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("image factory: create schematic: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("image factory: create schematic: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("image factory: create schematic: %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || !validSchematicID(out.ID) {
		return "", fmt.Errorf("image factory: create schematic: unexpected response %q", strings.TrimSpace(string(data)))
	}
	return out.ID, nil
}

// DiskImageURL is <base>/image/<schematic>/<version>/hcloud-<arch>.raw.xz.
func (f *FactoryClient) DiskImageURL(schematicID, talosVersion, arch string) string {
	return fmt.Sprintf("%s/image/%s/%s/hcloud-%s.raw.xz", f.base(), schematicID, talosVersion, arch)
}

// validSchematicID reports whether id is 64 lower-case hex digits.
func validSchematicID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
