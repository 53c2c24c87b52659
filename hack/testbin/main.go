// Command testbin makes sure the binaries of the test world exist in the user
// cache directory, and prints the directory that holds them:
//
//	export KUBE_TESTBIN=$(go run ./hack/testbin)
//
// The binaries are etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, built from source from the tools modules (tools/etcd,
// tools/kube-apiserver; each has its own go.mod that pins the version), and
// the hcloud cloud-controller-manager, built from its module when the Go
// module proxy serves it and otherwise from a checksummed source archive
// (see ccm.go and docs/architecture.md). They are cached under
//
//	$(os.UserCacheDir)/hcloud-k8s/testbin/<tool>-<version>/<tool>
//
// so each version is built once per machine. The printed directory,
// .../testbin/k8s-<version>_etcd-<version>, holds symlinks to all of them;
// it also works as KUBEBUILDER_ASSETS for envtest.
//
// A cold build on 2 cores takes 8–13 minutes and up to 3 GB of RAM for
// kube-apiserver, 2–3 minutes for etcd, about 3 minutes for
// kube-controller-manager and seconds for kube-scheduler once
// kube-apiserver's packages are in GOCACHE (8–20 minutes each on their own),
// and 5–9 minutes for the CCM; later runs take well under a second.
//
// Without a CCM source the CCM is reported missing and everything else is
// still built and printed; -require-ccm makes that an error.
//
// Flags:
//
//	-check        only report whether the cache is warm (exit status 1 if not); never builds
//	-require-ccm  fail when the CCM cannot be provided
//	-tools        path to the tools directory (default: found by walking up from the working directory)
//	-v            pass -v to go build (lists every package as it is compiled)
//
// Progress goes to stderr; only the directory goes to stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

type config struct {
	check, requireCCM, verbose bool
	toolsDir                   string
}

func main() {
	var cfg config
	flag.BoolVar(&cfg.check, "check", false, "only report whether the binaries are cached; exit 1 if not")
	flag.BoolVar(&cfg.requireCCM, "require-ccm", false, "fail when the hcloud cloud-controller-manager cannot be built")
	flag.StringVar(&cfg.toolsDir, "tools", "", "tools directory (default: tools/ of the enclosing repository)")
	flag.BoolVar(&cfg.verbose, "v", false, "pass -v to go build")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./hack/testbin [-check] [-require-ccm] [-tools DIR] [-v]\n\n"+
			"Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the\n"+
			"hcloud cloud-controller-manager into the user cache directory when missing\n"+
			"and prints the directory for KUBE_TESTBIN.\n\n"+
			"The CCM source is the module from the Go module proxy, else the archive named\n"+
			"by $%s, else %s next to the\nrepository (see docs/architecture.md).\n\n",
			testbin.EnvCCMSource, filepath.Join("..", "shared", "third_party", testbin.CCMArchive))
		flag.PrintDefaults()
	}
	flag.Parse()
	// Cancelling kills go build and lets the deferred clean-up remove the
	// temporary build and source directories.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "testbin:", err)
		os.Exit(1)
	}
}

// entry is one binary with its pinned version and cache path.
type entry struct {
	tool
	version, path string
}

func run(ctx context.Context, cfg config) error {
	if cfg.toolsDir == "" {
		var err error
		if cfg.toolsDir, err = testbin.FindToolsDir(); err != nil {
			return fmt.Errorf("%w; run from the repository or pass -tools", err)
		}
	}
	root, err := testbin.CacheDir()
	if err != nil {
		return err
	}
	entries, err := resolve(cfg.toolsDir, root)
	if err != nil {
		return err
	}
	assets := assetsDir(root, entries)
	if cfg.check {
		return checkCache(entries, assets, cfg.requireCCM)
	}
	for _, e := range entries {
		if err := provide(ctx, cfg, root, e); err != nil {
			return err
		}
	}
	if err := linkAssets(root, assets, present(entries)); err != nil {
		return err
	}
	fmt.Println(assets)
	return nil
}

// resolve reads the pinned version of every tool.
func resolve(toolsDir, root string) ([]entry, error) {
	var entries []entry
	for _, t := range tools() {
		v, err := t.Version(toolsDir)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{tool: t, version: v, path: t.Path(root, v)})
	}
	return entries, nil
}

// assetsDir is named after the Kubernetes and etcd versions only, so the
// directory existing consumers were given keeps its name.
func assetsDir(root string, entries []entry) string {
	v := map[string]string{}
	for _, e := range entries {
		v[e.Name] = e.version
	}
	return filepath.Join(root, "k8s-"+v[testbin.APIServer]+"_etcd-"+v[testbin.Etcd])
}

// provide builds e unless it is cached. A missing CCM source is reported, and
// is an error only with -require-ccm.
func provide(ctx context.Context, cfg config, root string, e entry) error {
	if isExecutable(e.path) {
		fmt.Fprintf(os.Stderr, "testbin: %s %s cached: %s\n", e.Name, e.version, e.path)
		return nil
	}
	if e.Name != testbin.CCM {
		return build(ctx, e, filepath.Join(cfg.toolsDir, e.ToolsModule), root, cfg.verbose)
	}
	src, err := ccmSource(ctx, filepath.Dir(cfg.toolsDir), root, cfg.verbose)
	if errors.Is(err, errNoCCMSource) && !cfg.requireCCM {
		fmt.Fprintf(os.Stderr, "testbin: %s %s MISSING: %v\n", e.Name, e.version, err)
		fmt.Fprintf(os.Stderr, "testbin:   everything else is built; tests that run the CCM fail until it is (see docs/architecture.md)\n")
		return nil
	}
	if err != nil {
		return err
	}
	defer src.cleanup()
	fmt.Fprintf(os.Stderr, "testbin: %s %s source: %s\n", e.Name, e.version, src.origin)
	return build(ctx, e, src.dir, root, cfg.verbose)
}

// present lists the entries whose binary exists.
func present(entries []entry) []entry {
	var out []entry
	for _, e := range entries {
		if isExecutable(e.path) {
			out = append(out, e)
		}
	}
	return out
}

// checkCache reports, without building, whether every required binary is
// cached and linked into assets.
func checkCache(entries []entry, assets string, requireCCM bool) error {
	var missing []string
	for _, e := range entries {
		optional := e.Name == testbin.CCM && !requireCCM
		switch {
		case !isExecutable(e.path) && optional:
			fmt.Fprintf(os.Stderr, "testbin: %s not cached (optional): %s\n", e.Name, e.path)
		case !isExecutable(e.path):
			missing = append(missing, e.path)
		case !isExecutable(filepath.Join(assets, e.Name)):
			missing = append(missing, filepath.Join(assets, e.Name))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintln(os.Stderr, "testbin: cache is cold; missing:")
		for _, m := range missing {
			fmt.Fprintln(os.Stderr, "  "+m)
		}
		fmt.Fprintln(os.Stderr, "testbin: run `go run ./hack/testbin` to build (a cold build takes 20-30 minutes on 2 cores)")
		return errors.New("cache is cold")
	}
	fmt.Fprintln(os.Stderr, "testbin: cache is warm")
	fmt.Println(assets)
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path) // follows symlinks
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
