package kubesim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// CCMOptions configures [StartCCM].
type CCMOptions struct {
	// BinDir holds hcloud-cloud-controller-manager. Default: $KUBE_TESTBIN,
	// else the hack/testbin cache.
	BinDir string

	// Kubeconfig is the kubeconfig (contents) the CCM uses, e.g.
	// [APIServer.Kubeconfig]: the Helm chart binds cluster-admin to the
	// CCM's service account, so an admin identity is faithful.
	Kubeconfig []byte

	// Token is HCLOUD_TOKEN.
	Token string

	// Endpoint is HCLOUD_ENDPOINT, the simulator's API URL. It must be a
	// loopback URL: StartCCM refuses anything else.
	Endpoint string

	// Network is HCLOUD_NETWORK, the private network's name or ID. With it,
	// nodes get their InternalIP from the network and the route controller
	// runs (--allocate-node-cidrs=true --cluster-cidr=ClusterCIDR, as the
	// chart does with networking enabled). Empty: no network.
	Network string

	// ClusterCIDR is the pod network the route controller routes, used only
	// with Network. Default 10.244.0.0/16 (the chart's and Talos's default).
	ClusterCIDR string

	// LogDir, if set, receives the log (kept after Stop). Default: a
	// temporary directory that Stop removes.
	LogDir string

	// StartTimeout bounds the wait for the CCM's first successful Hetzner
	// API call. Default 60s.
	StartTimeout time.Duration

	// ExtraArgs are appended to the command line; ExtraEnv (NAME=value) to
	// the environment, e.g. HCLOUD_LOAD_BALANCERS_LOCATION=fsn1.
	ExtraArgs, ExtraEnv []string
}

// CCM is a running hcloud-cloud-controller-manager. Stop it when done.
type CCM struct {
	proc       *process
	dir        string // temporary directory: kubeconfig, default log
	metricsURL string

	stopOnce sync.Once
	stopErr  error
	ctxStop  chan struct{}
}

// StartCCM runs the hcloud cloud-controller-manager against the API server
// in opts.Kubeconfig and the Hetzner API at opts.Endpoint, and waits until it
// has initialized (its first Hetzner API call succeeded). Everything it
// dials is loopback; see ccmEnv for the settings that keep it so.
// Cancelling ctx later stops it, like [exec.CommandContext].
func StartCCM(ctx context.Context, opts CCMOptions) (_ *CCM, err error) {
	bins, err := findBinaries(opts.BinDir, testbin.CCM)
	if err != nil {
		return nil, err
	}
	if err := checkLoopbackURL(opts.Endpoint); err != nil {
		return nil, fmt.Errorf("kubesim: CCM endpoint: %w", err)
	}
	if len(opts.Kubeconfig) == 0 || opts.Token == "" {
		return nil, errors.New("kubesim: CCMOptions needs Kubeconfig and Token")
	}
	if opts.ClusterCIDR == "" {
		opts.ClusterCIDR = "10.244.0.0/16"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	dir, err := ownedTempDir("kubesim-ccm-")
	if err != nil {
		return nil, err
	}
	c := &CCM{dir: dir, ctxStop: make(chan struct{})}
	defer func() {
		if err != nil {
			c.kill()
			if opts.LogDir == "" {
				os.Remove(filepath.Join(dir, "kubeconfig")) // keep the log the error names
			} else {
				os.RemoveAll(dir)
			}
		}
	}()
	if err := c.start(ctx, bins[0], opts); err != nil {
		return nil, err
	}
	stopWhenDone(ctx, c.ctxStop, c.Stop)
	return c, nil
}

// start writes the kubeconfig, launches the CCM and waits for it.
func (c *CCM) start(ctx context.Context, bin string, opts CCMOptions) error {
	kubeconfig := filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, opts.Kubeconfig, 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(c.dir, testbin.CCM+".log")
	if opts.LogDir != "" {
		if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
			return err
		}
		logPath = filepath.Join(opts.LogDir, filepath.Base(c.dir)+"-"+testbin.CCM+".log")
	}
	ports, err := freePorts("127.0.0.1", 1)
	if err != nil {
		return err
	}
	metricsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	c.metricsURL = "http://" + metricsAddr + "/metrics"
	env := append(ccmEnv(opts, metricsAddr), opts.ExtraEnv...)
	if c.proc, err = startProcess(bin, append(ccmArgs(opts, kubeconfig), opts.ExtraArgs...), logPath, env); err != nil {
		return err
	}
	return c.waitInitialized(ctx, opts.StartTimeout)
}

// ccmArgs is the command line the Helm chart of the CCM builds (see its
// chart/values.yaml and templates/deployment.yaml), with the serving ports
// off: nothing scrapes or calls the CCM's own endpoints here.
func ccmArgs(opts CCMOptions, kubeconfig string) []string {
	args := []string{
		"--cloud-provider=hcloud",
		"--kubeconfig=" + kubeconfig,
		"--allow-untagged-cloud",
		"--route-reconciliation-period=30s",
		"--feature-gates=CloudControllerManagerWatchBasedRoutesReconciliation=true",
		"--secure-port=0",
		"--webhook-secure-port=0",
		"--leader-elect=false",
	}
	if opts.Network != "" {
		args = append(args, "--allocate-node-cidrs=true", "--cluster-cidr="+opts.ClusterCIDR)
	}
	return args
}

// ccmEnv is the CCM's environment: the inherited one without anything that
// could point it elsewhere (HCLOUD_*, ROBOT_*, proxies, kubeconfig and
// in-cluster settings), plus
//   - HCLOUD_TOKEN, HCLOUD_ENDPOINT and HCLOUD_NETWORK for the simulator;
//   - HCLOUD_NETWORK_DISABLE_ATTACHED_CHECK=true: otherwise, with a
//     network, the CCM asks the metadata service (169.254.169.254) whether
//     its own server is attached;
//   - HCLOUD_METRICS_ADDRESS on loopback instead of :8233 on every interface;
//   - ROBOT_ENABLED=false: no Robot (dedicated server) API client;
//   - HCLOUD_DEBUG=false: no request dumps with the token in the log.
func ccmEnv(opts CCMOptions, metricsAddr string) []string {
	env := envWithout("HCLOUD_", "ROBOT_", "KUBECONFIG", "KUBERNETES_SERVICE_",
		"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy")
	env = append(env,
		"HCLOUD_TOKEN="+opts.Token,
		"HCLOUD_ENDPOINT="+opts.Endpoint,
		"HCLOUD_NETWORK_DISABLE_ATTACHED_CHECK=true",
		"HCLOUD_METRICS_ADDRESS="+metricsAddr,
		"HCLOUD_DEBUG=false",
		"ROBOT_ENABLED=false",
	)
	if opts.Network != "" {
		env = append(env, "HCLOUD_NETWORK="+opts.Network)
	}
	return env
}

// checkLoopbackURL accepts http(s) URLs whose host is a loopback address or
// localhost.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if h := u.Hostname(); h != "localhost" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%q is not a loopback URL", raw)
		}
	}
	return nil
}

// waitInitialized polls the CCM's metrics until they count a successful
// GET /locations: the CCM lists locations last when it sets up its cloud
// provider (after the network lookup), and exits if that fails.
func (c *CCM) waitInitialized(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	last, err := pollOK(ctx, client, []string{c.metricsURL}, locationsListed, c.proc.exitErr, timeout)
	switch {
	case errors.Is(err, errNotReady):
		return fmt.Errorf("kubesim: %s not initialized after %s; last: %s\nlog %s:\n%s",
			testbin.CCM, timeout, last, c.proc.log, tail(c.proc.log, 30))
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("kubesim: %s start-up cancelled (%s): %w; log %s", testbin.CCM, last, err, c.proc.log)
	}
	return err
}

// locationsListed accepts Prometheus metrics that count a 200 answer to
// GET /locations in hcloud-go's hcloud_api_requests_total.
func locationsListed(metrics []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "hcloud_api_requests_total{") &&
			strings.Contains(line, `api_endpoint="/locations"`) && strings.Contains(line, `code="200"`) {
			return nil
		}
	}
	return errors.New("no successful GET /locations counted yet")
}

// LogFile is the CCM's log. Unless CCMOptions.LogDir was set, Stop deletes it.
func (c *CCM) LogFile() string { return c.proc.log }

// MetricsURL is where the CCM serves its Prometheus metrics (loopback).
func (c *CCM) MetricsURL() string { return c.metricsURL }

func (c *CCM) kill() {
	if c.proc != nil {
		c.proc.kill()
	}
}

// Stop kills the CCM, waits for it to exit and removes its temporary
// directory. It is safe to call more than once and from several goroutines.
func (c *CCM) Stop() error {
	c.stopOnce.Do(func() {
		close(c.ctxStop)
		c.kill()
		if c.proc != nil && !c.proc.exited() {
			c.stopErr = fmt.Errorf("kubesim: %s (pid %d) did not exit", c.proc.name, c.proc.cmd.Process.Pid)
		}
		if err := os.RemoveAll(c.dir); err != nil && c.stopErr == nil {
			c.stopErr = err
		}
	})
	return c.stopErr
}
