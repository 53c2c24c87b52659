// Command testbin makes sure the etcd and kube-apiserver binaries used by the
// test API server (internal/kubesim) exist in the user cache directory, and
// prints the directory that holds them:
//
//	export KUBE_TESTBIN=$(go run ./hack/testbin)
//
// The binaries are built from source from the tools modules (tools/etcd,
// tools/kube-apiserver; each has its own go.mod that pins the version) and
// cached under
//
//	$(os.UserCacheDir)/hcloud-k8s/testbin/<tool>-<version>/<tool>
//
// so each version is built once per machine. The printed directory,
// .../testbin/k8s-<version>_etcd-<version>, holds symlinks to both binaries;
// it also works as KUBEBUILDER_ASSETS for envtest.
//
// A cold build on 2 cores takes 8–13 minutes and up to 3 GB of RAM for
// kube-apiserver, 2–3 minutes for etcd, and adds about 2.5 GB to GOCACHE;
// later runs take well under a second.
//
// Flags:
//
//	-check   only report whether the cache is warm (exit status 1 if not); never builds
//	-tools   path to the tools directory (default: found by walking up from the working directory)
//	-v       pass -v to go build (lists every package as it is compiled)
//
// Progress goes to stderr; only the directory goes to stdout.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// tool describes one binary built from a tools module.
type tool struct {
	name     string // binary name and tools/<name> directory
	module   string // module whose version keys the cache
	pkg      string // main package to build
	estimate string // what a cold build costs, for the progress message
	ldflags  func(version string) string
}

var tools = []tool{
	{
		name:     "etcd",
		module:   "go.etcd.io/etcd/server/v3",
		pkg:      "go.etcd.io/etcd/server/v3",
		estimate: "2-3 minutes and 0.5 GB of RAM on 2 cores",
		ldflags:  func(string) string { return "-s -w" },
	},
	{
		name:     "kube-apiserver",
		module:   "k8s.io/kubernetes",
		pkg:      "k8s.io/kubernetes/cmd/kube-apiserver",
		estimate: "8-13 minutes, up to 3 GB of RAM and 2.5 GB of GOCACHE on 2 cores",
		ldflags:  kubeLDFlags,
	},
}

// kubeLDFlags stamps the version, otherwise the binary reports
// v0.0.0-master+$Format:%H$ and breaks version parsing in clients.
func kubeLDFlags(v string) string {
	minor := strings.TrimPrefix(v, "v1.")
	if i := strings.IndexByte(minor, '.'); i >= 0 {
		minor = minor[:i]
	}
	const p = "k8s.io/component-base/version"
	return strings.Join([]string{
		"-s -w",
		"-X " + p + ".gitVersion=" + v,
		"-X " + p + ".gitMajor=1",
		"-X " + p + ".gitMinor=" + minor,
		"-X " + p + ".gitTreeState=clean",
		"-X " + p + ".buildDate=1970-01-01T00:00:00Z",
	}, " ")
}

func main() {
	check := flag.Bool("check", false, "only report whether the binaries are cached; exit 1 if not")
	toolsDir := flag.String("tools", "", "tools directory (default: tools/ of the enclosing repository)")
	verbose := flag.Bool("v", false, "pass -v to go build")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./hack/testbin [-check] [-tools DIR] [-v]\n\n"+
			"Builds etcd and kube-apiserver into the user cache directory when missing\n"+
			"and prints the directory for KUBE_TESTBIN.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*check, *toolsDir, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "testbin:", err)
		os.Exit(1)
	}
}

func run(check bool, toolsDir string, verbose bool) error {
	if toolsDir == "" {
		var err error
		if toolsDir, err = testbin.FindToolsDir(); err != nil {
			return fmt.Errorf("%w; run from the repository or pass -tools", err)
		}
	}
	root, err := testbin.CacheDir()
	if err != nil {
		return err
	}

	versions := map[string]string{}
	var missing []string
	for _, t := range tools {
		v, err := testbin.RequiredVersion(filepath.Join(toolsDir, t.name, "go.mod"), t.module)
		if err != nil {
			return err
		}
		versions[t.name] = v
		bin := filepath.Join(root, t.name+"-"+v, t.name)
		if !isExecutable(bin) {
			missing = append(missing, bin)
		}
	}
	assets := filepath.Join(root, "k8s-"+versions["kube-apiserver"]+"_etcd-"+versions["etcd"])

	if check {
		if len(missing) > 0 || !isExecutable(filepath.Join(assets, "etcd")) || !isExecutable(filepath.Join(assets, "kube-apiserver")) {
			fmt.Fprintln(os.Stderr, "testbin: cache is cold; missing:")
			for _, m := range missing {
				fmt.Fprintln(os.Stderr, "  "+m)
			}
			if len(missing) == 0 {
				fmt.Fprintln(os.Stderr, "  "+assets)
			}
			fmt.Fprintln(os.Stderr, "testbin: run `go run ./hack/testbin` to build (a cold build takes 10-15 minutes on 2 cores)")
			return errors.New("cache is cold")
		}
		fmt.Fprintln(os.Stderr, "testbin: cache is warm")
		fmt.Println(assets)
		return nil
	}

	for _, t := range tools {
		v := versions[t.name]
		dir := filepath.Join(root, t.name+"-"+v)
		bin := filepath.Join(dir, t.name)
		if isExecutable(bin) {
			fmt.Fprintf(os.Stderr, "testbin: %s %s cached: %s\n", t.name, v, bin)
			continue
		}
		if err := build(t, v, filepath.Join(toolsDir, t.name), root, dir, verbose); err != nil {
			return err
		}
	}

	if err := linkAssets(root, assets, versions); err != nil {
		return err
	}
	fmt.Println(assets)
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path) // follows symlinks
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// build compiles one tool into a temporary directory next to the cache entry
// and renames the binary into place, so an interrupted build never leaves a
// partial binary behind.
func build(t tool, version, modDir, root, dir string, verbose bool) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(root, ".build-"+t.name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logPath := filepath.Join(root, t.name+"-"+version+".build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()

	total := countPackages(modDir, t.pkg)
	fmt.Fprintf(os.Stderr, "testbin: building %s %s from %s\n", t.name, version, modDir)
	fmt.Fprintf(os.Stderr, "testbin:   a cold build takes %s; it is cached afterwards.\n", t.estimate)
	fmt.Fprintf(os.Stderr, "testbin:   build log: %s\n", logPath)

	out := filepath.Join(tmp, t.name)
	cmd := exec.Command("go", "build", "-v", "-trimpath", "-ldflags", t.ldflags(version), "-o", out, t.pkg)
	cmd.Dir = modDir
	cmd.Env = buildEnv()
	cmd.Stdout = logFile

	// go build -v prints one import path per compiled package on stderr;
	// count them for the progress line.
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

	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
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
			fmt.Fprintf(os.Stderr, "testbin:   %s: %s elapsed, %s\n", t.name, time.Since(start).Round(time.Second), progress)
			continue
		case err = <-waitErr:
		}
		break
	}
	pw.Close()
	<-scanDone
	if err != nil {
		return fmt.Errorf("building %s %s failed after %s: %v (log: %s)\n%s", t.name, version,
			time.Since(start).Round(time.Second), err, logPath, tail(logPath, 20))
	}

	// Sanity check before publishing the binary.
	vout, err := exec.Command(out, "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("built %s does not run: %v\n%s", t.name, err, vout)
	}
	fmt.Fprintf(os.Stderr, "testbin:   %s", firstLine(string(vout)))

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(out, filepath.Join(dir, t.name)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "testbin: built %s %s in %s: %s\n", t.name, version, time.Since(start).Round(time.Second), filepath.Join(dir, t.name))
	return nil
}

// buildEnv is the environment for go build and go list: never download a
// toolchain, never stamp VCS data (the tools directories are not clones).
func buildEnv() []string {
	env := os.Environ()
	env = append(env, "GOTOOLCHAIN=local")
	flags := os.Getenv("GOFLAGS")
	if !strings.Contains(flags, "-buildvcs") {
		flags = strings.TrimSpace(flags + " -buildvcs=false")
	}
	return append(env, "GOFLAGS="+flags)
}

// countPackages returns the number of packages the build may compile, or 0.
func countPackages(modDir, pkg string) int {
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = modDir
	cmd.Env = buildEnv()
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "\n")
}

// linkAssets creates dir with symlinks to both binaries. The symlinks are
// made in a temporary directory which is then renamed, so readers never see
// a half-populated directory.
func linkAssets(root, dir string, versions map[string]string) error {
	// Relative links keep working if the cache directory is restored
	// elsewhere (CI caches, containers with another $HOME).
	target := func(t tool) string { return filepath.Join("..", t.name+"-"+versions[t.name], t.name) }
	ok := true
	for _, t := range tools {
		if got, err := os.Readlink(filepath.Join(dir, t.name)); err != nil || got != target(t) {
			ok = false
		}
	}
	if ok {
		return nil
	}
	tmp, err := os.MkdirTemp(root, ".assets-")
	if err != nil {
		return err
	}
	for _, t := range tools {
		if err := os.Symlink(target(t), filepath.Join(tmp, t.name)); err != nil {
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
		if isExecutable(filepath.Join(dir, "etcd")) && isExecutable(filepath.Join(dir, "kube-apiserver")) {
			return nil // a concurrent run won the race
		}
		return err
	}
	return nil
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
