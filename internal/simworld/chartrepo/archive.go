package chartrepo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// The charts, one directory each, and the library chart that those naming
// it among their dependencies get as a subchart. "all:" keeps the files
// whose names start with an underscore (_helpers.tpl).
//
//go:embed all:charts all:lib
var sources embed.FS

// libName is the library chart packaged into the charts that depend on it,
// so that its text exists once here but ships inside each archive, as a
// vendored dependency does.
const libName = "simworld-lib"

// modTime is the time of every file in the archives: the same embedded
// files give the same bytes, so an archive's digest is stable across runs
// (the charts package records digests at first download).
func modTime() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// Archive is one packaged chart.
type Archive struct {
	Name    string
	Version string
	// Data is the .tgz, as helm package writes it.
	Data []byte
}

// Digest is the archive's sha256, hex.
func (a Archive) Digest() string {
	sum := sha256.Sum256(a.Data)
	return hex.EncodeToString(sum[:])
}

// FileName is <name>-<version>.tgz, the name helm pull gives the archive and
// the one a directory mirror holds it under.
func (a Archive) FileName() string { return a.Name + "-" + a.Version + ".tgz" }

// Names lists the charts this package holds, sorted.
func Names() ([]string, error) {
	entries, err := fs.ReadDir(sources, "charts")
	if err != nil {
		return nil, fmt.Errorf("embedded charts: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// Archives packages the named charts (every chart when names is empty), in
// the order given, or sorted by name for all.
func Archives(names ...string) ([]Archive, error) {
	if len(names) == 0 {
		all, err := Names()
		if err != nil {
			return nil, err
		}
		names = all
	}
	out := make([]Archive, 0, len(names))
	for _, n := range names {
		a, err := pack(n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// pack loads charts/<name> (with the library chart added under charts/ when
// it is a dependency) and saves it with Helm's chartutil.Save.
func pack(name string) (Archive, error) {
	dir := path.Join("charts", name)
	if fi, err := fs.Stat(sources, dir); err != nil || !fi.IsDir() {
		have, _ := Names()
		return Archive{}, fmt.Errorf("no chart %q here (charts: %s)", name, strings.Join(have, ", "))
	}
	files, err := readTree(dir, "")
	if err != nil {
		return Archive{}, err
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return Archive{}, fmt.Errorf("load chart %s: %w", name, err)
	}
	if dependsOn(c, libName) {
		lib, err := readTree(path.Join("lib", libName), "")
		if err != nil {
			return Archive{}, err
		}
		lc, err := loader.LoadFiles(lib)
		if err != nil {
			return Archive{}, fmt.Errorf("load library chart %s: %w", libName, err)
		}
		c.AddDependency(lc)
	}
	sortDependencies(c)
	data, err := save(c)
	if err != nil {
		return Archive{}, fmt.Errorf("package chart %s: %w", name, err)
	}
	return Archive{Name: c.Metadata.Name, Version: c.Metadata.Version, Data: data}, nil
}

// readTree reads every file under dir, named relative to it (prefixed with
// prefix), in lexical order so that the archive's order is fixed.
func readTree(dir, prefix string) ([]*archive.BufferedFile, error) {
	var out []*archive.BufferedFile
	err := fs.WalkDir(sources, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := sources.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		out = append(out, &archive.BufferedFile{Name: prefix + rel, ModTime: modTime(), Data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded chart %s: %w", dir, err)
	}
	return out, nil
}

func dependsOn(c *chart.Chart, name string) bool {
	for _, d := range c.Metadata.Dependencies {
		if d.Name == name {
			return true
		}
	}
	return false
}

// sortDependencies orders subcharts by name, all the way down: Helm's loader
// adds them in map order, and Save writes them in that order.
func sortDependencies(c *chart.Chart) {
	deps := slices.Clone(c.Dependencies())
	slices.SortFunc(deps, func(a, b *chart.Chart) int { return strings.Compare(a.Name(), b.Name()) })
	for _, d := range deps {
		d.ModTime = modTime()
		sortDependencies(d)
	}
	c.SetDependencies(deps...)
	c.ModTime = modTime()
	c.SchemaModTime = modTime()
}

// save runs chartutil.Save, which only writes into a directory, in a
// temporary one and returns the archive's bytes.
func save(c *chart.Chart) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "chartrepo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	file, err := chartutil.Save(c, tmp)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	// A sanity check that costs little: what was written loads again.
	if _, err := loader.LoadArchive(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("the packaged archive does not load: %w", err)
	}
	return b, nil
}
