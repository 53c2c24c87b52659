package simworld

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
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

// testCluster is a bootstrapped cluster of a local world: its control
// planes as apply creates them, and an admin client of its kube-apiserver.
type testCluster struct {
	env *simtest.Env
	w   *TalosWorld
	k8s kubernetes.Interface
	c   *config.Cluster
	cps []talos.ControlPlaneNode
	ids []int64
}

// bootCluster creates n control planes of the starter cluster "demo",
// configures them with real machine configurations, bootstraps etcd and
// waits for the kube-apiserver.
func bootCluster(t *testing.T, ctx context.Context, n int, opts TalosWorldOptions) *testCluster {
	t.Helper()
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
	opts.TalosImages, opts.Log = ImageSet(snapshots...), logw
	w, err := StartTalosWorld(ctx, env.Sim, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		logw.stop()
	})

	// The cluster's network and the control planes, as apply creates them.
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
	for i := 1; i <= n; i++ {
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
	waitFor(t, ctx, "running servers with private IPs", func() (bool, error) {
		cps = cps[:0]
		for _, s := range env.Sim.ServerStates() {
			if s.Labels[layout.LabelRole] != layout.RoleControlPlane || s.Status != "running" || len(s.PrivateV4) == 0 {
				continue
			}
			cps = append(cps, talos.ControlPlaneNode{Name: s.Name,
				PublicIPv4: netip.MustParseAddr(s.PublicV4), PrivateIPv4: netip.MustParseAddr(s.PrivateV4[0])})
		}
		return len(cps) == n, nil
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
	t.Cleanup(func() { _ = admin.Close() })
	nodeCtx := client.WithNode(ctx, cps[0].PrivateIPv4.String())
	waitFor(t, ctx, "bootstrap", func() (bool, error) {
		err := admin.Bootstrap(nodeCtx, &machineapi.BootstrapRequest{})
		return err == nil, err
	})
	waitFor(t, ctx, "every etcd member", func() (bool, error) {
		resp, err := admin.EtcdMemberList(nodeCtx, &machineapi.EtcdMemberListRequest{})
		if err != nil {
			return false, err
		}
		return len(resp.GetMessages()) == 1 && len(resp.GetMessages()[0].GetMembers()) == n, nil
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
	return &testCluster{env: env, w: w, k8s: k8s, c: c, cps: cps, ids: ids}
}

// waitSyncs waits until the cluster's kubelets ran n more rounds, so that a
// test can check that something did not happen (or stayed as it was).
func (tc *testCluster) waitSyncs(t *testing.T, n int64) {
	t.Helper()
	wc := tc.w.cluster("demo")
	want := wc.kubeletSyncs.Load() + n
	testwait.Eventually(t, 30*time.Second, fmt.Sprintf("%d kubelet rounds", n), func() error {
		if got := wc.kubeletSyncs.Load(); got < want {
			return fmt.Errorf("%d of %d rounds", got, want)
		}
		return nil
	})
}

func (tc *testCluster) node(t *testing.T, ctx context.Context, name string) *corev1.Node {
	t.Helper()
	n, err := tc.k8s.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node %s: %v", name, err)
	}
	return n
}

func (tc *testCluster) pod(t *testing.T, ctx context.Context, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := tc.k8s.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s/%s: %v", ns, name, err)
	}
	return p
}

// waitNodes waits until every control plane's Node has the Ready status.
func (tc *testCluster) waitNodes(t *testing.T, ctx context.Context, status corev1.ConditionStatus) []corev1.Node {
	t.Helper()
	var nodes []corev1.Node
	testwait.Eventually(t, 60*time.Second, fmt.Sprintf("%d nodes Ready=%s", len(tc.cps), status), func() error {
		list, err := tc.k8s.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		nodes = list.Items
		if len(nodes) != len(tc.cps) {
			return fmt.Errorf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			if got := readyCondition(n); got.Status != status {
				return fmt.Errorf("node %s: Ready=%s %s", n.Name, got.Status, got.Message)
			}
		}
		return nil
	})
	return nodes
}

// waitPod waits until the pod is in phase (and Ready when ready is set).
func (tc *testCluster) waitPod(t *testing.T, ctx context.Context, ns, name string, phase corev1.PodPhase, ready bool) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	testwait.Eventually(t, 30*time.Second, fmt.Sprintf("pod %s/%s %s (ready %v)", ns, name, phase, ready), func() error {
		var err error
		if p, err = tc.k8s.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
		if p.Status.Phase != phase || (ready && !podReady(p)) {
			return fmt.Errorf("phase %s, conditions %v", p.Status.Phase, p.Status.Conditions)
		}
		return nil
	})
	return p
}

// waitGone waits until the pod no longer exists.
func (tc *testCluster) waitGone(t *testing.T, ctx context.Context, ns, name string) {
	t.Helper()
	testwait.Eventually(t, 30*time.Second, "pod "+ns+"/"+name+" gone", func() error {
		_, err := tc.k8s.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return errors.New("still there")
		}
		return err
	})
}

// initializeLikeCCM does to a node what the hcloud cloud controller manager
// does when it initialises it: providerID, addresses with the public IP,
// and the uninitialized taint removed. It also sets Ready=Unknown, so that
// the node's kubelet posts its status again at once (not only at the next
// heartbeat) and a test sees that post keep the CCM's addresses.
func (tc *testCluster) initializeLikeCCM(t *testing.T, ctx context.Context, i int) {
	t.Helper()
	nodes := tc.k8s.CoreV1().Nodes()
	cp := tc.cps[i]
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, cp.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.ProviderID = fmt.Sprintf("hcloud://%d", tc.ids[i])
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == taintUninitialized })
		_, err = nodes.Update(ctx, n, metav1.UpdateOptions{FieldManager: "test-ccm"})
		return err
	})
	if err != nil {
		t.Fatalf("initialise %s: %v", cp.Name, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, cp.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Addresses = ccmAddresses(cp)
		for j := range n.Status.Conditions {
			if n.Status.Conditions[j].Type == corev1.NodeReady {
				n.Status.Conditions[j].Status = corev1.ConditionUnknown
			}
		}
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{FieldManager: "test-ccm"})
		return err
	})
	if err != nil {
		t.Fatalf("initialise %s addresses: %v", cp.Name, err)
	}
}

func ccmAddresses(cp talos.ControlPlaneNode) []corev1.NodeAddress {
	return []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: cp.Name},
		{Type: corev1.NodeExternalIP, Address: cp.PublicIPv4.String()},
		{Type: corev1.NodeInternalIP, Address: cp.PrivateIPv4.String()},
	}
}

func readyCondition(n corev1.Node) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func hasTaint(n *corev1.Node, key string) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == key })
}

// boundPod is a pod bound to a node by name, as the scheduler binds one.
func boundPod(name, node string, hostNetwork bool) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node, HostNetwork: hostNetwork,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
}

func TestTalosWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver (built by `go run ./hack/testbin`)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	tc := bootCluster(t, ctx, 3, TalosWorldOptions{})
	k8s, cps, ids := tc.k8s, tc.cps, tc.ids

	// Registered as a kubelet with an external cloud provider registers:
	// NotReady until a CNI runs, tainted uninitialized, no providerID, only
	// the internal address.
	nodes := tc.waitNodes(t, ctx, corev1.ConditionFalse)
	for i, n := range nodes {
		cp := cps[i]
		if n.Name != cp.Name {
			t.Errorf("node %d = %s, want %s", i, n.Name, cp.Name)
		}
		if r := readyCondition(n); r.Reason != notReadyReason || !strings.Contains(r.Message, "cni plugin not initialized") {
			t.Errorf("%s: Ready condition %+v, want the kubelet's no-CNI reason", n.Name, r)
		}
		for _, c := range n.Status.Conditions {
			if c.Type != corev1.NodeReady && c.Status != corev1.ConditionFalse {
				t.Errorf("%s: condition %s = %s, want False", n.Name, c.Type, c.Status)
			}
		}
		if len(n.Status.Conditions) != 4 {
			t.Errorf("%s: conditions %v, want Ready and three pressures", n.Name, n.Status.Conditions)
		}
		if n.Spec.ProviderID != "" {
			t.Errorf("%s: providerID %q before the CCM set one", n.Name, n.Spec.ProviderID)
		}
		if n.Annotations[annotationAttachDetach] != "true" {
			t.Errorf("%s: annotations %v, want %s", n.Name, n.Annotations, annotationAttachDetach)
		}
		for k, v := range map[string]string{
			"kubernetes.io/hostname":                n.Name,
			"kubernetes.io/os":                      "linux",
			"kubernetes.io/arch":                    "amd64",
			"node-role.kubernetes.io/control-plane": "",
			"nodepool":                              tc.c.ControlPlaneNodepools[0].Name,
			"nodeid":                                fmt.Sprint(ids[i]),
		} {
			if got, ok := n.Labels[k]; !ok || got != v {
				t.Errorf("%s: label %s = %q (set %v), want %q", n.Name, k, got, ok, v)
			}
		}
		for _, key := range []string{labelControlPlane, taintUninitialized} {
			if !hasTaint(&n, key) {
				t.Errorf("%s: taints %v, want %s", n.Name, n.Spec.Taints, key)
			}
		}
		wantAddr := []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: cp.PrivateIPv4.String()},
			{Type: corev1.NodeHostName, Address: cp.Name},
		}
		if fmt.Sprint(n.Status.Addresses) != fmt.Sprint(wantAddr) {
			t.Errorf("%s: addresses %v, want %v", n.Name, n.Status.Addresses, wantAddr)
		}
		if want := strings.TrimPrefix(tc.c.Kubernetes.Version, "v"); strings.TrimPrefix(n.Status.NodeInfo.KubeletVersion, "v") != want {
			t.Errorf("%s: kubelet version %s, want %s", n.Name, n.Status.NodeInfo.KubeletVersion, tc.c.Kubernetes.Version)
		}
	}

	// An ordinary pod waits for the network; a host-network one runs.
	if _, err := k8s.CoreV1().Pods("default").Create(ctx, boundPod("app", cps[0].Name, false), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	if _, err := k8s.CoreV1().Pods("default").Create(ctx, boundPod("host", cps[0].Name, true), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	host := tc.waitPod(t, ctx, "default", "host", corev1.PodRunning, true)
	if host.Status.PodIP != cps[0].PrivateIPv4.String() {
		t.Errorf("host-network pod IP %s, want the node's %s", host.Status.PodIP, cps[0].PrivateIPv4)
	}
	tc.waitSyncs(t, 10)
	app := tc.pod(t, ctx, "default", "app")
	if app.Status.Phase != corev1.PodPending || len(app.Status.ContainerStatuses) != 1 ||
		app.Status.ContainerStatuses[0].State.Waiting == nil || app.Status.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating" {
		t.Errorf("pod on a node without network: %s %+v, want Pending in ContainerCreating", app.Status.Phase, app.Status.ContainerStatuses)
	}
	if r := readyCondition(*tc.node(t, ctx, cps[0].Name)); r.Status != corev1.ConditionFalse {
		t.Errorf("a host-network pod made the node Ready: %+v", r)
	}

	// The CNI makes the nodes Ready and the pod run with an address of
	// the node's pod CIDR.
	if err := InstallMinimalCNI(ctx, k8s); err != nil {
		t.Fatal(err)
	}
	nodes = tc.waitNodes(t, ctx, corev1.ConditionTrue)
	app = tc.waitPod(t, ctx, "default", "app", corev1.PodRunning, true)
	cidr := netip.MustParsePrefix(nodes[0].Spec.PodCIDR)
	if ip, err := netip.ParseAddr(app.Status.PodIP); err != nil || !cidr.Contains(ip) {
		t.Errorf("pod IP %q, want one of the node's pod CIDR %s", app.Status.PodIP, cidr)
	}

	// The control plane's static pods, as mirror pods, running on every
	// control plane.
	for _, cp := range cps {
		for _, comp := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
			p := tc.waitPod(t, ctx, "kube-system", comp+"-"+cp.Name, corev1.PodRunning, true)
			if p.Annotations[annotationConfigMirror] == "" || p.Annotations[annotationConfigSource] != "file" {
				t.Errorf("%s: annotations %v, want a mirror pod's", p.Name, p.Annotations)
			}
			if p.Labels["k8s-app"] != comp || p.Labels["tier"] != "control-plane" {
				t.Errorf("%s: labels %v", p.Name, p.Labels)
			}
			if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "Node" || ref.Name != cp.Name {
				t.Errorf("%s: owner %v, want the node", p.Name, p.OwnerReferences)
			}
			if !strings.Contains(p.Spec.Containers[0].Image, comp+":") || p.Spec.NodeName != cp.Name || p.Status.PodIP != cp.PrivateIPv4.String() {
				t.Errorf("%s: image %s on %s at %s", p.Name, p.Spec.Containers[0].Image, p.Spec.NodeName, p.Status.PodIP)
			}
		}
	}
	// A deleted mirror pod comes back while its node runs.
	mirror := tc.pod(t, ctx, "kube-system", "kube-scheduler-"+cps[1].Name)
	if err := k8s.CoreV1().Pods("kube-system").Delete(ctx, mirror.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "the mirror pod recreated", func() error {
		p, err := k8s.CoreV1().Pods("kube-system").Get(ctx, mirror.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.UID == mirror.UID || p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("uid %s (old %s), phase %s", p.UID, mirror.UID, p.Status.Phase)
		}
		return nil
	})

	// The cloud controller manager initialises the nodes: the kubelets
	// never take back its providerID, addresses or taint removal.
	for i := range cps {
		tc.initializeLikeCCM(t, ctx, i)
	}
	tc.waitNodes(t, ctx, corev1.ConditionTrue) // every kubelet posted its status again
	tc.waitSyncs(t, 40)
	// A restarted kubelet (a reboot) finds its Node and leaves it alone too.
	boot := tc.w.Node(ids[1]).BootID()
	act, _, err := tc.env.Client.Server.Reboot(ctx, &hcloud.Server{ID: ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.env.Client.Action.WaitFor(ctx, act); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, "the rebooted node running", func() error {
		if n := tc.w.Node(ids[1]); !n.Running() || n.BootID() == boot {
			return errors.New("not rebooted yet")
		}
		return nil
	})
	tc.waitNodes(t, ctx, corev1.ConditionTrue)
	tc.waitSyncs(t, 10)
	for i, cp := range cps {
		n := tc.node(t, ctx, cp.Name)
		if want := fmt.Sprintf("hcloud://%d", ids[i]); n.Spec.ProviderID != want {
			t.Errorf("%s: providerID %q, want the CCM's %q", n.Name, n.Spec.ProviderID, want)
		}
		if hasTaint(n, taintUninitialized) {
			t.Errorf("%s: the kubelet put the uninitialized taint back: %v", n.Name, n.Spec.Taints)
		}
		if !hasTaint(n, labelControlPlane) {
			t.Errorf("%s: taints %v, want the control-plane taint", n.Name, n.Spec.Taints)
		}
		if fmt.Sprint(n.Status.Addresses) != fmt.Sprint(ccmAddresses(cp)) {
			t.Errorf("%s: addresses %v, want the CCM's %v", n.Name, n.Status.Addresses, ccmAddresses(cp))
		}
	}

	// A pod being deleted on a running node goes away, as its kubelet
	// finishes the deletion (drains depend on it).
	if err := k8s.CoreV1().Pods("default").Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	tc.waitGone(t, ctx, "default", "app")

	// Power the third control plane off: its Node goes NotReady, its Talos
	// API and :6443 stop answering; the API stays reachable on the first.
	off := cps[2]
	act, _, err = tc.env.Client.Server.Poweroff(ctx, &hcloud.Server{ID: ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.env.Client.Action.WaitFor(ctx, act); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 30*time.Second, off.Name+" NotReady", func() error {
		if r := readyCondition(*tc.node(t, ctx, off.Name)); r.Status != corev1.ConditionUnknown {
			return fmt.Errorf("Ready=%s", r.Status)
		}
		return nil
	})
	for _, port := range []string{"50000", "6443"} {
		addr := net.JoinHostPort(off.PublicIPv4.String(), port)
		// The API and the forwarder close on the world's next poll; allow it.
		testwait.Eventually(t, 2*time.Second, addr+" closed after poweroff", func() error {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return nil
			}
			_ = conn.Close()
			return errors.New("still answers")
		})
	}
	if err := tc.w.Err(); err != nil {
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
