package charts

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// source is one place charts are fetched from.
type source interface {
	// fetch returns the archive of chart name at version. Its errors wrap
	// ErrNotFound or ErrUnreachable and say what was asked where; the
	// caller adds the chart.
	fetch(ctx context.Context, name, version string) ([]byte, error)
	// cacheKey is the cache directory of the source's archives, relative
	// to the cache root.
	cacheKey() string
	// String is where the source is, for error messages.
	String() string
}

// newSource picks the kind of source from the location's form: oci:// is an
// OCI registry, http(s):// a chart repository with an index.yaml, file://
// or a bare path a directory of <name>-<version>.tgz files. mirror only
// changes how the source names itself in errors.
func (f *Fetcher) newSource(location string, mirror bool) (source, error) {
	what := ""
	if mirror {
		what = "mirror "
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("chart source %q: %w", location, err)
	}
	switch u.Scheme {
	case "oci", "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("chart source %q has no host", location)
		}
		key, err := cacheKey(u.Host, u.Path)
		if err != nil {
			return nil, fmt.Errorf("chart source %w", err)
		}
		if u.Scheme == "oci" {
			return &ociRegistry{what: what, base: u.Host + strings.TrimSuffix(u.Path, "/"), key: key, f: f}, nil
		}
		return &httpRepository{what: what, base: strings.TrimSuffix(location, "/"), key: key, client: f.client}, nil
	case "file", "":
		dir := location
		if u.Scheme == "file" {
			dir = filepath.FromSlash(u.Path)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("chart source %q: %w", location, err)
		}
		// Under "_dir", which no host name can be (a host name has no
		// underscore), followed by the directory's absolute path.
		key, err := cacheKey("_dir", abs)
		if err != nil {
			return nil, fmt.Errorf("chart source %w", err)
		}
		return localDir{what: what, dir: abs, key: key}, nil
	}
	return nil, fmt.Errorf("chart source %q: scheme %q is none of oci, https, http, file", location, u.Scheme)
}
