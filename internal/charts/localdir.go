package charts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// localDir is a directory of <name>-<version>.tgz archives (as helm pull
// writes them): a mirror copied onto an air-gapped machine.
type localDir struct {
	what string // "mirror " or ""
	dir  string // absolute
	key  string
}

func (d localDir) String() string   { return d.what + "directory " + d.dir }
func (d localDir) cacheKey() string { return d.key }

func (d localDir) fetch(_ context.Context, name, version string) ([]byte, error) {
	file := filepath.Join(d.dir, name+"-"+version+".tgz")
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(d.dir); derr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, derr)
		}
		return nil, fmt.Errorf("%w: no file %s (%s)", ErrNotFound, file, d.versionsOf(name))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return b, nil
}

// versionsOf says which versions of name the directory holds, so that the
// error for a missing one shows what the mirror has.
func (d localDir) versionsOf(name string) string {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Sprintf("directory unreadable: %v", err)
	}
	var have []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), name+"-")
		v, tgz := strings.CutSuffix(rest, ".tgz")
		// cert-manager-webhook-hetzner-1.0.0.tgz is not a version of
		// cert-manager: versions start with a digit or v and a digit.
		if ok && tgz && !e.IsDir() && looksLikeVersion(v) {
			have = append(have, v)
		}
	}
	return versionList(have)
}

// versionList formats the versions a source has, for an error message.
func versionList(have []string) string {
	if len(have) == 0 {
		return "it has no version of this chart"
	}
	slices.Sort(have)
	return "versions there: " + strings.Join(have, ", ")
}

func looksLikeVersion(v string) bool {
	v = strings.TrimPrefix(v, "v")
	return v != "" && v[0] >= '0' && v[0] <= '9'
}
