package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// pack makes a chart archive of the chart directory dir, as helm package
// would lay it out (every file under <name>/), with its version set to
// version and the extra files added (path relative to the chart). The
// archive's bytes depend only on its input, so that digests are stable.
func pack(t *testing.T, dir, version string, extra map[string]string) []byte {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		files[rel] = b
		order = append(order, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files["Chart.yaml"] = regexp.MustCompile(`(?m)^version: .*$`).ReplaceAll(files["Chart.yaml"], []byte("version: "+version))
	for name, content := range extra {
		if _, ok := files[name]; !ok {
			order = append(order, name)
		}
		files[name] = []byte(content)
	}
	name := filepath.Base(dir)

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, rel := range order {
		b := files[rel]
		hdr := &tar.Header{Name: name + "/" + rel, Mode: 0o644, Size: int64(len(b)), ModTime: when, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// demo is the test chart at version, unchanged.
func demo(t *testing.T, version string) []byte {
	t.Helper()
	return pack(t, filepath.Join("testdata", "demo"), version, nil)
}
