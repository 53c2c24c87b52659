package lifecycle

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

// testCluster is the cluster these tests apply: configtest's demo cluster on
// the cpx21 and cpx31 types.
func testCluster() configtest.File {
	return configtest.File{
		Name:         "demo",
		APISource:    "203.0.113.0/24",
		ControlPlane: configtest.Pool{Name: "control", Type: "cpx21", Location: "fsn1", Count: 3},
		Workers: []configtest.Pool{{Name: "worker", Type: "cpx31", Location: "fsn1", Count: 2,
			Labels: map[string]string{"tier": "general"}}},
	}
}

type world struct {
	env    *simtest.Env
	client *hetzner.Client
	deps   Deps
	out    *bytes.Buffer
}

func newWorld(t *testing.T, opts hcloudsim.Options) *world {
	t.Helper()
	env := simtest.New(t, opts)
	client := simClient(t, env, env.Token, nil)
	out := &bytes.Buffer{}
	return &world{env: env, client: client, out: out, deps: Deps{
		Client: client, Progress: out, InfrastructureOnly: true,
		CurrentIPs: func(context.Context, bool, bool) ([]string, error) {
			return nil, errors.New("tests never look up a public IP")
		},
	}}
}

// simClient is a client of env's simulator that sends token and waits in the
// simulator's time, through rt (nil: the loopback-only transport). It is
// closed when the test ends.
func simClient(t *testing.T, env *simtest.Env, token string, rt http.RoundTripper) *hetzner.Client {
	t.Helper()
	hc := simtest.LoopbackHTTPClient(t)
	if rt != nil {
		hc = &http.Client{Transport: rt}
	}
	client, err := hetzner.New(hetzner.Options{
		Token: token, Endpoint: env.Endpoint, HTTPClient: hc,
		Clock: simworld.Clock{Sim: env.Sim.Clock()}, PollInterval: time.Second, // simulated time
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func parse(t *testing.T, mutate func(*config.Cluster)) *config.Cluster {
	t.Helper()
	return configtest.Load(t, testCluster(), mutate)
}

func (w *world) seed(t *testing.T, c *config.Cluster) {
	t.Helper()
	if _, err := simworld.SeedTalosSnapshots(context.Background(), w.env.Client, c); err != nil {
		t.Fatal(err)
	}
}

func (w *world) apply(t *testing.T, c *config.Cluster) {
	t.Helper()
	if _, err := Apply(context.Background(), w.deps, c); err != nil {
		t.Fatalf("apply: %v\n%s", err, w.out)
	}
}

func (w *world) plan(t *testing.T, c *config.Cluster) *infra.Plan {
	t.Helper()
	res, err := Plan(context.Background(), w.deps, c)
	if err != nil {
		t.Fatal(err)
	}
	return res.Plan
}

func serverNames(t *testing.T, api *hcloud.Client) map[string]*hcloud.Server {
	t.Helper()
	servers, err := api.Server.AllWithOpts(context.Background(), hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: "cluster=demo"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*hcloud.Server{}
	for _, s := range servers {
		out[s.Name] = s
	}
	return out
}

func TestApplyPlanScaleDestroy(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	w.apply(t, c)

	servers := serverNames(t, w.env.Client)
	if len(servers) != 5 {
		t.Fatalf("servers = %v", servers)
	}
	for name, s := range servers {
		if len(s.PrivateNet) != 1 {
			t.Errorf("%s is not attached to the network", name)
			continue
		}
		ip := s.PrivateNet[0].IP.String()
		want := "10.0.80."
		if s.Labels["role"] == "control-plane" {
			want = "10.0.64."
		}
		if !strings.HasPrefix(ip, want) {
			t.Errorf("%s has private IP %s, want one in %s0/25", name, ip, want)
		}
		if !s.Protection.Delete || s.PlacementGroup == nil || len(s.PublicNet.Firewalls) != 1 {
			t.Errorf("%s: protection %v, placement group %v, firewalls %d", name, s.Protection.Delete, s.PlacementGroup, len(s.PublicNet.Firewalls))
		}
		if !strings.HasPrefix(s.PublicNet.IPv4.IP.String(), "127.") {
			t.Errorf("%s public IP %s is not loopback", name, s.PublicNet.IPv4.IP)
		}
	}
	if got := servers["demo-worker-1"].Labels; got["tier"] != "general" || got["nodepool"] != "worker" || got["cluster"] != "demo" {
		t.Errorf("worker labels = %v", got)
	}

	// A no-op re-apply plans nothing and costs few requests.
	before := w.client.Total()
	if p := w.plan(t, c); p.HasChanges() {
		t.Fatalf("plan after apply has changes: %+v", p.Changes)
	}
	if n := w.client.Total() - before; n > 15 {
		t.Errorf("a no-op plan cost %d requests, want ≤ 15", n)
	}

	// Scale up, then back down: the highest indices go.
	w.apply(t, parse(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 4 }))
	if n := len(serverNames(t, w.env.Client)); n != 7 {
		t.Fatalf("after scale-up: %d servers", n)
	}
	w.apply(t, c)
	servers = serverNames(t, w.env.Client)
	if _, ok := servers["demo-worker-4"]; ok || len(servers) != 5 {
		t.Fatalf("after scale-down: %v", servers)
	}

	// Destroy removes everything but the snapshot.
	var shown []string
	res, err := Destroy(context.Background(), w.deps, c, func(s []string) bool { shown = s; return true })
	if err != nil {
		t.Fatalf("destroy: %v\n%s", err, w.out)
	}
	if len(res.Left) != 0 || len(res.Kept) != 1 || len(shown) != len(res.Deleted) {
		t.Errorf("destroy result = %+v", res)
	}
	inv, err := w.client.Inventory(context.Background(), "cluster=demo")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Len() != 1 || len(inv.Snapshots) != 1 {
		t.Errorf("left after destroy: %d resources", inv.Len())
	}
}

func TestDestroyNeedsConfirmation(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	w.apply(t, c)
	if _, err := Destroy(context.Background(), w.deps, c, func([]string) bool { return false }); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("err = %v", err)
	}
	if n := len(serverNames(t, w.env.Client)); n != 5 {
		t.Errorf("an unconfirmed destroy deleted servers: %d left", n)
	}
}

func TestApplyWithoutSnapshotAndBuildsOffFailsBeforeWriting(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	_, err := Apply(context.Background(), w.deps, parse(t, func(c *config.Cluster) { c.Images.AMD64.BuildEnabled = false }))
	if err == nil || !strings.Contains(err.Error(), "os=talos") {
		t.Fatalf("err = %v", err)
	}
	if st := w.client.Stats()["apply"]; len(st) != 0 {
		t.Errorf("apply wrote although it could not create servers: %v", st)
	}
}

func TestScaleDownOfABootstrappedCluster(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	w.apply(t, c)
	// The marker that apply writes after bootstrap in a later release.
	testCert, testKey := selfSigned(t)
	if _, _, err := w.env.Client.Certificate.Create(context.Background(), hcloud.CertificateCreateOpts{
		Name: "demo-state", Type: hcloud.CertificateTypeUploaded, Labels: map[string]string{"cluster": "demo", "state": "initialized"},
		Certificate: testCert, PrivateKey: testKey,
	}); err != nil {
		t.Fatal(err)
	}
	// Control planes leave etcd first, which an infrastructure-only apply
	// does not do, and which needs the cluster's talosconfig; either way
	// the plan has a problem and apply writes nothing.
	oneCP := parse(t, func(c *config.Cluster) { c.ControlPlaneNodepools[0].Count = 1 })
	before := writes(w.client.Stats()["apply"])
	_, err := Apply(context.Background(), w.deps, oneCP)
	if !errors.Is(err, infra.ErrProblems) || !strings.Contains(err.Error(), "removing control planes demo-control-3, demo-control-2 of a bootstrapped cluster: each must leave etcd before its server goes, which --infrastructure-only does not do") {
		t.Fatalf("err = %v", err)
	}
	full := w.deps
	full.InfrastructureOnly, full.StateDir = false, t.TempDir()
	_, err = Apply(context.Background(), full, oneCP)
	if !errors.Is(err, infra.ErrProblems) || !strings.Contains(err.Error(), "removing control planes demo-control-3, demo-control-2 needs etcd's membership, read with the cluster's talosconfig") {
		t.Fatalf("err = %v", err)
	}
	if n := writes(w.client.Stats()["apply"]); n != before {
		t.Errorf("apply wrote %d times although its plan had problems: %v", n-before, w.client.Stats()["apply"])
	}
	// Workers are drained first, which needs the cluster's kubeconfig; without
	// one, apply stops before deleting anything.
	_, err = Apply(context.Background(), w.deps, parse(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 1 }))
	if err == nil || !strings.Contains(err.Error(), "apply stopped at drain removed workers: remove workers demo-worker-2: draining needs the cluster's API: the cluster's kubeconfig") || !strings.HasSuffix(err.Error(), "once the cause is fixed, apply continues from here") {
		t.Fatalf("err = %v", err)
	}
	if n := len(serverNames(t, w.env.Client)); n != 5 {
		t.Errorf("%d servers left, want 5", n)
	}
}

// writes counts the requests of a phase's statistics that change something
// other than the cluster lock (an SSH key, docs/locking.md).
func writes(st map[string]int) int {
	n := 0
	for k, v := range st {
		if !strings.HasPrefix(k, "GET ") && !strings.Contains(k, "/v1/ssh_keys") {
			n += v
		}
	}
	return n
}

func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "demo"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func TestDestroyCleansUpAutoscaledServersWhenAsked(t *testing.T) {
	for _, cleanup := range []bool{false, true} {
		w := newWorld(t, hcloudsim.Options{})
		c := parse(t, func(c *config.Cluster) {
			c.Addons.ClusterAutoscaler.Enabled = true
			c.Addons.ClusterAutoscaler.CleanupEnabled = cleanup
			c.AutoscalerNodepools = []config.AutoscalerPool{{Nodepool: config.Nodepool{Name: "auto", Type: "cpx31", Location: "fsn1"}, Max: 3}}
		})
		w.seed(t, c)
		w.apply(t, c)
		// What the autoscaler would have created: no cluster label, only its node group.
		res, _, err := w.env.Client.Server.Create(context.Background(), hcloud.ServerCreateOpts{
			Name: "demo-auto-4f2a", ServerType: &hcloud.ServerType{Name: "cpx31"}, Image: &hcloud.Image{Name: "debian-13"},
			Location: &hcloud.Location{Name: "fsn1"}, Labels: map[string]string{"hcloud/node-group": "demo-auto"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.env.Client.Action.WaitFor(context.Background(), res.Action); err != nil {
			t.Fatal(err)
		}
		if _, err := Destroy(context.Background(), w.deps, c, func([]string) bool { return true }); err != nil {
			t.Fatal(err)
		}
		left, _, err := w.env.Client.Server.GetByName(context.Background(), "demo-auto-4f2a")
		if err != nil {
			t.Fatal(err)
		}
		if (left == nil) != cleanup {
			t.Errorf("cleanupEnabled=%v: autoscaled server left = %v", cleanup, left != nil)
		}
	}
}

// Load balancers of every kind converge: created, attached at their fixed private
// IPs, with services and targets, and a second plan has nothing to do.
func TestLoadBalancersConverge(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, func(c *config.Cluster) {
		c.KubeAPI.LoadBalancer.Enabled = true
		c.ControlPlane.PublicVIPIPv4Enabled = true
		c.Addons.CertManager.Enabled = true
		c.IngressLoadBalancer.Pools = []config.IngressPool{{Name: "eu", Location: "fsn1", Count: 2}}
		c.Cluster.RDNS = "{{ hostname }}.example.com"
	})
	w.seed(t, c)
	w.apply(t, c)
	if p := w.plan(t, c); p.HasChanges() || len(p.Problems) > 0 {
		for _, ch := range p.Changes {
			if ch.Action != infra.ActionNoop {
				t.Errorf("%s %s: %s %+v", ch.Action, ch.Ref, ch.Reason, ch.Updates)
			}
		}
		t.Fatalf("problems: %v", p.Problems)
	}
	for name, ip := range map[string]string{"demo-kube-api": "10.0.64.254", "demo-eu-1": "10.0.64.251", "demo-eu-2": "10.0.64.250"} {
		lb, _, err := w.env.Client.LoadBalancer.GetByName(context.Background(), name)
		if err != nil || lb == nil || len(lb.PrivateNet) != 1 || lb.PrivateNet[0].IP.String() != ip {
			t.Errorf("%s: %v %+v", name, err, lb)
			continue
		}
		// The module sets reverse DNS on ingress load balancers, not on the kube-API one.
		wantPTR := name + ".example.com"
		if name == "demo-kube-api" {
			wantPTR = lb.PublicNet.IPv4.DNSPtr
		}
		if len(lb.Targets) == 0 || len(lb.Services) == 0 || lb.PublicNet.IPv4.DNSPtr != wantPTR {
			t.Errorf("%s: %d targets, %d services, ptr %q", name, len(lb.Targets), len(lb.Services), lb.PublicNet.IPv4.DNSPtr)
		}
	}
	if res, err := Destroy(context.Background(), w.deps, c, func([]string) bool { return true }); err != nil || len(res.Left) != 0 {
		t.Fatalf("destroy: %v %+v", err, res)
	}
}

// network.existingNetworkID: the cluster's subnets go into someone's network, the
// servers join it, and destroy takes out only what is the cluster's.
func TestExistingNetwork(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	ctx := context.Background()
	_, userRange, _ := net.ParseCIDR("10.0.1.0/24")
	_, netRange, _ := net.ParseCIDR("10.0.0.0/16")
	shared, _, err := w.env.Client.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name: "shared", IPRange: netRange,
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, IPRange: userRange, NetworkZone: hcloud.NetworkZoneEUCentral}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := parse(t, func(c *config.Cluster) { c.Network.ExistingNetworkID = shared.ID })
	w.seed(t, c)
	w.apply(t, c)
	if p := w.plan(t, c); p.HasChanges() || len(p.Problems) > 0 {
		t.Fatalf("not converged: %v %v", p.Changes, p.Problems)
	}
	for _, s := range serverNames(t, w.env.Client) {
		if len(s.PrivateNet) != 1 || s.PrivateNet[0].Network.ID != shared.ID {
			t.Errorf("%s is not in the existing network", s.Name)
		}
	}
	if res, err := Destroy(ctx, w.deps, c, func([]string) bool { return true }); err != nil || len(res.Left) != 0 {
		t.Fatalf("destroy: %v %+v", err, res)
	}
	after, _, err := w.env.Client.Network.GetByID(ctx, shared.ID)
	if err != nil || after == nil {
		t.Fatalf("the existing network is gone: %v", err)
	}
	if len(after.Subnets) != 1 || after.Subnets[0].IPRange.String() != "10.0.1.0/24" {
		t.Errorf("subnets left in the existing network: %v", after.Subnets)
	}
}

// Load balancers the cluster's CCM made (label hcloud-ccm/service-uid, no
// cluster label) are deleted by destroy when they are attached to the
// cluster's network; one of another cluster, or one in no network, is not:
// nothing proves it is this cluster's.
func TestDestroyRemovesTheCCMsLoadBalancers(t *testing.T) {
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	w.seed(t, c)
	w.apply(t, c)
	ctx := context.Background()
	api := w.env.Client
	network, _, err := api.Network.GetByName(ctx, "demo")
	if err != nil || network == nil {
		t.Fatalf("the cluster's network: %v", err)
	}
	other, _, err := api.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: "other", IPRange: mustCIDR("10.1.0.0/16"),
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, NetworkZone: hcloud.NetworkZoneEUCentral, IPRange: mustCIDR("10.1.0.0/24")}},
		Labels:  map[string]string{"cluster": "other"}})
	if err != nil {
		t.Fatal(err)
	}
	ccmLB := func(name string, net *hcloud.Network) {
		t.Helper()
		opts := hcloud.LoadBalancerCreateOpts{Name: name, LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb11"}, Location: &hcloud.Location{Name: "fsn1"},
			Labels: map[string]string{"hcloud-ccm/service-uid": "0c6f7f2e-" + name}, Network: net}
		res, _, err := api.LoadBalancer.Create(ctx, opts)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if err := api.Action.WaitFor(ctx, res.Action); err != nil {
			t.Fatal(err)
		}
	}
	ccmLB("a0c6f7f2e-ours", network)
	ccmLB("a0c6f7f2e-theirs", other)
	ccmLB("a0c6f7f2e-nowhere", nil)

	res, err := Destroy(ctx, w.deps, c, func([]string) bool { return true })
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if !slices.Contains(res.Deleted, "load balancer a0c6f7f2e-ours") {
		t.Errorf("deleted %v, not the CCM's load balancer in the cluster's network", res.Deleted)
	}
	for _, name := range []string{"a0c6f7f2e-ours", "a0c6f7f2e-theirs", "a0c6f7f2e-nowhere"} {
		lb, _, err := api.LoadBalancer.GetByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if gone, want := lb == nil, name == "a0c6f7f2e-ours"; gone != want {
			t.Errorf("load balancer %s: deleted %v, want %v", name, gone, want)
		}
	}
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}
