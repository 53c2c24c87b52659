package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// build compiles one tool from the module in modDir into a temporary
// directory next to the cache entry and renames the binary into place, so an
// interrupted build never leaves a partial binary behind.
func build(ctx context.Context, e entry, modDir, root string, verbose bool) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(root, ".build-"+e.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logPath := filepath.Join(root, e.Name+"-"+e.version+".build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()

	fmt.Fprintf(os.Stderr, "testbin: building %s %s from %s\n", e.Name, e.version, modDir)
	fmt.Fprintf(os.Stderr, "testbin:   a cold build takes %s; it is cached afterwards.\n", e.estimate)
	fmt.Fprintf(os.Stderr, "testbin:   build log: %s\n", logPath)

	out := filepath.Join(tmp, e.Name)
	cmd := exec.CommandContext(ctx, "go", "build", "-v", "-trimpath", "-ldflags", e.ldflags(e.version), "-o", out, e.Package)
	cmd.Dir = modDir
	cmd.Env = buildEnv()
	cmd.Stdout = logFile
	start := time.Now()
	if err := runWithProgress(cmd, e.Name, countPackages(ctx, modDir, e.Package), logFile, verbose); err != nil {
		return fmt.Errorf("building %s %s failed after %s: %w (log: %s)\n%s", e.Name, e.version,
			time.Since(start).Round(time.Second), err, logPath, tail(logPath, 20))
	}
	if err := publish(ctx, out, e.path); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "testbin: built %s %s in %s: %s\n", e.Name, e.version, time.Since(start).Round(time.Second), e.path)
	return nil
}

// runWithProgress runs go build -v, copying its stderr to logFile and
// printing a progress line every 30 seconds: go build -v prints one import
// path per compiled package, which are counted against total (0: unknown).
func runWithProgress(cmd *exec.Cmd, name string, total int, logFile io.Writer, verbose bool) error {
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	var compiled atomic.Int64
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if !strings.Contains(line, " ") && !strings.Contains(line, ":") {
				compiled.Add(1)
			}
			if verbose {
				fmt.Fprintln(os.Stderr, line)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	defer func() { pw.Close(); <-scanDone }()

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting go build: %w", err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			progress := fmt.Sprintf("%d packages compiled", compiled.Load())
			if total > 0 {
				progress = fmt.Sprintf("%d of at most %d packages compiled", compiled.Load(), total)
			}
			fmt.Fprintf(os.Stderr, "testbin:   %s: %s elapsed, %s\n", name, time.Since(start).Round(time.Second), progress)
		case err := <-waitErr:
			return err
		}
	}
}

// publish checks that the built binary runs and moves it to its cache path.
func publish(ctx context.Context, built, path string) error {
	vout, err := exec.CommandContext(ctx, built, "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("built %s does not run: %w\n%s", filepath.Base(path), err, vout)
	}
	fmt.Fprintf(os.Stderr, "testbin:   %s", firstLine(string(vout)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.Rename(built, path)
}

// buildEnv is the environment for go build and go list: never download a
// toolchain, never stamp VCS data (the tools directories are not clones),
// and never let a go.work around the cache or source directory interfere.
func buildEnv() []string {
	env := os.Environ()
	env = append(env, "GOTOOLCHAIN=local", "GOWORK=off")
	flags := os.Getenv("GOFLAGS")
	if !strings.Contains(flags, "-buildvcs") {
		flags = strings.TrimSpace(flags + " -buildvcs=false")
	}
	return append(env, "GOFLAGS="+flags)
}

// countPackages returns the number of packages the build may compile, or 0.
func countPackages(ctx context.Context, modDir, pkg string) int {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", pkg)
	cmd.Dir = modDir
	cmd.Env = buildEnv()
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return s + "\n"
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
