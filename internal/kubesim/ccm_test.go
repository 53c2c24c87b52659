package kubesim

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const uninitializedTaint = "node.cloudprovider.kubernetes.io/uninitialized"

// TestCCMInitializesNode runs the real hcloud cloud-controller-manager
// against a simulated Hetzner project: a node registered with the
// uninitialized taint and no provider ID, named like its server, gets the
// server's provider ID, type, zone and region labels and addresses (public
// and private), and loses the taint.
func TestCCMInitializesNode(t *testing.T) {
	requireNamed(t, testbin.Etcd, testbin.APIServer, testbin.CCM)
	env := simtest.New(t, hcloudsim.Options{})
	nw, srv := ccmFixture(t, env)

	s, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	kubeconfig, err := s.Kubeconfig("")
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	ccm, err := StartCCM(t.Context(), CCMOptions{
		Kubeconfig: kubeconfig, Token: env.Token, Endpoint: env.Endpoint,
		Network: strconv.FormatInt(nw.ID, 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ccm.Stop() })
	t.Logf("CCM initialized after %s; log %s", time.Since(begin).Round(time.Millisecond), ccm.LogFile())

	cfg, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset(t, cfg)
	node := readyNode(srv.Name)
	node.Spec.Taints = []corev1.Taint{{Key: uninitializedTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	if _, err := cs.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{
		"node.kubernetes.io/instance-type": srv.ServerType.Name,
		"topology.kubernetes.io/region":    srv.Location.Name,
		"topology.kubernetes.io/zone":      srv.Location.Name + "-dc14", // the CCM's legacy zone name for fsn1
	}
	wantAddrs := []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: srv.Name},
		{Type: corev1.NodeExternalIP, Address: srv.PublicNet.IPv4.IP.String()},
		{Type: corev1.NodeInternalIP, Address: srv.PrivateNet[0].IP.String()},
	}
	testwait.Eventually(t, 60*time.Second, "node initialized by the CCM", func() error {
		n, err := cs.CoreV1().Nodes().Get(t.Context(), srv.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		return initialized(n, fmt.Sprintf("hcloud://%d", srv.ID), want, wantAddrs)
	})

	pid := ccm.proc.cmd.Process.Pid
	if err := ccm.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Errorf("CCM (pid %d) still running after Stop", pid)
	}
	if _, err := os.Stat(ccm.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CCM directory %s still there (%v)", ccm.dir, err)
	}
}

// TestCCMStartFailure: a CCM that cannot set up its cloud provider (the
// network does not exist) exits; StartCCM says so and quotes its log.
func TestCCMStartFailure(t *testing.T) {
	requireNamed(t, testbin.CCM)
	env := simtest.New(t, hcloudsim.Options{})
	// Never dialled: the CCM gives up on the network before it talks to
	// the API server.
	kubeconfig := renderKubeconfig("https://127.0.0.1:1", "nobody", nil, nil, nil)
	begin := time.Now()
	_, err := StartCCM(t.Context(), CCMOptions{Kubeconfig: kubeconfig, Token: env.Token, Endpoint: env.Endpoint, Network: "no-such-network"})
	if err == nil {
		t.Fatal("StartCCM succeeded without the network")
	}
	if !strings.Contains(err.Error(), "exited during start-up") || !strings.Contains(err.Error(), "no-such-network") {
		t.Errorf("error does not say the CCM exited, or lacks its log: %v", err)
	}
	if d := time.Since(begin); d > 20*time.Second {
		t.Errorf("took %s to notice the exit", d)
	}
	if i := strings.Index(err.Error(), "log /"); i >= 0 {
		os.RemoveAll(filepath.Dir(strings.TrimSuffix(strings.Fields(err.Error()[i+4:])[0], ":")))
	}
}

// TestCCMRefusesRemoteEndpoint: nothing is started for a non-loopback API.
func TestCCMRefusesRemoteEndpoint(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, testbin.CCM), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := StartCCM(t.Context(), CCMOptions{BinDir: dir, Kubeconfig: []byte("x"), Token: "t", Endpoint: "https://api.hetzner.cloud/v1"})
	if err == nil || !strings.Contains(err.Error(), "not a loopback URL") {
		t.Errorf("remote endpoint: got %v, want a refusal", err)
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080/v1": true, "http://127.16.3.1/v1": true, "https://[::1]:1/v1": true, "http://localhost:9/v1": true,
		"https://api.hetzner.cloud/v1": false, "http://169.254.169.254/": false, "http://10.0.0.2/": false, "127.0.0.1:80": false,
	} {
		if err := checkLoopbackURL(raw); (err == nil) != ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestLocationsListed(t *testing.T) {
	ok := "# TYPE hcloud_api_requests_total counter\n" +
		`hcloud_api_requests_total{api_endpoint="/locations",code="200",method="get"} 1` + "\n"
	if err := locationsListed([]byte(ok)); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		`hcloud_api_requests_total{api_endpoint="/locations",code="401",method="get"} 1`,
		`hcloud_api_requests_total{api_endpoint="/networks",code="200",method="get"} 1`,
	} {
		if locationsListed([]byte(bad)) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestCCMEnvStaysLocal: the environment has the settings that keep the CCM
// on loopback, and nothing inherited that could point it elsewhere.
func TestCCMEnvStaysLocal(t *testing.T) {
	t.Setenv("HCLOUD_ENDPOINT", "https://api.hetzner.cloud/v1")
	t.Setenv("ROBOT_USER", "someone")
	t.Setenv("HTTPS_PROXY", "http://proxy.example:3128")
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	env := ccmEnv(CCMOptions{Token: "t", Endpoint: "http://127.0.0.1:1/v1", Network: "k8s"}, "127.0.0.1:2")
	got := map[string][]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		got[k] = append(got[k], v)
	}
	for k, v := range map[string]string{
		"HCLOUD_ENDPOINT": "http://127.0.0.1:1/v1", "HCLOUD_NETWORK": "k8s", "HCLOUD_TOKEN": "t",
		"HCLOUD_NETWORK_DISABLE_ATTACHED_CHECK": "true", "HCLOUD_METRICS_ADDRESS": "127.0.0.1:2", "ROBOT_ENABLED": "false",
	} {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s = %v, want exactly %q", k, got[k], v)
		}
	}
	for _, k := range []string{"ROBOT_USER", "HTTPS_PROXY", "KUBERNETES_SERVICE_HOST"} {
		if len(got[k]) > 0 {
			t.Errorf("%s inherited: %v", k, got[k])
		}
	}
}

// ccmFixture creates a network with a subnet and a running server attached
// to it, as a cluster's node would be.
func ccmFixture(t *testing.T, env *simtest.Env) (*hcloud.Network, *hcloud.Server) {
	t.Helper()
	ctx := t.Context()
	_, ipRange, _ := net.ParseCIDR("10.0.0.0/16")
	_, subnet, _ := net.ParseCIDR("10.0.1.0/24")
	nw, _, err := env.Client.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name: "k8s", IPRange: ipRange,
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, IPRange: subnet, NetworkZone: hcloud.NetworkZoneEUCentral}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "cp-1", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"},
		Location: &hcloud.Location{Name: "fsn1"}, Networks: []*hcloud.Network{nw},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
		t.Fatal(err)
	}
	srv, _, err := env.Client.Server.GetByID(ctx, res.Server.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.PrivateNet) != 1 {
		t.Fatalf("server %s has %d private networks, want 1", srv.Name, len(srv.PrivateNet))
	}
	return nw, srv
}

// initialized reports what the CCM has not yet done to n.
func initialized(n *corev1.Node, providerID string, labels map[string]string, addrs []corev1.NodeAddress) error {
	var missing []string
	if n.Spec.ProviderID != providerID {
		missing = append(missing, fmt.Sprintf("providerID %q, want %q", n.Spec.ProviderID, providerID))
	}
	for _, taint := range n.Spec.Taints {
		if taint.Key == uninitializedTaint {
			missing = append(missing, "still tainted "+uninitializedTaint)
		}
	}
	for k, v := range labels {
		if n.Labels[k] != v {
			missing = append(missing, fmt.Sprintf("label %s=%q, want %q", k, n.Labels[k], v))
		}
	}
	for _, a := range addrs {
		if !hasAddress(n.Status.Addresses, a) {
			missing = append(missing, fmt.Sprintf("address %s %s missing from %v", a.Type, a.Address, n.Status.Addresses))
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "; "))
	}
	return nil
}

func hasAddress(addrs []corev1.NodeAddress, want corev1.NodeAddress) bool {
	for _, a := range addrs {
		if a == want {
			return true
		}
	}
	return false
}
