package charts

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// maxManifestSize bounds a downloaded manifest (the Gateway API's
// experimental channel, the largest the module names, is about 1 MiB).
const maxManifestSize = 32 << 20

// FetchManifest downloads the manifest at rawURL (http or https) for addon,
// through the mirror and the cache, and parses it. With a mirror the
// manifest is looked up below it by host and path, so one mirror serves
// charts and manifests alike: <mirror>/manifests/<host>/<path> for an
// http(s) mirror or a directory, and the same path over HTTPS (HTTP on
// loopback) on the host of an oci:// mirror. As for charts, the sha256 of
// the first download is recorded and a later download that differs is
// refused.
func (f *Fetcher) FetchManifest(ctx context.Context, addon, rawURL string) ([]*unstructured.Unstructured, error) {
	fail := func(format string, args ...any) error {
		return &Error{Addon: addon, URL: rawURL, Err: fmt.Errorf(format, args...)}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fail("not an http(s) URL")
	}
	key, err := cacheKey(u.Host, u.Path)
	if err != nil {
		return nil, fail("%w", err)
	}
	path := filepath.Join(f.cacheDir, "manifests", key)
	entry := cacheEntry{archive: path, digest: path + ".sha256"}
	recorded, err := entry.recordedDigest()
	if err != nil {
		return nil, fail("%w", err)
	}
	data, err := entry.cached()
	if err != nil {
		return nil, fail("%w", err)
	}
	from := "cache " + path
	if data == nil || recorded == "" {
		if data, from, err = f.downloadManifest(ctx, u); err != nil {
			return nil, fail("%w", err)
		}
	}
	got := sha256Hex(data)
	if recorded != "" && got != recorded {
		return nil, fail("%w", entry.mismatch(from, recorded, got))
	}
	objs, err := parseObjects(data, from)
	if err != nil {
		return nil, fail("%w: %w", ErrInvalidArchive, err)
	}
	if recorded == "" {
		if err := entry.store(data, recorded); err != nil {
			return nil, fail("cache: %w", err)
		}
	}
	return objs, nil
}

// downloadManifest reads u, or its place in the mirror.
func (f *Fetcher) downloadManifest(ctx context.Context, u *url.URL) (data []byte, from string, err error) {
	where := "manifests/" + u.Host + u.Path
	location := u.String()
	if f.mirror != "" {
		m, err := url.Parse(f.mirror)
		if err != nil {
			return nil, "", fmt.Errorf("chart mirror %q: %w", f.mirror, err)
		}
		switch m.Scheme {
		case "http", "https":
			location = strings.TrimSuffix(f.mirror, "/") + "/" + where
		case "oci":
			scheme := "https"
			if isLoopbackHost(m.Host) {
				scheme = "http"
			}
			location = scheme + "://" + m.Host + strings.TrimSuffix(m.Path, "/") + "/" + where
		default:
			dir := f.mirror
			if m.Scheme == "file" {
				dir = filepath.FromSlash(m.Path)
			}
			p := filepath.Join(dir, filepath.FromSlash(where))
			b, err := os.ReadFile(p)
			if os.IsNotExist(err) {
				return nil, "", fmt.Errorf("%w: mirror directory has no %s", ErrNotFound, p)
			}
			return b, "mirror " + p, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, http.NoBody)
	if err != nil {
		return nil, "", err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%w: GET %s: %w", ErrUnreachable, location, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", fmt.Errorf("%w: GET %s: 404", ErrNotFound, location)
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("%w: GET %s: %s", ErrUnreachable, location, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("%w: GET %s: %w", ErrUnreachable, location, err)
	}
	if len(b) > maxManifestSize {
		return nil, "", fmt.Errorf("GET %s: larger than %d bytes", location, maxManifestSize)
	}
	return b, "GET " + location, nil
}
