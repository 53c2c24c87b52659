package charts

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A repository or registry that never answers holds Fetch only until its
// context ends, Helm's context-less registry client included.
func TestFetchStopsWhenContextEnds(t *testing.T) {
	for _, kind := range []string{"http", "oci"} {
		t.Run(kind, func(t *testing.T) {
			arrived := make(chan struct{})
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				once.Do(func() { close(arrived) })
				<-r.Context().Done()
			}))
			t.Cleanup(srv.Close)
			repository := kind + "://" + strings.TrimPrefix(srv.URL, "http://") + "/charts"

			f, _ := newTestFetcher(t, "")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { <-arrived; cancel() }()
			_, err := f.Fetch(ctx, Ref{Addon: "demo-addon", Repository: repository, Name: "demo", Version: "1.2.3"})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want it to end with the context", err)
			}
		})
	}
}

func TestCacheEntryRefusesPathsOutsideTheCache(t *testing.T) {
	for _, tc := range []struct{ name, version string }{
		{"../demo", "1.0.0"}, {"demo", "../1.0.0"}, {"", "1.0.0"}, {"demo", ""}, {"..", "1"}, {`a\b`, "1"},
	} {
		if _, err := newCacheEntry(t.TempDir(), "host", tc.name, tc.version); err == nil {
			t.Errorf("name %q version %q accepted", tc.name, tc.version)
		}
	}
	if _, err := cacheKey("host", "/a/../../b"); err == nil {
		t.Error("a repository path with .. was accepted")
	}
}
