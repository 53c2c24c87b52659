package kubesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// The integration tests share one server (start-up costs about 4 s).
var shared struct {
	once    sync.Once
	srv     *APIServer
	err     error
	startup time.Duration
}

// Extra SANs of the shared server: a load-balancer-like public IP, a DNS
// name and a second loopback address.
const (
	sanPublicIP = "203.0.113.10"
	sanDNS      = "api.sim.test"
	sanLoopback = "127.0.1.9"
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBESIM_STANDIN") == "1" {
		os.Exit(standIn(filepath.Base(os.Args[0]), os.Args[1:]))
	}
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubesim: stopping shared server:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// requireBinaries fails the test when etcd or kube-apiserver is missing,
// with the instruction to build them. Under -short it skips instead.
func requireBinaries(t *testing.T) {
	t.Helper()
	requireNamed(t, testbin.Etcd, testbin.APIServer)
}

// requireNamed is requireBinaries for the named binaries, e.g. the
// controller manager or the CCM.
func requireNamed(t *testing.T, names ...string) {
	t.Helper()
	if _, err := findBinaries("", names...); err != nil {
		if testing.Short() {
			t.Skipf("-short and no test binaries: %v", err)
		}
		t.Fatal(err)
	}
}

func sharedServer(t *testing.T) *APIServer {
	t.Helper()
	requireBinaries(t)
	shared.once.Do(func() {
		caCert, caKey, err := GenerateCA("shared-test-ca")
		if err != nil {
			shared.err = err
			return
		}
		begin := time.Now()
		shared.srv, shared.err = Start(context.Background(), Options{
			CACert: caCert, CAKey: caKey,
			SANs: []string{sanPublicIP, sanDNS, sanLoopback},
		})
		shared.startup = time.Since(begin)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

func clientset(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestCreateAndReadBack(t *testing.T) {
	s := sharedServer(t)
	t.Logf("shared server %s ready after %s", s.URL(), shared.startup.Round(time.Millisecond))
	cfg, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset(t, cfg)
	ctx := t.Context()

	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server version %s", v.GitVersion)
	if !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Errorf("unstamped server version %q", v.GitVersion)
	}

	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: "cp-1",
			Labels: map[string]string{
				"kubernetes.io/hostname":                "cp-1",
				"node-role.kubernetes.io/control-plane": "",
			},
		},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{
			Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule,
		}}},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kubesim-test", Labels: map[string]string{"a": "b"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	gotNode, err := cs.CoreV1().Nodes().Get(ctx, "cp-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gotNode.Labels["node-role.kubernetes.io/control-plane"]; !ok || len(gotNode.Spec.Taints) != 1 {
		t.Errorf("node read back without its labels or taints: %+v", gotNode)
	}
	gotNS, err := cs.CoreV1().Namespaces().Get(ctx, "kubesim-test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotNS.Labels["a"] != "b" || gotNS.Status.Phase != corev1.NamespaceActive {
		t.Errorf("namespace read back as %+v", gotNS)
	}

	// Pods can be created without a "default" ServiceAccount (the
	// ServiceAccount admission plugin is off) and bound to the node directly.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "kubesim-test"},
		Spec:       corev1.PodSpec{NodeName: "cp-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := cs.CoreV1().Pods("kubesim-test").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=cp-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Errorf("pods on cp-1: %d, want 1", len(pods.Items))
	}
	zero := int64(0)
	if err := cs.CoreV1().Pods("kubesim-test").Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, "cp-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestClientCertificates(t *testing.T) {
	s := sharedServer(t)
	good, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	list := func(cfg *rest.Config) error {
		_, err := clientset(t, cfg).CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
		return err
	}
	if err := list(good); err != nil {
		t.Fatalf("admin client: %v", err)
	}

	// A Talos-style admin certificate from the cluster CA: accepted.
	certPEM, keyPEM, err := s.ClientCert("admin", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	talos := rest.CopyConfig(good)
	talos.CertData, talos.KeyData = certPEM, keyPEM
	if err := list(talos); err != nil {
		t.Errorf("admin certificate from the cluster CA rejected: %v", err)
	}

	// Right CA, no privileges: authenticated, then denied by RBAC.
	certPEM, keyPEM, err = s.ClientCert("nobody")
	if err != nil {
		t.Fatal(err)
	}
	nobody := rest.CopyConfig(good)
	nobody.CertData, nobody.KeyData = certPEM, keyPEM
	if err := list(nobody); !apierrors.IsForbidden(err) {
		t.Errorf("unprivileged user: got %v, want Forbidden", err)
	}

	// Same subject, but signed by another CA: not authenticated.
	otherCert, otherKey, err := GenerateCA("foreign-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := parseAuthority(otherCert, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err = other.clientCert("admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	foreign := rest.CopyConfig(good)
	foreign.CertData, foreign.KeyData = certPEM, keyPEM
	if err := list(foreign); !apierrors.IsUnauthorized(err) {
		t.Errorf("certificate from a foreign CA: got %v, want Unauthorized", err)
	}

	// A client that trusts only the foreign CA refuses the server.
	distrust := rest.CopyConfig(good)
	distrust.CAData = otherCert
	if err := list(distrust); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("server verified against a foreign CA: got %v, want unknown authority", err)
	}
}

// TestSANs checks that the serving certificate covers every configured
// address. The server binds 127.0.0.1 only, so addresses other than
// 127.0.0.1/localhost are reached as the simulated world will reach them:
// through something that forwards to the bound address. TLS verification
// always uses the host in the URL, so this tests the certificate exactly as
// a kubeconfig pointing at that host would.
func TestSANs(t *testing.T) {
	s := sharedServer(t)
	base, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	ping := func(cfg *rest.Config) error {
		_, err := clientset(t, cfg).Discovery().ServerVersion()
		return err
	}
	withHost := func(host string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *rest.Config {
		cfg := rest.CopyConfig(base)
		cfg.Host = "https://" + net.JoinHostPort(host, strconv.Itoa(s.Port()))
		cfg.Dial = dial
		cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
		return cfg
	}
	// redirect dials the API server whatever address the client asks for,
	// like the simulated load balancer would.
	var d net.Dialer
	redirect := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port())))
	}

	for _, host := range []string{"127.0.0.1", "localhost"} {
		if err := ping(withHost(host, nil)); err != nil {
			t.Errorf("direct via %s: %v", host, err)
		}
	}
	for _, host := range []string{sanPublicIP, sanDNS, sanLoopback, "kubernetes.default.svc", "10.96.0.1"} {
		if err := ping(withHost(host, redirect)); err != nil {
			t.Errorf("via SAN %s: %v", host, err)
		}
	}
	for _, host := range []string{"198.51.100.7", "other.sim.test"} {
		err := ping(withHost(host, redirect))
		if err == nil || !strings.Contains(err.Error(), "certificate is valid for") {
			t.Errorf("via %s (not a SAN): got %v, want a certificate name mismatch", host, err)
		}
	}

	// A real second loopback address: a TCP forwarder on 127.0.1.9 (all of
	// 127/8 is local on Linux), dialled without any redirect.
	t.Run("loopback-alias", func(t *testing.T) {
		l, err := net.Listen("tcp", net.JoinHostPort(sanLoopback, "0"))
		if err != nil {
			t.Skipf("cannot listen on %s on this OS: %v", sanLoopback, err)
		}
		t.Cleanup(func() { l.Close() })
		go forward(l, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port())))
		cfg := rest.CopyConfig(base)
		cfg.Host = "https://" + l.Addr().String()
		if err := ping(cfg); err != nil {
			t.Errorf("via %s: %v", cfg.Host, err)
		}
	})

	// The rendered kubeconfig, pointed at the public IP, works unmodified.
	t.Run("kubeconfig", func(t *testing.T) {
		kc, err := s.Kubeconfig("https://" + net.JoinHostPort(sanPublicIP, strconv.Itoa(s.Port())))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
		if err != nil {
			t.Fatalf("%v\n%s", err, kc)
		}
		cfg.Dial = redirect
		cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
		if err := ping(cfg); err != nil {
			t.Error(err)
		}
	})
}

func forward(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer u.Close()
			go func() { _, _ = io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
			_, _ = io.Copy(c, u)
		}()
	}
}

// TestOwnServerLifecycle starts a second server with an RSA CA in PKCS#1
// form (as older Talos releases generate) and an RSA service-account key,
// reports resources, and checks that Stop leaves nothing behind.
func TestOwnServerLifecycle(t *testing.T) {
	requireBinaries(t)
	caCert, caKey := rsaCA(t)
	saKey := rsaKeyPEM(t)

	begin := time.Now()
	s, err := Start(t.Context(), Options{CACert: caCert, CAKey: caKey, ServiceAccountKey: saKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("ready after %s at %s (etcd healthy after %s, API ready after %s)", time.Since(begin).Round(time.Millisecond), s.URL(),
		s.etcdReadyAfter.Round(time.Millisecond), s.readyAfter.Round(time.Millisecond))

	cfg, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset(t, cfg)
	// A service-account token, signed with the supplied key, authenticates.
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(t.Context(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts("default").CreateToken(t.Context(), "robot",
		&authTokenRequest, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saCfg := &rest.Config{Host: s.URL(), BearerToken: tok.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.CACert()}}
	_, err = clientset(t, saCfg).CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:serviceaccount:default:robot") {
		t.Errorf("service-account token: got %v, want Forbidden for system:serviceaccount:default:robot", err)
	}

	for _, p := range s.procs {
		t.Logf("%s pid %d RSS %s", p.name, p.cmd.Process.Pid, rss(p.cmd.Process.Pid))
	}

	dir := s.dir
	var pids []int
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %s", time.Since(begin).Round(time.Millisecond))
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s still there (%v)", dir, err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d still running after Stop", pid)
		}
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Error("API server still answers after Stop")
	}
}

// TestContextCancelStops: cancelling the Start context stops the servers.
func TestContextCancelStops(t *testing.T) {
	requireBinaries(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	cancel()
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range s.procs {
		for processAlive(p.cmd.Process.Pid) && !p.exited() {
			if time.Now().After(deadline) {
				t.Fatalf("%s still running after the context was cancelled", p.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for time.Now().Before(deadline) {
		if _, err := os.Stat(s.dir); errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("temporary directory %s not removed", s.dir)
}

// TestMissingBinaries needs no binaries: the error must say how to build them.
func TestMissingBinaries(t *testing.T) {
	_, err := Start(t.Context(), Options{BinDir: t.TempDir()})
	if !errors.Is(err, ErrBinariesMissing) {
		t.Fatalf("got %v, want ErrBinariesMissing", err)
	}
	if !strings.Contains(err.Error(), "go run ./hack/testbin") {
		t.Errorf("error does not tell how to build the binaries: %v", err)
	}
}

// standInBin returns a directory whose etcd and kube-apiserver are links to
// this test binary, which then acts as configured by the KUBESIM_STANDIN_*
// variables (see standIn).
func standInBin(t *testing.T, etcdMode string) (bin, pidFile string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin = t.TempDir()
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if err := os.Symlink(exe, filepath.Join(bin, name)); err != nil {
			t.Skipf("cannot symlink the test binary: %v", err)
		}
	}
	pidFile = filepath.Join(t.TempDir(), "etcd.pid")
	t.Setenv("KUBESIM_STANDIN", "1")
	t.Setenv("KUBESIM_STANDIN_ETCD", etcdMode)
	t.Setenv("KUBESIM_STANDIN_PIDFILE", pidFile)
	return bin, pidFile
}

// standIn runs instead of the tests when the test binary is started as a
// stand-in etcd or kube-apiserver.
func standIn(name string, args []string) int {
	switch name {
	case "etcd":
		if os.Getenv("KUBESIM_STANDIN_ETCD") == "crash" {
			fmt.Fprintln(os.Stderr, `{"level":"fatal","msg":"etcd boom: cannot access data directory"}`)
			return 2
		}
		os.WriteFile(os.Getenv("KUBESIM_STANDIN_PIDFILE"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		for _, a := range args {
			if u, ok := strings.CutPrefix(a, "--listen-client-urls=http://"); ok {
				http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"health":"true"}`) })
				fmt.Fprintln(os.Stderr, http.ListenAndServe(u, nil))
				return 1
			}
		}
		return 1
	case "kube-apiserver":
		if os.Getenv("KUBESIM_STANDIN_API") == "hang" {
			fmt.Fprintln(os.Stderr, "I0101 waiting for something that never happens")
			time.Sleep(time.Minute)
			return 0
		}
		time.Sleep(300 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "E0101 boom: invalid flag")
		return 3
	case "kube-controller-manager":
		fmt.Fprintln(os.Stderr, "E0101 kcm boom: unknown controller")
		return 3
	}
	return 1
}

// TestStartFailure: kube-apiserver dies at once. Start must fail quickly,
// quote the log, name its path, keep the log and kill etcd.
func TestStartFailure(t *testing.T) {
	bin, pidFile := standInBin(t, "serve")
	begin := time.Now()
	_, err := Start(t.Context(), Options{BinDir: bin, StartTimeout: 20 * time.Second})
	if err == nil {
		t.Fatal("Start succeeded with a crashing kube-apiserver")
	}
	t.Logf("failed after %s: %v", time.Since(begin).Round(time.Millisecond), err)
	checkFailure(t, err, begin, "boom: invalid flag", "kube-apiserver.log")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid > 0 && processAlive(pid) {
		t.Errorf("stand-in etcd (pid %d) still running", pid)
	}
}

// TestEtcdFailure: etcd dies at once; the error must point at its log.
func TestEtcdFailure(t *testing.T) {
	bin, _ := standInBin(t, "crash")
	begin := time.Now()
	_, err := Start(t.Context(), Options{BinDir: bin, StartTimeout: 20 * time.Second})
	if err == nil {
		t.Fatal("Start succeeded with a crashing etcd")
	}
	checkFailure(t, err, begin, "etcd boom", "etcd.log")
}

// TestReadyTimeout: kube-apiserver never answers; Start gives up after
// StartTimeout, says so, and quotes both logs.
func TestReadyTimeout(t *testing.T) {
	bin, _ := standInBin(t, "serve")
	t.Setenv("KUBESIM_STANDIN_API", "hang")
	begin := time.Now()
	_, err := Start(t.Context(), Options{BinDir: bin, StartTimeout: 1500 * time.Millisecond})
	if err == nil {
		t.Fatal("Start succeeded with a silent kube-apiserver")
	}
	if !strings.Contains(err.Error(), "not ready after 1.5s") || !strings.Contains(err.Error(), "never happens") {
		t.Errorf("unhelpful timeout error: %v", err)
	}
	checkFailure(t, err, begin, "connection refused", "kube-apiserver.log")
}

func checkFailure(t *testing.T, err error, begin time.Time, want, logName string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, want) || !strings.Contains(msg, logName) {
		t.Errorf("error lacks the log tail or path: %v", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("took %s to notice the exit", d)
	}
	// The log named in the error is kept; the caller may delete it.
	i := strings.Index(msg, "log /")
	if i < 0 {
		t.Fatalf("no log path in %q", msg)
	}
	logPath := strings.TrimSuffix(strings.Fields(msg[i+4:])[0], ":")
	if _, err := os.Stat(logPath); err != nil {
		t.Errorf("log %s: %v", logPath, err)
	}
	os.RemoveAll(filepath.Dir(logPath))
}

func TestSweepStale(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("liveness of other processes is only checked on Linux")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	mk := func(pid int, age time.Duration) string {
		d, err := os.MkdirTemp("", "kubesim-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(pid)), 0o600)
		old := time.Now().Add(-age)
		os.Chtimes(d, old, old)
		return d
	}
	stale := mk(dead.Process.Pid, time.Hour)
	recent := mk(dead.Process.Pid, time.Minute)
	mine := mk(os.Getpid(), time.Hour)
	sweepStale()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale directory of dead pid %d kept", dead.Process.Pid)
	}
	for _, d := range []string{recent, mine} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}

func TestServingSANs(t *testing.T) {
	dns, ips, err := servingSANs([]string{"203.0.113.10", "https://API.example.com:6443/", "[2001:db8::1]:6443", "10.0.0.2:6443", "127.0.0.1"}, mustServiceIP(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range dns {
		got[d] = true
	}
	for _, ip := range ips {
		got[ip.String()] = true
	}
	for _, want := range []string{"127.0.0.1", "::1", "localhost", "kubernetes.default.svc.cluster.local", "10.96.0.1",
		"203.0.113.10", "api.example.com", "2001:db8::1", "10.0.0.2"} {
		if !got[want] {
			t.Errorf("SAN %s missing from %v %v", want, dns, ips)
		}
	}
	if len(ips) != 6 {
		t.Errorf("duplicate or extra IPs: %v", ips)
	}
}

func mustServiceIP(t *testing.T) net.IP {
	ip, err := firstServiceIP("10.96.0.0/12")
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

func TestParseAuthorityRejectsMismatch(t *testing.T) {
	c1, _, err := GenerateCA("a")
	if err != nil {
		t.Fatal(err)
	}
	_, k2, err := GenerateCA("b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseAuthority(c1, k2); err == nil {
		t.Error("mismatched CA key accepted")
	}
	rc, rk := rsaCA(t)
	if _, err := parseAuthority(rc, rk); err != nil {
		t.Errorf("RSA PKCS#1 CA: %v", err)
	}
}

// The real tools modules parse (RequiredVersion itself is tested in
// internal/testbin).
func TestCachedBinariesParseToolsModules(t *testing.T) {
	for _, b := range testbin.Binaries() {
		if _, err := testbin.CachedPath(b.Name); err != nil {
			t.Errorf("%s: %v", b.Name, err)
		}
	}
}

func rss(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "n/a"
}
