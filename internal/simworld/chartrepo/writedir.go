package chartrepo

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteDir packages every chart into dir (created if missing) as
// <name>-<version>.tgz, and the manifests below dir/manifests: the layout
// the charts package reads as a directory mirror.
func WriteDir(dir string) error {
	archives, err := Archives()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chart directory: %w", err)
	}
	for _, a := range archives {
		if err := os.WriteFile(filepath.Join(dir, a.FileName()), a.Data, 0o644); err != nil {
			return fmt.Errorf("write chart %s: %w", a.FileName(), err)
		}
	}
	return WriteManifests(dir)
}
