package charts

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"
)

// httpRepository is a classic Helm chart repository: an index.yaml that
// lists each version's archive URLs, relative to the repository or
// absolute.
//
// The requests are made here rather than with Helm's getter, which takes
// no context (a cancelled apply must not wait for a stalled repository),
// and the index is read into the few fields used here rather than Helm's
// pkg/repo/v1 types, whose package pulls Helm's plugin runtime and
// kubectl's libraries into the binary.
type httpRepository struct {
	what   string // "mirror " or ""
	base   string // without a trailing slash
	key    string
	client *http.Client
}

func (r *httpRepository) String() string   { return r.what + "chart repository " + r.base }
func (r *httpRepository) cacheKey() string { return r.key }

func (r *httpRepository) fetch(ctx context.Context, name, version string) ([]byte, error) {
	indexURL := r.base + "/index.yaml"
	body, status, err := r.get(ctx, indexURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s answered %d %s: not a chart repository", ErrUnreachable, indexURL, status, http.StatusText(status))
	}
	var index repoIndex
	if err := yaml.Unmarshal(body, &index); err != nil {
		return nil, fmt.Errorf("%w: %s is not a chart repository index: %w", ErrUnreachable, indexURL, err)
	}
	var have []string
	var found *indexEntry
	for i, cv := range index.Entries[name] {
		have = append(have, cv.Version)
		if cv.Version == version {
			found = &index.Entries[name][i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %s lists no version %s of %s (%s)", ErrNotFound, indexURL, version, name, versionList(have))
	}
	if len(found.URLs) == 0 {
		return nil, fmt.Errorf("%w: %s lists %s %s without a download URL", ErrNotFound, indexURL, name, version)
	}
	chartURL, err := resolveChartURL(r.base, found.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: chart URL %q: %w", ErrNotFound, indexURL, found.URLs[0], err)
	}
	body, status, err = r.get(ctx, chartURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s lists %s %s at %s: %w", ErrUnreachable, indexURL, name, version, chartURL, err)
	}
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return nil, fmt.Errorf("%w: %s lists %s %s at %s, which answered %d %s", ErrNotFound, indexURL, name, version, chartURL, status, http.StatusText(status))
	case status != http.StatusOK:
		return nil, fmt.Errorf("%w: %s lists %s %s at %s, which answered %d %s", ErrUnreachable, indexURL, name, version, chartURL, status, http.StatusText(status))
	}
	return body, nil
}

// get returns the body and status of a GET; the body only for 200.
func (r *httpRepository) get(ctx context.Context, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	return b, resp.StatusCode, nil
}

// repoIndex is the part of a chart repository's index.yaml read here.
type repoIndex struct {
	Entries map[string][]indexEntry `json:"entries"`
}

type indexEntry struct {
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
}

// resolveChartURL resolves an index's chart URL as Helm does: an absolute
// one as it is, a relative one against the repository taken as a
// directory (charts/x.tgz under https://host/path is
// https://host/path/charts/x.tgz), keeping the repository's query.
func resolveChartURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	b.RawPath = ""
	u := b.ResolveReference(r)
	u.RawQuery = b.RawQuery
	return u.String(), nil
}
