package formation

import (
	"context"
	"crypto/tls"
	"net/netip"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
)

const talosKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster:
    server: https://10.0.64.126:6443
    certificate-authority-data: Y2E=
users:
- name: admin@demo
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: admin@demo
  context: {cluster: demo, user: admin@demo}
current-context: admin@demo
`

// Talos writes the internal endpoint (the private VIP); the kubeconfig users get
// must point at the external URL, with everything else unchanged.
func TestRewriteServer(t *testing.T) {
	out, err := rewriteServer([]byte(talosKubeconfig), "https://203.0.113.10:6443")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Clusters["demo"]
	if cl.Server != "https://203.0.113.10:6443" || string(cl.CertificateAuthorityData) != "ca" {
		t.Errorf("cluster = %+v", cl)
	}
	if u := cfg.AuthInfos["admin@demo"]; string(u.ClientCertificateData) != "cert" || cfg.CurrentContext != "admin@demo" {
		t.Errorf("user or context changed: %+v %s", u, cfg.CurrentContext)
	}
	if _, err := rewriteServer([]byte("not: [yaml"), "https://x"); err == nil || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("bad kubeconfig: %v", err)
	}
}

// The primary is the control plane with the smallest name, as the module's
// sort(keys(...))[0]: demo-control-10 sorts before demo-control-2.
func TestPrimaryNode(t *testing.T) {
	nodes := []Node{
		{Name: "demo-worker-1", Role: talos.RoleWorker},
		{Name: "demo-control-2", Role: talos.RoleControlPlane},
		{Name: "demo-control-10", Role: talos.RoleControlPlane, PublicIPv4: netip.MustParseAddr("127.0.1.9")},
	}
	if got, _ := Primary(nodes); got.Name != "demo-control-10" {
		t.Errorf("primary = %s, want demo-control-10", got.Name)
	}
}

// sleepyClock is a clock on which every Sleep passes at once: a wait that runs
// on it gives up after its Timeout without real time passing. The wait below
// runs on the test's goroutine, so the clock needs no lock.
type sleepyClock struct {
	clock.Clock // the waits need only Now and Sleep
	now         time.Time
}

func (c *sleepyClock) Now() time.Time { return c.now }

func (c *sleepyClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// The waits are measured and paced on Inputs.Clock, not the wall clock: a node
// that never answers is given up on after Timeout of the clock's time, long
// before that much real time has passed.
func TestWaitsRunOnTheInputsClock(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &sleepyClock{now: epoch}
	var progress strings.Builder
	s := NewState(Inputs{Clock: c, Timeout: time.Hour, PollInterval: time.Minute, Progress: &progress})
	s.mtls = &tls.Config{MinVersion: tls.VersionTLS13}
	// Nothing listens on this address; a wait on the wall clock would run into
	// the test's own deadline instead.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := Node{Name: "demo-control-1", PublicIPv4: netip.MustParseAddr("127.0.0.254")}
	_, err := s.configure(ctx, n, nil)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 1h0m0s (last attempt: nothing listens there yet (connection refused);") {
		t.Fatalf("err = %v, want the Talos API given up on after the clock's hour, with the last attempt's answer", err)
	}
	// The wait says what the attempts return, at a calm rate: after 30 s,
	// then every 2 minutes while the answer stays the same.
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) < 25 || len(lines) > 35 || !strings.Contains(lines[0], "still waiting for the Talos API of demo-control-1 (127.0.0.254:50000) after 1m0s: nothing listens there yet (connection refused)") {
		t.Errorf("%d progress lines, first %q; want about 30, saying the connection is refused", len(lines), lines[0])
	}
	if slept := c.now.Sub(epoch); slept < time.Hour || slept > time.Hour+2*time.Minute {
		t.Errorf("slept %s on the clock, want an hour in one-minute polls", slept)
	}
}
