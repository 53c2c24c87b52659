package lifecycle

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"google.golang.org/grpc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/netwatch"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// TestApplyFormsACluster is the end-to-end test of cluster formation: from an empty
// simulator, apply 3 control planes and 2 workers, then check the nodes through
// client-go with the written kubeconfig and etcd through the Talos API with the
// written talosconfig, re-apply (nothing changes, nothing is bootstrapped again),
// and destroy (nothing left).
func TestApplyFormsACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the kube-apiserver and etcd binaries (go run ./hack/testbin)")
	}
	// Nothing of the world (this process, kube-apiserver, etcd) may connect
	// anywhere but loopback, the whole way through.
	netwatch.Guard(t, os.Getpid())
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, nil)
	ctx := context.Background()
	// The snapshot is built by apply itself: rescue system over SSH, the disk
	// image from a loopback Image Factory.
	sshPort, err := w.env.Sim.ServeRescueSSH(0)
	if err != nil {
		t.Fatal(err)
	}
	world, err := simworld.StartTalosWorld(ctx, w.env.Sim, simworld.TalosWorldOptions{TalosImages: simworld.BuiltTalosImages(w.env.Sim), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(world.Close)

	stateDir := t.TempDir()
	d := w.deps
	d.InfrastructureOnly = false
	d.StateDir = stateDir
	d.Token = w.env.Sim.Token() // the CCM reads it from the hcloud Secret and calls the simulator with it
	d.ChartMirror, d.ChartCacheDir = world.ChartMirror(), t.TempDir()
	d.AddonTimeout = time.Minute
	d.ImageFactory = imagetest.NewFactory(t)
	d.RescueSSHPort = sshPort
	// Every wait of apply (the image build's, Talos's and Kubernetes's) runs on
	// the simulator's scaled time, so the pace and bound of the Talos waits are
	// given in simulated time: 20 ms and a minute of real time.
	d.Clock = clock.Follow(w.env.Sim.Clock(), time.Millisecond)
	simulated := func(real time.Duration) time.Duration {
		return time.Duration(float64(real) * w.env.Sim.Clock().Speed())
	}
	d.TalosPollInterval = simulated(20 * time.Millisecond)
	d.TalosTimeout = simulated(time.Minute)
	if _, err := Apply(ctx, d, c); err != nil {
		t.Fatalf("apply: %v\n%s\nworld: %v", err, w.out, world.Err())
	}
	if !strings.Contains(w.out.String(), "building it") || !strings.Contains(w.out.String(), "etcd bootstrapped") {
		t.Errorf("no bootstrap reported:\n%s", w.out)
	}

	for _, f := range []string{"secrets.yaml", TalosconfigFile, KubeconfigFile} {
		fi, err := os.Stat(filepath.Join(stateDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v, want 0600", f, err, fi.Mode().Perm())
		}
	}

	// Kubernetes: every node Ready, with its pool labels and taints.
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(stateDir, KubeconfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rc.Host, "https://127.") {
		t.Errorf("kubeconfig server %s is not the first control plane's public IP", rc.Host)
	}
	rc.Dial = nil
	cs := kubernetes.NewForConfigOrDie(rc)
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
		if !slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		}) {
			t.Errorf("%s is not Ready", n.Name)
		}
		if !strings.HasPrefix(n.Spec.ProviderID, "hcloud://") {
			t.Errorf("%s providerID = %q", n.Name, n.Spec.ProviderID)
		}
		cp := strings.Contains(n.Name, "control")
		hasTaint := slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == "node-role.kubernetes.io/control-plane" })
		if cp != hasTaint {
			t.Errorf("%s control-plane taint = %v", n.Name, hasTaint)
		}
		if !cp && (n.Labels["tier"] != "general" || n.Labels["nodepool"] != "worker") {
			t.Errorf("%s labels = %v", n.Name, n.Labels)
		}
	}
	slices.Sort(names)
	if want := []string{"demo-control-1", "demo-control-2", "demo-control-3", "demo-worker-1", "demo-worker-2"}; !slices.Equal(names, want) {
		t.Errorf("nodes = %v, want %v", names, want)
	}

	// The world's control plane is a real one: the controller manager turns
	// a Deployment into a ReplicaSet and pods, the scheduler binds them to
	// untainted nodes (the workers), and node IPAM gives every node a pod
	// range from the cluster's pod network.
	assertRealControlPlane(t, ctx, cs)

	// etcd: three members, seen through the written talosconfig.
	tc, err := clientconfig.Open(filepath.Join(stateDir, TalosconfigFile))
	if err != nil {
		t.Fatal(err)
	}
	// The talosconfig lists the control planes' IPv6 addresses too, as the
	// module's does; in the local world those are data (2001:db8::/32) and
	// must never be dialed: the client's dialer refuses them, so it uses the
	// IPv4 endpoints (the netwatch above fails the test if it did not).
	var dialer net.Dialer
	tcl, err := client.New(ctx, client.WithConfig(tc), client.WithGRPCDialOptions(grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("%s is not dialed in the local world", addr)
		}
		return dialer.DialContext(ctx, "tcp", addr)
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer tcl.Close()
	// Addressed as talosctl would: to the talosconfig's node (the primary's private
	// IP) through whichever endpoint the client picks, which forwards it like apid.
	members, err := tcl.EtcdMemberList(client.WithNodes(ctx, tc.Contexts[tc.Context].Nodes...), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(members.GetMessages()[0].GetMembers()); n != 3 {
		t.Errorf("etcd has %d members, want 3", n)
	}

	// The marker says "initialized"; a second apply changes and bootstraps nothing,
	// and costs no more Hetzner requests than a plan and its lock (create and
	// delete the lock key).
	before := w.client.Total()
	if _, err := Plan(ctx, d, c); err != nil {
		t.Fatal(err)
	}
	planCost := w.client.Total() - before
	w.out.Reset()
	before = w.client.Total()
	renewals := w.env.Sim.Stats().Requests["PUT /v1/ssh_keys/{id}"] // the lock's, every 5 simulated minutes
	res, err := Apply(ctx, d, c)
	renewals = w.env.Sim.Stats().Requests["PUT /v1/ssh_keys/{id}"] - renewals
	allowed := planCost + 2 + int(renewals)
	if n := w.client.Total() - before; n > allowed {
		t.Errorf("a no-op apply of a formed cluster cost %d requests, want ≤ %d (a plan's %d, the lock's 2 and its %d renewals)", n, allowed, planCost, renewals)
	}
	if err != nil {
		t.Fatalf("re-apply: %v\n%s", err, w.out)
	}
	if !res.Plan.Initialized || res.Plan.HasChanges() || strings.Contains(w.out.String(), "bootstrapped") || strings.Contains(w.out.String(), "configuration applied") || strings.Contains(w.out.String(), "configuration updated") {
		t.Errorf("re-apply did something:\n%s", w.out)
	}

	// Day 2: a pool's labels change; the running workers get the new
	// configuration one at a time and Kubernetes shows the new label.
	c.WorkerNodepools[0].Labels = map[string]string{"tier": "batch"}
	w.out.Reset()
	if _, err := Apply(ctx, d, c); err != nil {
		t.Fatalf("apply with new labels: %v\n%s", err, w.out)
	}
	for _, name := range []string{"demo-worker-1", "demo-worker-2"} {
		if !strings.Contains(w.out.String(), "configuration updated on "+name) {
			t.Errorf("%s was not updated:\n%s", name, w.out)
		}
	}
	if strings.Contains(w.out.String(), "updated on demo-control") {
		t.Errorf("control planes were touched by a worker label change:\n%s", w.out)
	}
	testwait.Eventually(t, 10*time.Second, "node label updated", func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, "demo-worker-2", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if n.Labels["tier"] != "batch" {
			return fmt.Errorf("labels %v", n.Labels)
		}
		return nil
	})

	if r, err := Destroy(ctx, d, c, func([]string) bool { return true }); err != nil || len(r.Left) != 0 {
		t.Fatalf("destroy: %v %+v", err, r)
	}
}

// With the kube-API load balancer and the public VIP on, the kubeconfig points at
// the load balancer's public IP (docs/terraform-parity.md), and the cluster is reached through it.
func TestApplyFormsAClusterBehindTheLoadBalancer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the kube-apiserver and etcd binaries (go run ./hack/testbin)")
	}
	f := formCluster(t, func(c *config.Cluster) {
		c.KubeAPI.LoadBalancer.Enabled = true
		c.ControlPlane.PublicVIPIPv4Enabled = true
		c.WorkerNodepools[0].Count = 1
	})
	w, d, c, ctx := f.w, f.d, f.c, context.Background()
	lb, _, err := w.env.Client.LoadBalancer.GetByName(ctx, "demo-kube-api")
	if err != nil || lb == nil {
		t.Fatalf("kube-API load balancer: %v", err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(d.StateDir, KubeconfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://" + lb.PublicNet.IPv4.IP.String() + ":6443"; rc.Host != want {
		t.Errorf("kubeconfig server = %s, want the load balancer's %s", rc.Host, want)
	}
	nodes, err := kubernetes.NewForConfigOrDie(rc).CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 4 {
		t.Fatalf("nodes through the load balancer: %v, %d", err, len(nodes.Items))
	}
	// talos.applyMode staged: a change is staged and, with automatic reboots on,
	// the node is rebooted into it and waited for.
	c.Talos.ApplyMode = "staged"
	c.WorkerNodepools[0].Labels = map[string]string{"tier": "staged"}
	w.out.Reset()
	if _, err := Apply(ctx, d, c); err != nil {
		t.Fatalf("staged apply: %v\n%s", err, w.out)
	}
	if !strings.Contains(w.out.String(), "configuration updated on demo-worker-1 (staged)") || !strings.Contains(w.out.String(), "rebooting demo-worker-1 into its staged configuration") {
		t.Errorf("no staged update with reboot:\n%s", w.out)
	}

	// The load balancer, its services, targets and the floating IP are converged.
	res, err := Plan(ctx, d, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.HasChanges() || len(res.Plan.Problems) > 0 {
		for _, ch := range res.Plan.Changes {
			if ch.Action != "no-op" {
				t.Errorf("%s %s: %s %+v", ch.Action, ch.Ref, ch.Reason, ch.Updates)
			}
		}
		t.Errorf("problems: %v", res.Plan.Problems)
	}
}

func assertRealControlPlane(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	dep := deployment("probe", 2, nil)
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, time.Minute, "the Deployment's pods to be scheduled on workers", func() error {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=probe"})
		if err != nil {
			return err
		}
		bound := 0
		for _, p := range pods.Items {
			if strings.HasPrefix(p.Spec.NodeName, "demo-control-") {
				return fmt.Errorf("pod %s was scheduled on the tainted control plane %s", p.Name, p.Spec.NodeName)
			}
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		if bound != 2 {
			return fmt.Errorf("%d of %d pods bound to a node", bound, len(pods.Items))
		}
		return nil
	})
	testwait.Eventually(t, time.Minute, "every node to get a pod range", func() error {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, n := range nodes.Items {
			if n.Spec.PodCIDR == "" || !strings.HasPrefix(n.Spec.PodCIDR, "10.0.") {
				return fmt.Errorf("node %s has pod range %q", n.Name, n.Spec.PodCIDR)
			}
		}
		return nil
	})
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "probe", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deployment is a Deployment of replicas pause pods labelled app=name in the
// default namespace, on nodes matching nodeSelector.
func deployment(name string, replicas int32, nodeSelector map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: nodeSelector,
					Containers:   []corev1.Container{{Name: name, Image: "registry.k8s.io/pause:3.10"}},
				},
			},
		},
	}
}
