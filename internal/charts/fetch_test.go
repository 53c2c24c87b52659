package charts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wantError checks that err is an *Error matching sentinel whose message
// names the addon, the chart as repository/name@version and each of more.
func wantError(t *testing.T, err, sentinel error, ref Ref, more ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q is not %v", err, sentinel)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not an *Error", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, s := range append([]string{"addon " + ref.Addon, ref.String()}, more...) {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not say %q", msg, s)
		}
	}
}

func TestFetchHTTPRepositoryCachesByDigest(t *testing.T) {
	repo := newChartRepo(t)
	rel, abs := demo(t, "1.2.3"), demo(t, "1.2.4")
	repo.add("demo", "1.2.3", "charts/demo-1.2.3.tgz", rel)
	repo.add("demo", "1.2.4", "abs/demo-1.2.4.tgz", abs)
	f, cache := newTestFetcher(t, "")
	ctx := context.Background()

	for _, tc := range []struct {
		version string
		want    []byte
	}{{"1.2.3", rel}, {"1.2.4", abs}} {
		ref := Ref{Addon: "demo-addon", Repository: repo.url(), Name: "demo", Version: tc.version}
		got, err := f.Fetch(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Archive, tc.want) {
			t.Fatalf("%s: archive differs from the one served", tc.version)
		}
		wantPath := filepath.Join(cache, strings.ReplaceAll(strings.TrimPrefix(repo.srv.URL, "http://"), ":", "_"), "repo", "demo-"+tc.version+".tgz")
		if got.Path != wantPath {
			t.Errorf("cached at %s, want %s", got.Path, wantPath)
		}
		record, err := os.ReadFile(wantPath + ".sha256")
		if err != nil {
			t.Fatal(err)
		}
		if want := digestOf(tc.want)[len("sha256:"):] + "  demo-" + tc.version + ".tgz\n"; string(record) != want {
			t.Errorf("digest record %q, want %q", record, want)
		}
		if got.Digest != digestOf(tc.want)[len("sha256:"):] {
			t.Errorf("digest %s, want that of the archive", got.Digest)
		}
	}

	before := repo.requests.total()
	again, err := f.Fetch(ctx, Ref{Repository: repo.url(), Name: "demo", Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if n := repo.requests.total() - before; n != 0 {
		t.Errorf("second fetch made %d requests, want none (cached)", n)
	}
	if !bytes.Equal(again.Archive, rel) || !strings.HasPrefix(again.Source, "cache ") {
		t.Errorf("second fetch: source %q, want the cache and the same archive", again.Source)
	}
}

func TestFetchOCIRegistry(t *testing.T) {
	reg := newTestRegistry(t)
	archive := demo(t, "1.2.3")
	reg.push(t, "charts", "demo", "1.2.3", archive)
	f, _ := newTestFetcher(t, "")
	ref := Ref{Addon: "demo-addon", Repository: reg.url("charts"), Name: "demo", Version: "1.2.3"}

	got, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Archive, archive) {
		t.Fatal("archive differs from the one pushed")
	}
	before := reg.requests.total()
	if before == 0 {
		t.Fatal("the registry saw no request")
	}
	if _, err := f.Fetch(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if n := reg.requests.total() - before; n != 0 {
		t.Errorf("second fetch made %d requests, want none (cached)", n)
	}
}

// A mirror replaces every chart's repository: the upstream (here the Talos
// CCM's real registry) is never dialled, which the loopback-only transport
// would report.
func TestFetchFromMirror(t *testing.T) {
	archive := demo(t, "1.2.3")
	upstream := Ref{Addon: "talos-ccm", Repository: "oci://ghcr.io/siderolabs/charts", Name: "demo", Version: "1.2.3"}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "demo-1.2.3.tgz"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	repo := newChartRepo(t)
	repo.add("demo", "1.2.3", "demo-1.2.3.tgz", archive)
	reg := newTestRegistry(t)
	reg.push(t, "mirror", "demo", "1.2.3", archive)

	for _, tc := range []struct{ kind, mirror string }{
		{"directory", dir},
		{"file URL", "file://" + filepath.ToSlash(dir)},
		{"HTTP repository", repo.url()},
		{"OCI registry", reg.url("mirror")},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			f, cache := newTestFetcher(t, tc.mirror)
			got, err := f.Fetch(context.Background(), upstream)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Archive, archive) {
				t.Fatal("archive differs from the mirror's")
			}
			if !strings.HasPrefix(got.Source, "mirror ") {
				t.Errorf("source %q does not say mirror", got.Source)
			}
			if strings.Contains(got.Path, "ghcr.io") || !strings.HasPrefix(got.Path, cache) {
				t.Errorf("cached at %s: want under the mirror's key in %s", got.Path, cache)
			}
		})
	}
}

func TestMirrorFromPrefersTheEnvironment(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := MirrorFrom("oci://file.example/charts", getenv); got != "oci://file.example/charts" {
		t.Errorf("without %s: %q, want the cluster file's", MirrorEnv, got)
	}
	env[MirrorEnv] = "/srv/charts"
	if got := MirrorFrom("oci://file.example/charts", getenv); got != "/srv/charts" {
		t.Errorf("with %s: %q, want the variable's", MirrorEnv, got)
	}
	if got := MirrorFrom("", func(string) string { return "" }); got != "" {
		t.Errorf("neither: %q, want none", got)
	}
}

// fetchedOnce serves demo 1.2.3 from a repository and fetches it once.
func fetchedOnce(t *testing.T) (*chartRepo, *Fetcher, Ref, *Chart) {
	t.Helper()
	repo := newChartRepo(t)
	repo.add("demo", "1.2.3", "demo-1.2.3.tgz", demo(t, "1.2.3"))
	f, _ := newTestFetcher(t, "")
	ref := Ref{Addon: "demo-addon", Repository: repo.url(), Name: "demo", Version: "1.2.3"}
	got, err := f.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return repo, f, ref, got
}

// changedDemo is demo 1.2.3 with one more file: the same version, another
// archive.
func changedDemo(t *testing.T) []byte {
	return pack(t, filepath.Join("testdata", "demo"), "1.2.3", map[string]string{"templates/extra.yaml": "# changed\n"})
}

func TestFetchRefusesTamperedCache(t *testing.T) {
	_, f, ref, got := fetchedOnce(t)
	tampered := changedDemo(t)
	if err := os.WriteFile(got.Path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.Fetch(context.Background(), ref)
	wantError(t, err, ErrDigestMismatch, ref, got.Path, got.Digest, digestOf(tampered)[len("sha256:"):], "remove")
}

// With the archive gone but its digest recorded, a new download must be
// the archive first recorded.
func TestFetchHoldsRedownloadToRecordedDigest(t *testing.T) {
	repo, f, ref, got := fetchedOnce(t)
	if err := os.Remove(got.Path); err != nil {
		t.Fatal(err)
	}
	repo.add("demo", "1.2.3", "demo-1.2.3.tgz", changedDemo(t))
	_, err := f.Fetch(context.Background(), ref)
	wantError(t, err, ErrDigestMismatch, ref, "downloaded from chart repository "+repo.url(), got.Digest)
}

func TestFetchMissingVersion(t *testing.T) {
	repo := newChartRepo(t)
	repo.add("demo", "1.2.3", "demo-1.2.3.tgz", demo(t, "1.2.3"))
	reg := newTestRegistry(t)
	reg.push(t, "charts", "demo", "1.2.3", demo(t, "1.2.3"))
	f, _ := newTestFetcher(t, "")

	for _, tc := range []struct{ kind, repository string }{
		{"HTTP repository", repo.url()},
		{"OCI registry", reg.url("charts")},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ref := Ref{Addon: "demo-addon", Repository: tc.repository, Name: "demo", Version: "9.9.9"}
			_, err := f.Fetch(context.Background(), ref)
			wantError(t, err, ErrNotFound, ref, "9.9.9", "versions there: 1.2.3")
		})
	}
}

func TestFetchUnreachableRepository(t *testing.T) {
	addr := closedPort(t)
	f, _ := newTestFetcher(t, "")
	for _, repository := range []string{"http://" + addr + "/charts", "oci://" + addr + "/charts"} {
		ref := Ref{Addon: "demo-addon", Repository: repository, Name: "demo", Version: "1.2.3"}
		_, err := f.Fetch(context.Background(), ref)
		wantError(t, err, ErrUnreachable, ref, addr)
	}
}

func TestFetchMirrorWithoutTheChart(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"demo-1.0.0.tgz", "demo-extra-2.0.0.tgz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("unused"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := newChartRepo(t)
	repo.add("other", "1.0.0", "other-1.0.0.tgz", demo(t, "1.0.0"))
	reg := newTestRegistry(t)
	reg.push(t, "mirror", "other", "1.0.0", demo(t, "1.0.0"))
	ref := Ref{Addon: "demo-addon", Repository: "https://charts.example.com", Name: "demo", Version: "1.2.3"}

	for _, tc := range []struct{ kind, mirror, says string }{
		{"directory", dir, "versions there: 1.0.0"},
		{"HTTP repository", repo.url(), "no version of this chart"},
		{"OCI registry", reg.url("mirror"), reg.url("mirror") + "/demo has no tag 1.2.3 (it has no version of this chart)"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			f, _ := newTestFetcher(t, tc.mirror)
			_, err := f.Fetch(context.Background(), ref)
			wantError(t, err, ErrNotFound, ref, "mirror ", tc.says)
		})
	}
}

// A mirror that serves another chart under the name is caught before the
// archive is cached.
func TestFetchRefusesArchiveOfAnotherChart(t *testing.T) {
	repo := newChartRepo(t)
	repo.add("demo", "1.2.3", "demo-1.2.3.tgz", demo(t, "1.2.4"))
	f, cache := newTestFetcher(t, repo.url())
	ref := Ref{Addon: "demo-addon", Repository: "https://charts.example.com", Name: "demo", Version: "1.2.3"}
	_, err := f.Fetch(context.Background(), ref)
	wantError(t, err, ErrNotFound, ref, "chart demo version 1.2.4")
	matches, _ := filepath.Glob(filepath.Join(cache, "*", "*", "*.tgz"))
	if len(matches) != 0 {
		t.Errorf("cached %v", matches)
	}
}

func TestNewFetcherRefusesMalformedMirror(t *testing.T) {
	if _, err := NewFetcher(Options{CacheDir: t.TempDir(), Mirror: "ftp://mirror.example/charts"}); err == nil {
		t.Error("an ftp:// mirror was accepted")
	}
}
