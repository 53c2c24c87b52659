package kubesim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	"k8s.io/client-go/rest"
)

// Options configures [Start]. The zero value works: it generates a CA.
type Options struct {
	// CACert and CAKey are the cluster's Kubernetes CA (PEM). The API server
	// trusts client certificates it signed (CN = user, O = groups) and its
	// serving certificate is issued from it. With Talos, pass the machine
	// secrets' Kubernetes CA so the kubeconfig Talos hands out works.
	// Both empty: a fresh CA is generated (see [APIServer.CACert]).
	CACert, CAKey []byte

	// SANs are extra IP addresses and DNS names for the serving certificate,
	// e.g. the load balancer's public IP and the control-plane node IPs.
	// 127.0.0.1, ::1, localhost, the kubernetes.default.* names and the
	// first service IP are always included.
	SANs []string

	// ServiceAccountKey is the PEM private key (RSA or ECDSA) used to sign
	// and verify service-account tokens, e.g. the Talos secrets bundle's
	// service-account key. Empty: an ECDSA P-256 key is generated.
	ServiceAccountKey []byte

	// BinDir holds the etcd and kube-apiserver binaries. Default: $KUBE_TESTBIN,
	// else the hack/testbin cache for the versions in tools/*/go.mod.
	BinDir string

	// BindAddress is the IP the API server listens on. Default 127.0.0.1.
	BindAddress string

	// Port is the API server's port. Default: a random free port.
	Port int

	// ServiceCIDR is --service-cluster-ip-range. Default 10.96.0.0/12 (Talos's default).
	ServiceCIDR string

	// StartTimeout bounds the wait for /readyz. Default 60s.
	StartTimeout time.Duration

	// LogDir, if set, receives the etcd and kube-apiserver logs, and they
	// are kept after Stop. Default: the server's temporary directory, which
	// Stop removes (a failed Start keeps the logs and names them in the error).
	LogDir string

	// ExtraArgs are appended to the kube-apiserver command line (later
	// flags win for scalar flags).
	ExtraArgs []string

	// ControllerManager also starts kube-controller-manager (see
	// controlplane.go for the controllers it runs) once the API server is
	// ready; Start then waits for its /healthz too.
	ControllerManager bool

	// ClusterCIDR is the pod network the controller manager's nodeipam
	// controller gives each node a /24 of (--cluster-cidr). Default
	// 10.244.0.0/16 (Talos's default).
	ClusterCIDR string

	// ControllerManagerArgs are appended to the kube-controller-manager
	// command line, e.g. --node-monitor-grace-period=1h or another
	// --controllers list.
	ControllerManagerArgs []string

	// Scheduler also starts kube-scheduler once the API server is ready;
	// Start then waits for its /healthz too.
	Scheduler bool

	// SchedulerArgs are appended to the kube-scheduler command line.
	SchedulerArgs []string
}

// APIServer is a running etcd + kube-apiserver pair. Stop it when done.
type APIServer struct {
	url   string
	port  int
	ca    *authority
	dir   string // temporary directory: PKI, etcd data, default logs
	logs  []string
	procs []*process
	// egress refuses the API server's connections into the cluster network.
	egress *clusterEgress

	adminCert, adminKey []byte

	// start-up phases, for tests: etcd healthy, kube-apiserver ready
	etcdReadyAfter, readyAfter time.Duration

	stopOnce sync.Once
	stopErr  error
	ctxStop  chan struct{}
}

// Start launches etcd and kube-apiserver and waits until the API server
// reports ready. ctx bounds the start-up; cancelling it later also stops the
// servers, like [exec.CommandContext]. Call Stop when done, e.g. via
// t.Cleanup.
func Start(ctx context.Context, opts Options) (*APIServer, error) {
	bins, err := findBinaries(opts.BinDir, opts.binaryNames()...)
	if err != nil {
		return nil, err
	}
	if opts.BindAddress == "" {
		opts.BindAddress = "127.0.0.1"
	}
	if net.ParseIP(opts.BindAddress) == nil {
		return nil, fmt.Errorf("kubesim: BindAddress %q is not an IP address", opts.BindAddress)
	}
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = "10.96.0.0/12"
	}
	if opts.ClusterCIDR == "" {
		opts.ClusterCIDR = "10.244.0.0/16"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(ctx, opts, bins)
		if err == nil {
			return s, nil
		}
		lastErr = err
		// Random ports are picked by listening and closing; another process
		// can take one in between. Retry with fresh ports in that case only.
		if opts.Port != 0 || !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errPortInUse = errors.New("address already in use")

// binaryNames lists the binaries opts needs, in the order Start launches them.
func (opts Options) binaryNames() []string {
	names := []string{testbin.Etcd, testbin.APIServer}
	if opts.ControllerManager {
		names = append(names, testbin.ControllerManager)
	}
	if opts.Scheduler {
		names = append(names, testbin.Scheduler)
	}
	return names
}

// start launches the binaries, whose paths are in the order of binaryNames.
func start(ctx context.Context, opts Options, bins []string) (_ *APIServer, err error) {
	var ca *authority
	switch {
	case len(opts.CACert) == 0 && len(opts.CAKey) == 0:
		certPEM, keyPEM, err := GenerateCA("kubesim-ca")
		if err != nil {
			return nil, err
		}
		if ca, err = parseAuthority(certPEM, keyPEM); err != nil {
			return nil, err
		}
	case len(opts.CACert) == 0 || len(opts.CAKey) == 0:
		return nil, errors.New("kubesim: set both CACert and CAKey, or neither")
	default:
		if ca, err = parseAuthority(opts.CACert, opts.CAKey); err != nil {
			return nil, fmt.Errorf("kubesim: %w", err)
		}
	}

	begin := time.Now()
	dir, err := ownedTempDir("kubesim-")
	if err != nil {
		return nil, err
	}
	s := &APIServer{ca: ca, dir: dir, ctxStop: make(chan struct{})}
	keepLogs := false
	defer func() {
		if err != nil {
			s.kill()
			if keepLogs && opts.LogDir == "" {
				// Keep only the logs the error refers to.
				os.RemoveAll(filepath.Join(dir, "pki"))
				os.RemoveAll(filepath.Join(dir, "etcd"))
			} else {
				os.RemoveAll(dir)
			}
		}
	}()

	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return nil, err
	}
	files, err := s.writePKI(pki, opts)
	if err != nil {
		return nil, fmt.Errorf("kubesim: %w", err)
	}

	ports, err := freePorts(opts.BindAddress, 3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer := ports[0], ports[1]
	s.port = opts.Port
	if s.port == 0 {
		s.port = ports[2]
	}
	host := opts.BindAddress
	if ip := net.ParseIP(host); ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	s.url = "https://" + net.JoinHostPort(host, strconv.Itoa(s.port))

	logDir := opts.LogDir
	if logDir == "" {
		logDir = dir
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	prefix := ""
	if opts.LogDir != "" {
		prefix = fmt.Sprintf("kubesim-%d-", s.port)
	}
	logPath := func(name string) string { return filepath.Join(logDir, prefix+name+".log") }
	s.logs = []string{logPath(testbin.Etcd), logPath(testbin.APIServer)}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	etcdArgs := []string{
		"--name=kubesim",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=kubesim=" + peerURL,
		"--unsafe-no-fsync", // test data is thrown away
		"--log-level=warn",
	}
	advertise := opts.BindAddress
	if net.ParseIP(advertise).IsUnspecified() {
		advertise = "127.0.0.1"
	}
	apiArgs := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + opts.BindAddress,
		"--secure-port=" + strconv.Itoa(s.port),
		// A loopback advertise address makes the default endpoint
		// reconciler exit; nothing needs the kubernetes Endpoints here.
		"--advertise-address=" + advertise,
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + pki,
		"--tls-cert-file=" + files.servingCert,
		"--tls-private-key-file=" + files.servingKey,
		"--client-ca-file=" + files.caCert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + files.saPub,
		"--service-account-signing-key-file=" + files.saKey,
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=" + opts.ServiceCIDR,
		"--allow-privileged=true",
		"--enable-admission-plugins=NamespaceLifecycle",
		"--disable-admission-plugins=" + strings.Join(disabledAdmission, ","),
		"--profiling=false",
	}
	egress, err := startClusterEgress(pki)
	if err != nil {
		return nil, err
	}
	s.egress = egress
	egressCfg, err := writeEgressConfig(pki, egress.socket())
	if err != nil {
		return nil, err
	}
	apiArgs = append(apiArgs, "--egress-selector-config-file="+egressCfg)
	apiArgs = append(apiArgs, opts.ExtraArgs...)

	etcd, err := startProcess(bins[0], etcdArgs, s.logs[0], envWithout("ETCD_"))
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, etcd)
	keepLogs = true
	// Start kube-apiserver only once etcd answers: its etcd clients back
	// off for a second or more after a refused connection.
	if err := s.waitEtcd(ctx, etcdURL, opts.StartTimeout); err != nil {
		return nil, err
	}
	s.etcdReadyAfter = time.Since(begin)
	api, err := startProcess(bins[1], apiArgs, s.logs[1], os.Environ())
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, api)

	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		return nil, err
	}
	s.readyAfter = time.Since(begin)
	if err := s.startControlPlane(ctx, opts, files, bins[2:], logPath); err != nil {
		return nil, err
	}

	stopWhenDone(ctx, s.ctxStop, s.Stop)
	return s, nil
}

// stopWhenDone calls stop when ctx ends, like exec.CommandContext kills its
// process, unless stopped is closed first (by stop itself).
func stopWhenDone(ctx context.Context, stopped <-chan struct{}, stop func() error) {
	go func() {
		select {
		case <-ctx.Done():
			_ = stop()
		case <-stopped:
		}
	}()
}

// ownerFile in a server's temporary directory holds the id of the process
// that started it.
const ownerFile = "owner.pid"

// ownedTempDir sweeps stale directories, then creates a temporary directory
// (name prefix must start with "kubesim-") with an owner file, so that it
// is swept in turn if this process crashes.
func ownedTempDir(prefix string) (string, error) {
	sweepStale()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// sweepStale removes temporary directories left by test processes that
// crashed before calling Stop (their servers died with them, see
// sysProcAttr). Directories of live processes, and those without an owner
// file, are kept.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "kubesim-*"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || pid == os.Getpid() || pidAlive(pid) {
			continue
		}
		fi, err := os.Stat(d)
		if err != nil || time.Since(fi.ModTime()) < 10*time.Minute {
			continue // a failed Start names its logs in the error: keep them a while
		}
		_ = os.RemoveAll(d)
	}
}

// disabledAdmission turns off every default admission plugin except
// NamespaceLifecycle; see the package documentation for why.
var disabledAdmission = []string{
	"LimitRanger", "ServiceAccount", "TaintNodesByCondition", "PodSecurity", "Priority",
	"DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection",
	"PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning",
	"ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass",
	"MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
}

type pkiFiles struct {
	dir                                           string
	caCert, servingCert, servingKey, saKey, saPub string
}

func (s *APIServer) writePKI(dir string, opts Options) (pkiFiles, error) {
	f := pkiFiles{
		dir:         dir,
		caCert:      filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
	}
	svcIP, err := firstServiceIP(opts.ServiceCIDR)
	if err != nil {
		return f, fmt.Errorf("ServiceCIDR: %w", err)
	}
	dnsNames, ips, err := servingSANs(append([]string{opts.BindAddress}, opts.SANs...), svcIP)
	if err != nil {
		return f, err
	}
	servingCert, servingKey, err := s.ca.servingCert(dnsNames, ips)
	if err != nil {
		return f, err
	}
	if s.adminCert, s.adminKey, err = s.ca.clientCert("kubesim-admin", []string{"system:masters"}); err != nil {
		return f, err
	}

	saKeyPEM := opts.ServiceAccountKey
	if len(saKeyPEM) == 0 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return f, err
		}
		if saKeyPEM, err = encodeKey(k); err != nil {
			return f, err
		}
	}
	saKey, err := parsePrivateKey(saKeyPEM)
	if err != nil {
		return f, fmt.Errorf("ServiceAccountKey: %w", err)
	}
	saPub, err := encodePublicKey(saKey.Public())
	if err != nil {
		return f, err
	}
	for path, data := range map[string][]byte{
		f.caCert: s.ca.certPEM, f.servingCert: servingCert, f.servingKey: servingKey,
		f.saKey: saKeyPEM, f.saPub: saPub,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return f, err
		}
	}
	return f, nil
}

// freePorts reserves n distinct ports by listening on them at once.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("kubesim: finding a free port on %s: %w", host, err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a child with its log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // valid after done is closed
}

// startProcess starts bin with env, its output appended to logPath.
func startProcess(bin string, args []string, logPath string, env []string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	cmd.Env = env
	fmt.Fprintf(logFile, "# %s %s\n", bin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("kubesim: starting %s: %w", bin, err)
	}
	p := &process{name: filepath.Base(bin), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// envWithout is the environment minus the variables with one of the given
// name prefixes (etcd, for one, reads ETCD_* variables as flags).
func envWithout(prefixes ...string) []string {
	var kept []string
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		drop := false
		for _, p := range prefixes {
			drop = drop || strings.HasPrefix(name, p)
		}
		if !drop {
			kept = append(kept, e)
		}
	}
	return kept
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill stops all processes and waits for them.
func (s *APIServer) kill() {
	// Reverse start order: scheduler and controller manager, then
	// kube-apiserver, then etcd.
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].kill()
	}
	// Its only client is gone now; a failed Start ends it too.
	if s.egress != nil {
		s.egress.close()
	}
}

// kill kills p and waits up to 10 s for it to exit.
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// waitEtcd polls etcd's /health endpoint.
func (s *APIServer) waitEtcd(ctx context.Context, etcdURL string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	last := "no answer yet"
	for {
		if err := s.exitedErr(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, etcdURL+"/health", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("kubesim: start-up cancelled waiting for etcd: %w; log %s", ctx.Err(), s.logs[0])
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kubesim: etcd at %s not healthy after %s (last: %s); log %s:\n%s",
				etcdURL, timeout, last, s.logs[0], tail(s.logs[0], 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitedErr reports a process that has exited, with its log tail.
func (s *APIServer) exitedErr() error {
	for _, p := range s.procs {
		if err := p.exitErr(); err != nil {
			return err
		}
	}
	return nil
}

// exitErr reports, with its log tail, that p has exited; nil while it runs.
func (p *process) exitErr() error {
	if !p.exited() {
		return nil
	}
	err := fmt.Errorf("kubesim: %s exited during start-up (%v); log %s:\n%s", p.name, p.err, p.log, tail(p.log, 30))
	if strings.Contains(tail(p.log, 50), "address already in use") {
		err = fmt.Errorf("%w (%w)", err, errPortInUse)
	}
	return err
}

// waitReady polls /readyz with the admin client certificate until it answers
// 200, a process exits, ctx ends or the timeout passes.
func (s *APIServer) waitReady(ctx context.Context, timeout time.Duration) error {
	start := time.Now()
	tlsCfg, err := s.tlsConfig(s.adminCert, s.adminKey)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, Proxy: nil, DisableKeepAlives: true},
	}
	// Readiness first, then the default namespace, which the bootstrap
	// controller creates shortly after the server starts serving.
	urls := []string{s.url + "/readyz", s.url + "/api/v1/namespaces/default"}
	last, err := pollOK(ctx, client, urls, nil, s.exitedErr, timeout)
	switch {
	case errors.Is(err, errNotReady):
		return fmt.Errorf("kubesim: kube-apiserver at %s not ready after %s; last: %s\n"+
			"etcd log %s:\n%s\nkube-apiserver log %s:\n%s", s.url, timeout, last,
			s.logs[0], tail(s.logs[0], 10), s.logs[1], tail(s.logs[1], 30))
	case err != nil && ctx.Err() != nil:
		return s.cancelled(start, last, err)
	}
	return err
}

// cancelled is the error for a start-up that ctx ended.
func (s *APIServer) cancelled(start time.Time, last string, err error) error {
	return fmt.Errorf("kubesim: start-up cancelled after %s (%s): %w; logs: %s",
		time.Since(start).Round(time.Millisecond), last, err, strings.Join(s.logs, ", "))
}

func (s *APIServer) tlsConfig(certPEM, keyPEM []byte) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// URL is the API server's base URL, e.g. https://127.0.0.1:41235.
func (s *APIServer) URL() string { return s.url }

// Port is the API server's TCP port.
func (s *APIServer) Port() int { return s.port }

// CACert returns the cluster CA certificate (PEM): the caller's, or the
// generated one.
func (s *APIServer) CACert() []byte { return bytes.Clone(s.ca.certPEM) }

// LogFiles returns the paths of the etcd and kube-apiserver logs. Unless
// Options.LogDir was set, Stop deletes them.
func (s *APIServer) LogFiles() (etcd, apiserver string) { return s.logs[0], s.logs[1] }

// LogFile returns the log path of a started binary, e.g.
// "kube-controller-manager", or "" if it was not started.
func (s *APIServer) LogFile(binary string) string {
	for _, p := range s.procs {
		if p.name == binary {
			return p.log
		}
	}
	return ""
}

// ClientCert issues a client certificate (PEM) from the cluster CA for the
// given user and groups, e.g. ("admin", "system:masters") as Talos does, or
// ("system:node:cp-1", "system:nodes") for a node identity.
func (s *APIServer) ClientCert(user string, groups ...string) (certPEM, keyPEM []byte, err error) {
	return s.ca.clientCert(user, groups)
}

// AdminClient returns a client-go configuration for URL that authenticates
// with a client certificate (CN=kubesim-admin, O=system:masters) issued from
// the cluster CA and verifies the server against that CA. Client-side rate
// limiting is raised so tests are not throttled.
func (s *APIServer) AdminClient() (*rest.Config, error) {
	return &rest.Config{
		Host: s.url,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   bytes.Clone(s.ca.certPEM),
			CertData: bytes.Clone(s.adminCert),
			KeyData:  bytes.Clone(s.adminKey),
		},
		QPS:   200,
		Burst: 400,
	}, nil
}

// Kubeconfig renders an admin kubeconfig (client certificate, O=system:masters)
// for server, which may be any URL whose host is in the serving certificate,
// e.g. https://<load balancer IP>:6443. Empty server means URL.
func (s *APIServer) Kubeconfig(server string) ([]byte, error) {
	if server == "" {
		server = s.url
	}
	return renderKubeconfig(server, "kubesim-admin", s.ca.certPEM, s.adminCert, s.adminKey), nil
}

// renderKubeconfig is a kubeconfig for server that verifies it against
// caPEM and authenticates as user with a client certificate.
func renderKubeconfig(server, user string, caPEM, certPEM, keyPEM []byte) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: %q
    certificate-authority-data: %s
users:
- name: %q
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: kubesim
  context:
    cluster: kubesim
    user: %q
current-context: kubesim
`, server, b64(caPEM), user, b64(certPEM), b64(keyPEM), user))
}

// Stop kills the controller manager and scheduler (if started),
// kube-apiserver and etcd, waits for them to exit and removes the
// temporary directory (and with it the logs, unless Options.LogDir was set).
// It is safe to call more than once and from several goroutines.
func (s *APIServer) Stop() error {
	s.stopOnce.Do(func() {
		close(s.ctxStop)
		s.kill()
		for _, p := range s.procs {
			if !p.exited() {
				s.stopErr = fmt.Errorf("kubesim: %s (pid %d) did not exit", p.name, p.cmd.Process.Pid)
			}
		}
		if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
			s.stopErr = err
		}
	})
	return s.stopErr
}
