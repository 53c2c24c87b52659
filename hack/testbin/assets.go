package main

import (
	"os"
	"path/filepath"
)

// linkAssets makes dir hold exactly one symlink per entry. The symlinks are
// made in a temporary directory which is then renamed, so readers never see
// a half-populated directory.
func linkAssets(root, dir string, entries []entry) error {
	// Relative links keep working if the cache directory is restored
	// elsewhere (CI caches, containers with another $HOME).
	want := map[string]string{}
	for _, e := range entries {
		want[e.Name] = filepath.Join("..", filepath.Base(filepath.Dir(e.path)), e.Name)
	}
	if linksAre(dir, want) {
		return nil
	}
	tmp, err := os.MkdirTemp(root, ".assets-")
	if err != nil {
		return err
	}
	for name, target := range want {
		if err := os.Symlink(target, filepath.Join(tmp, name)); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if linksAre(dir, want) {
			return nil // a concurrent run won the race
		}
		return err
	}
	return nil
}

// linksAre reports whether dir holds exactly the symlinks in want
// (name → target).
func linksAre(dir string, want map[string]string) bool {
	des, err := os.ReadDir(dir)
	if err != nil || len(des) != len(want) {
		return false
	}
	for _, de := range des {
		got, err := os.Readlink(filepath.Join(dir, de.Name()))
		if err != nil || got != want[de.Name()] {
			return false
		}
	}
	return true
}
