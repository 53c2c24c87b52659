package simworld

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
)

// testLog forwards the world's log to t.Log until the test ends.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// talosDialer keeps the Talos client on loopback.
func talosDialer(t testing.TB) client.OptionFunc {
	dial := simtest.LoopbackDialer(t)
	return client.WithGRPCDialOptions(grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		return dial(ctx, "tcp", addr)
	}))
}

func waitFor(t testing.TB, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestTalosWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver (built by `go run ./hack/testbin`)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	env := simtest.New(t, hcloudsim.Options{})
	api := env.Client
	c, err := config.Parse(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"}), "cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snapshots, err := SeedTalosSnapshots(ctx, api, c)
	if err != nil {
		t.Fatalf("seed snapshots: %v", err)
	}
	var image *hcloud.Image
	for _, id := range snapshots {
		img, _, err := api.Image.GetByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if img.Architecture == hcloud.ArchitectureX86 {
			image = img
		}
	}
	if image == nil {
		t.Fatalf("no amd64 snapshot among %v", snapshots)
	}

	logw := &testLog{t: t}
	w, err := StartTalosWorld(ctx, env.Sim, TalosWorldOptions{TalosImages: ImageSet(snapshots...), Log: logw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		logw.stop()
	})

	// The cluster's network and three control planes, as apply creates them.
	lay, err := c.Layout()
	if err != nil {
		t.Fatal(err)
	}
	network, _, err := api.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name:    "demo",
		IPRange: prefixNet(lay.Network),
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, NetworkZone: hcloud.NetworkZoneEUCentral, IPRange: prefixNet(lay.ControlPlane)}},
		Labels:  layout.ClusterLabels("demo"),
	})
	if err != nil {
		t.Fatalf("create network: %v", err)
	}
	pool := c.ControlPlaneNodepools[0]
	var ids []int64
	for i := 1; i <= 3; i++ {
		res, _, err := api.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name:       fmt.Sprintf("demo-%s-%d", pool.Name, i),
			ServerType: &hcloud.ServerType{Name: pool.Type},
			Image:      image,
			Location:   &hcloud.Location{Name: pool.Location},
			Labels:     layout.ControlPlaneServerLabels("demo", pool.Name, nil),
			Networks:   []*hcloud.Network{network},
		})
		if err != nil {
			t.Fatalf("create server: %v", err)
		}
		if err := api.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
			t.Fatalf("create server: %v", err)
		}
		ids = append(ids, res.Server.ID)
	}

	// The servers' addresses, once running with their private IP.
	var cps []talos.ControlPlaneNode
	waitFor(t, ctx, "three running servers with private IPs", func() (bool, error) {
		cps = cps[:0]
		for _, s := range env.Sim.ServerStates() {
			if s.Labels[layout.LabelRole] != layout.RoleControlPlane || s.Status != "running" || len(s.PrivateV4) == 0 {
				continue
			}
			cps = append(cps, talos.ControlPlaneNode{Name: s.Name,
				PublicIPv4: netip.MustParseAddr(s.PublicV4), PrivateIPv4: netip.MustParseAddr(s.PrivateV4[0])})
		}
		return len(cps) == 3, nil
	})
	for i, cp := range cps {
		if !cp.PublicIPv4.IsLoopback() {
			t.Fatalf("server %s has a non-loopback public IP %s", cp.Name, cp.PublicIPv4)
		}
		if cp.Name != fmt.Sprintf("demo-%s-%d", pool.Name, i+1) {
			t.Fatalf("servers out of order: %v", cps)
		}
	}

	// Real machine configurations, applied in maintenance mode.
	bundle, err := talos.NewSecrets(c.Talos.Version)
	if err != nil {
		t.Fatal(err)
	}
	inputs := talos.ClusterInputs{Secrets: bundle, HCloudToken: "simworld-test-token", ControlPlanes: cps}
	for i, cp := range cps {
		data, err := talos.Generate(c, talos.NodeInputs{ClusterInputs: inputs, Role: talos.RoleControlPlane,
			Pool: pool.Name, ServerName: cp.Name, ServerID: ids[i]})
		if err != nil {
			t.Fatalf("generate %s: %v", cp.Name, err)
		}
		mc, err := client.New(ctx, client.WithEndpoints(cp.PublicIPv4.String()),
			client.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}), talosDialer(t))
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "maintenance apply on "+cp.Name, func() (bool, error) {
			_, err := mc.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: data, Mode: machineapi.ApplyConfigurationRequest_AUTO})
			return err == nil, err
		})
		_ = mc.Close()
	}

	// Bootstrap through the first control plane, addressed by its private IP
	// in the node metadata like talosctl with the generated talosconfig.
	tcfg, err := talos.Talosconfig(c, bundle, cps)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(ctx, client.WithConfig(tcfg), client.WithEndpoints(cps[0].PublicIPv4.String()), talosDialer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close() //nolint:errcheck
	nodeCtx := client.WithNode(ctx, cps[0].PrivateIPv4.String())
	waitFor(t, ctx, "bootstrap", func() (bool, error) {
		err := admin.Bootstrap(nodeCtx, &machineapi.BootstrapRequest{})
		return err == nil, err
	})
	waitFor(t, ctx, "three etcd members", func() (bool, error) {
		resp, err := admin.EtcdMemberList(nodeCtx, &machineapi.EtcdMemberListRequest{})
		if err != nil {
			return false, err
		}
		return len(resp.GetMessages()) == 1 && len(resp.GetMessages()[0].GetMembers()) == 3, nil
	})
	if _, err := w.WaitAPIServer(ctx, "demo"); err != nil {
		if errors.Is(err, kubesim.ErrBinariesMissing) {
			t.Fatalf("kube-apiserver/etcd binaries are missing: run `go run ./hack/testbin` from the repository root first (%v)", err)
		}
		t.Fatalf("kube-apiserver: %v", err)
	}

	// The kubeconfig Talos hands out, pointed at the first control plane's
	// public IP as the CLI writes it.
	var kubeconfig []byte
	waitFor(t, ctx, "kubeconfig", func() (bool, error) {
		kubeconfig, err = admin.Kubeconfig(nodeCtx)
		return err == nil, err
	})
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range kc.Clusters {
		if cl.Server != "https://"+lay.ControlPlaneVIP.String()+":6443" {
			t.Fatalf("Talos kubeconfig server = %s, want the private VIP", cl.Server)
		}
		cl.Server = "https://" + cps[0].PublicIPv4.String() + ":6443"
	}
	rc, err := clientcmd.NewDefaultClientConfig(*kc, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	rc.Dial = simtest.LoopbackDialer(t)
	rc.Timeout = 5 * time.Second
	k8s, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}

	ready := func(n corev1.Node) corev1.ConditionStatus {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status
			}
		}
		return ""
	}
	var nodes []corev1.Node
	waitFor(t, ctx, "three Ready nodes", func() (bool, error) {
		list, err := k8s.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		nodes = list.Items
		if len(nodes) != 3 {
			return false, fmt.Errorf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			if ready(n) != corev1.ConditionTrue {
				return false, fmt.Errorf("node %s not ready", n.Name)
			}
		}
		return true, nil
	})
	for i, n := range nodes {
		cp := cps[i]
		if n.Name != cp.Name {
			t.Errorf("node %d = %s, want %s", i, n.Name, cp.Name)
		}
		if want := fmt.Sprintf("hcloud://%d", ids[i]); n.Spec.ProviderID != want {
			t.Errorf("%s: providerID %q, want %q", n.Name, n.Spec.ProviderID, want)
		}
		for k, v := range map[string]string{
			"kubernetes.io/hostname":                n.Name,
			"kubernetes.io/os":                      "linux",
			"kubernetes.io/arch":                    "amd64",
			"node-role.kubernetes.io/control-plane": "",
			"nodepool":                              pool.Name,
			"nodeid":                                fmt.Sprint(ids[i]),
		} {
			if got, ok := n.Labels[k]; !ok || got != v {
				t.Errorf("%s: label %s = %q (set %v), want %q", n.Name, k, got, ok, v)
			}
		}
		if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "node-role.kubernetes.io/control-plane" || n.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
			t.Errorf("%s: taints %v, want the control-plane NoSchedule taint", n.Name, n.Spec.Taints)
		}
		wantAddr := []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: cp.PrivateIPv4.String()},
			{Type: corev1.NodeExternalIP, Address: cp.PublicIPv4.String()},
			{Type: corev1.NodeHostName, Address: cp.Name},
		}
		if fmt.Sprint(n.Status.Addresses) != fmt.Sprint(wantAddr) {
			t.Errorf("%s: addresses %v, want %v", n.Name, n.Status.Addresses, wantAddr)
		}
		if want := strings.TrimPrefix(c.Kubernetes.Version, "v"); strings.TrimPrefix(n.Status.NodeInfo.KubeletVersion, "v") != want {
			t.Errorf("%s: kubelet version %s, want %s", n.Name, n.Status.NodeInfo.KubeletVersion, c.Kubernetes.Version)
		}
	}

	// A pod being deleted on a running node goes away, as its kubelet
	// finishes the deletion (drains depend on it).
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: cps[0].Name, Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if _, err := k8s.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	if err := k8s.CoreV1().Pods("default").Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	waitFor(t, ctx, "the pod deletion to finish", func() (bool, error) {
		_, err := k8s.CoreV1().Pods("default").Get(ctx, "app", metav1.GetOptions{})
		return err != nil && strings.Contains(err.Error(), "not found"), err
	})

	// Power the third control plane off: its Node goes NotReady, its Talos
	// API and :6443 stop answering; the API stays reachable on the first.
	off := cps[2]
	act, _, err := api.Server.Poweroff(ctx, &hcloud.Server{ID: ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Action.WaitFor(ctx, act); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, off.Name+" NotReady", func() (bool, error) {
		n, err := k8s.CoreV1().Nodes().Get(ctx, off.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return ready(*n) == corev1.ConditionUnknown, nil
	})
	for _, port := range []string{"50000", "6443"} {
		addr := net.JoinHostPort(off.PublicIPv4.String(), port)
		// The API and the forwarder close on the world's next poll; allow it.
		deadline := time.Now().Add(2 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				break
			}
			_ = conn.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s still answers after poweroff", addr)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := w.Err(); err != nil {
		t.Errorf("world errors: %v", err)
	}
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// TestTalosWorldFollowsServers checks the node lifecycle against the
// simulator's power actions, without a Kubernetes API.
func TestTalosWorldFollowsServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	env := simtest.New(t, hcloudsim.Options{})
	api := env.Client
	c, err := config.Parse(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"}), "cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snapshots, err := SeedTalosSnapshots(ctx, api, c)
	if err != nil {
		t.Fatal(err)
	}
	logw := &testLog{t: t}
	w, err := StartTalosWorld(ctx, env.Sim, TalosWorldOptions{TalosImages: ImageSet(snapshots...), Log: logw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		logw.stop()
	})

	create := func(name string, image *hcloud.Image) *hcloud.Server {
		res, _, err := api.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name: name, ServerType: &hcloud.ServerType{Name: "cpx22"}, Image: image,
			Location: &hcloud.Location{Name: "fsn1"}, Labels: layout.ControlPlaneServerLabels("demo", "control", nil),
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if err := api.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
			t.Fatal(err)
		}
		return res.Server
	}
	do := func(a *hcloud.Action, _ *hcloud.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := api.Action.WaitFor(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var snapshot *hcloud.Image
	for _, id := range snapshots {
		if img, _, _ := api.Image.GetByID(ctx, id); img != nil && img.Architecture == hcloud.ArchitectureX86 {
			snapshot = img
		}
	}
	srv := create("demo-control-1", snapshot)
	plain := create("demo-other-1", &hcloud.Image{Name: "debian-13"})

	answers := func(ip string) bool {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "50000"), time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil
	}
	ip := srv.PublicNet.IPv4.IP.String()
	waitFor(t, ctx, "the Talos API in maintenance mode", func() (bool, error) { return answers(ip), nil })
	if w.Node(plain.ID) != nil {
		t.Error("a server booted from debian-13 got a Talos node")
	}
	if w.Cluster("demo") != w.Node(srv.ID).Cluster() {
		t.Error("the node is not in the cluster of its label")
	}

	// A private IP appearing later: the node is recreated with it.
	first := w.Node(srv.ID)
	network, _, err := api.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name: "demo", IPRange: prefixNet(netip.MustParsePrefix("10.0.0.0/16")),
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, NetworkZone: hcloud.NetworkZoneEUCentral, IPRange: prefixNet(netip.MustParsePrefix("10.0.64.0/25"))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	do(api.Server.AttachToNetwork(ctx, srv, hcloud.ServerAttachToNetworkOpts{Network: network}))
	waitFor(t, ctx, "the node recreated with its private IP", func() (bool, error) {
		n := w.Node(srv.ID)
		return n != first && n.Running(), nil
	})

	// Reboot: the node boots again (new boot ID).
	boot := w.Node(srv.ID).BootID()
	do(api.Server.Reboot(ctx, srv))
	waitFor(t, ctx, "the node rebooted", func() (bool, error) {
		n := w.Node(srv.ID)
		return n.Running() && n.BootID() != boot, nil
	})

	// Power off / on.
	do(api.Server.Poweroff(ctx, srv))
	waitFor(t, ctx, "the node off", func() (bool, error) { return !w.Node(srv.ID).Running() && !answers(ip), nil })
	do(api.Server.Poweron(ctx, srv))
	waitFor(t, ctx, "the node on again", func() (bool, error) { return answers(ip), nil })

	// Delete: the node stops for good.
	node := w.Node(srv.ID)
	res, _, err := api.Server.DeleteWithResult(ctx, srv)
	if err != nil {
		t.Fatal(err)
	}
	do(res.Action, nil, nil)
	waitFor(t, ctx, "the node gone", func() (bool, error) {
		return w.Node(srv.ID) == nil && node.State() == talossim.StateOff && !answers(ip), nil
	})
}

func TestParseTaint(t *testing.T) {
	for spec, want := range map[string]corev1.Taint{
		":NoSchedule":          {Key: "k", Effect: corev1.TaintEffectNoSchedule},
		"batch:NoExecute":      {Key: "k", Value: "batch", Effect: corev1.TaintEffectNoExecute},
		"PreferNoSchedule":     {Key: "k", Effect: corev1.TaintEffectPreferNoSchedule},
		"a:b:PreferNoSchedule": {Key: "k", Value: "a:b", Effect: corev1.TaintEffectPreferNoSchedule},
	} {
		if got := parseTaint("k", spec); got != want {
			t.Errorf("parseTaint(%q) = %+v, want %+v", spec, got, want)
		}
	}
}

// A fake node whose address another process holds cannot come up; the world
// says so in Err (hcloud-sim prints it) instead of leaving a CLI waiting for
// a node that never answers.
func TestTalosWorldSaysWhenANodeCannotListen(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	env := simtest.New(t, hcloudsim.Options{})
	c, err := config.Parse(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"}), "cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snapshots, err := SeedTalosSnapshots(ctx, env.Client, c)
	if err != nil {
		t.Fatal(err)
	}
	w, err := StartTalosWorld(ctx, env.Sim, TalosWorldOptions{TalosImages: ImageSet(snapshots...), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	// The server's address is taken before the server starts.
	res, _, err := env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "demo-control-1", ServerType: &hcloud.ServerType{Name: "cpx22"}, Image: &hcloud.Image{ID: snapshots[0]},
		Location: &hcloud.Location{Name: "fsn1"}, Labels: layout.ControlPlaneServerLabels("demo", "control", nil),
		StartAfterCreate: hcloud.Ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
		t.Fatal(err)
	}
	squatter, err := net.Listen("tcp", net.JoinHostPort(res.Server.PublicNet.IPv4.IP.String(), "50000"))
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	a, _, err := env.Client.Server.Poweron(ctx, res.Server)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Action.WaitFor(ctx, a); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the world to report the node that cannot listen", func() (bool, error) {
		err := w.Err()
		return err != nil && strings.Contains(err.Error(), "demo-control-1") && strings.Contains(err.Error(), "cannot come up") && strings.Contains(err.Error(), "address already in use"), nil
	})
}
