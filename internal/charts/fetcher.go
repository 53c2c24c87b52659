package charts

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Options configure a Fetcher.
type Options struct {
	// CacheDir is the cache root; "" is DefaultCacheDir().
	CacheDir string
	// Mirror, if set, replaces every chart's repository: an http(s)://
	// chart repository, an oci:// registry, or a directory (a path or a
	// file:// URL) of <name>-<version>.tgz files. See MirrorFrom.
	Mirror string
	// Transport carries every HTTP request, to chart repositories and OCI
	// registries alike; nil is a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each request; 0 is two minutes.
	Timeout time.Duration
	// RegistryConfig is the OCI registry credentials file; "" is Helm's
	// default, which falls back to Docker's.
	RegistryConfig string
}

// Fetcher fetches chart archives through its cache.
type Fetcher struct {
	cacheDir       string
	mirror         string
	client         *http.Client
	registryConfig string
}

// NewFetcher checks o and fills in its defaults.
func NewFetcher(o Options) (*Fetcher, error) {
	f := &Fetcher{cacheDir: o.CacheDir, mirror: o.Mirror, registryConfig: o.RegistryConfig}
	if f.cacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		f.cacheDir = dir
	}
	transport := o.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	f.client = &http.Client{Transport: transport, Timeout: timeout}
	if f.mirror != "" {
		// A malformed mirror is refused now rather than at the first chart.
		if _, err := f.newSource(f.mirror, true); err != nil {
			return nil, fmt.Errorf("chart mirror: %w", err)
		}
	}
	return f, nil
}

// Chart is a fetched chart archive.
type Chart struct {
	Ref Ref
	// Archive is the .tgz as served.
	Archive []byte
	// Digest is the archive's sha256, hex.
	Digest string
	// Path is the cached archive.
	Path string
	// Source says where the archive came from: the source it was
	// downloaded from, or the cache.
	Source string
}

// Fetch returns the archive of ref: the cached one if its digest still
// matches the record, otherwise downloaded from the mirror or, without one,
// from ref's repository, checked to be the chart asked for, and cached.
func (f *Fetcher) Fetch(ctx context.Context, ref Ref) (*Chart, error) {
	location, mirrored := ref.Repository, false
	if f.mirror != "" {
		location, mirrored = f.mirror, true
	}
	src, err := f.newSource(location, mirrored)
	if err != nil {
		return nil, ref.errorf("%w", err)
	}
	entry, err := newCacheEntry(f.cacheDir, src.cacheKey(), ref.Name, ref.Version)
	if err != nil {
		return nil, ref.errorf("%w", err)
	}
	recorded, err := entry.recordedDigest()
	if err != nil {
		return nil, ref.errorf("%w", err)
	}
	if recorded != "" {
		data, err := entry.cached()
		if err != nil {
			return nil, ref.errorf("%w", err)
		}
		if data != nil {
			if got := sha256Hex(data); got != recorded {
				return nil, ref.errorf("%w", entry.mismatch("cached archive "+entry.archive, recorded, got))
			}
			return &Chart{Ref: ref, Archive: data, Digest: recorded, Path: entry.archive, Source: "cache " + entry.archive}, nil
		}
	}

	if err := ctx.Err(); err != nil {
		return nil, ref.errorf("fetch from %s: %w", src, err)
	}
	data, err := src.fetch(ctx, ref.Name, ref.Version)
	if err != nil {
		return nil, ref.errorf("fetch from %s: %w", src, err)
	}
	if err := checkArchive(data, ref); err != nil {
		return nil, ref.errorf("fetch from %s: %w", src, err)
	}
	got := sha256Hex(data)
	if recorded != "" && got != recorded {
		return nil, ref.errorf("%w", entry.mismatch("the archive downloaded from "+src.String(), recorded, got))
	}
	if err := entry.store(data, recorded); err != nil {
		return nil, ref.errorf("cache: %w", err)
	}
	return &Chart{Ref: ref, Archive: data, Digest: got, Path: entry.archive, Source: src.String()}, nil
}

// checkArchive makes sure data is the chart asked for, so that a mirror
// serving something else under the name is caught before it is cached.
func checkArchive(data []byte, ref Ref) error {
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArchive, err)
	}
	if c.Metadata.Name != ref.Name || c.Metadata.Version != ref.Version {
		return fmt.Errorf("%w: the archive served for it is chart %s version %s", ErrNotFound, c.Metadata.Name, c.Metadata.Version)
	}
	return nil
}
