package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/install"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
	"github.com/hcloud-k8s/hcloud-k8s/internal/netwatch"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// The world is as strict as Hetzner, and the addons are what make a cluster
// work in it: without a CNI the nodes stay NotReady, without the CCM they
// stay tainted and a LoadBalancer Service gets no address; with both they
// become Ready and initialised and the Service gets a load balancer. Then the
// addons converge: a no-op apply changes nothing, a changed value changes
// only the objects it touches, and an addon switched off is removed.
func TestAddonsMakeTheClusterReady(t *testing.T) {
	netwatch.Guard(t, os.Getpid())
	w, c, d := clusterWorld(t, func(c *config.Cluster) {
		c.Addons.Cilium.Enabled, c.Addons.HcloudCCM.Enabled = false, false
	})
	ctx := context.Background()
	d.TalosTimeout, d.AddonTimeout = 40*time.Second, time.Minute

	// No CNI, no CCM: apply stops at the nodes, naming why.
	_, err := Apply(ctx, d, c)
	if err == nil || !strings.Contains(err.Error(), "wait for nodes") || !strings.Contains(err.Error(), "cni plugin not initialized") {
		t.Fatalf("apply without a CNI: %v, want the nodes NotReady for want of a network\n%s", err, w.out)
	}
	cs := stateClient(t, d)
	for _, n := range listNodes(t, cs) {
		if !tainted(n) || n.Spec.ProviderID != "" {
			t.Errorf("node %s without a CCM: providerID %q, taints %v; want none and the uninitialized taint", n.Name, n.Spec.ProviderID, n.Spec.Taints)
		}
	}
	web := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt(80)}}},
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, web, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CNI, still no CCM: Ready, but not initialised, and no load balancer.
	c.Addons.Cilium.Enabled = true
	w.out.Reset()
	_, err = Apply(ctx, d, c)
	if err == nil || !strings.Contains(err.Error(), "not initialised by the cloud controller manager") {
		t.Fatalf("apply without a CCM: %v, want the nodes uninitialised\n%s", err, w.out)
	}
	for _, n := range listNodes(t, cs) {
		if !ready(n) || !tainted(n) {
			t.Errorf("node %s with a CNI and no CCM: Ready %v, tainted %v; want Ready and tainted", n.Name, ready(n), tainted(n))
		}
	}
	if lbs := ccmLoadBalancers(t, w); len(lbs) != 0 {
		t.Errorf("load balancers without a CCM: %v", lbs)
	}
	if got, _ := cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{}); len(got.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("Service web has an address without a CCM: %v", got.Status.LoadBalancer.Ingress)
	}

	// Both: apply completes, the nodes are the CCM's, the Service gets its load balancer.
	c.Addons.HcloudCCM.Enabled = true
	w.out.Reset()
	if _, err := Apply(ctx, d, c); err != nil {
		t.Fatalf("apply with the addons: %v\n%s", err, w.out)
	}
	for _, n := range listNodes(t, cs) {
		if tainted(n) || !strings.HasPrefix(n.Spec.ProviderID, "hcloud://") || !hasAddress(n, corev1.NodeExternalIP) {
			t.Errorf("node %s: providerID %q, taints %v, addresses %v; want the CCM's", n.Name, n.Spec.ProviderID, n.Spec.Taints, n.Status.Addresses)
		}
	}
	testwait.Eventually(t, time.Minute, "a load balancer for Service web", func() error {
		got, err := cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(got.Status.LoadBalancer.Ingress) == 0 || len(ccmLoadBalancers(t, w)) != 1 {
			return fmt.Errorf("ingress %v, CCM load balancers %v", got.Status.LoadBalancer.Ingress, ccmLoadBalancers(t, w))
		}
		return nil
	})

	// A no-op apply writes no object.
	ds, err := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(ctx, d, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Addons {
		if r.Changed() {
			t.Errorf("no-op apply changed addon %s: %+v", r.Addon, r)
		}
	}
	if again, _ := cs.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{}); again.ResourceVersion != ds.ResourceVersion {
		t.Errorf("no-op apply wrote DaemonSet cilium: resourceVersion %s → %s", ds.ResourceVersion, again.ResourceVersion)
	}

	// A changed value changes only what it touches: the CCM's environment.
	c.Addons.HcloudCCM.LoadBalancers.Type = "lb21"
	if res, err = Apply(ctx, d, c); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Addons {
		want := []string(nil)
		if r.Addon == "hcloud-ccm" {
			want = []string{"DaemonSet.apps kube-system/hcloud-cloud-controller-manager"}
		}
		if !slices.Equal(r.Configured, want) || len(r.Created)+len(r.Pruned) > 0 {
			t.Errorf("after changing the CCM's load balancer type, addon %s: configured %v created %v pruned %v; want configured %v", r.Addon, r.Configured, r.Created, r.Pruned, want)
		}
	}

	// Switched off: metrics-server's objects and inventory are removed.
	c.Addons.MetricsServer.Enabled = false
	if res, err = Apply(ctx, d, c); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Addons, func(r install.Report) bool { return r.Addon == "metrics-server" && r.Action == "deleted" }) {
		t.Errorf("metrics-server switched off, reports %+v", res.Addons)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "metrics-server", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Deployment metrics-server after switching it off: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, kubeapply.InventoryName("metrics-server"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("metrics-server's inventory after switching it off: %v", err)
	}
}

func stateClient(t *testing.T, d Deps) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(d.StateDir, KubeconfigFile))
	if err != nil {
		t.Fatalf("the kubeconfig apply saved: %v", err)
	}
	return kubernetes.NewForConfigOrDie(rc)
}

func listNodes(t *testing.T, cs kubernetes.Interface) []corev1.Node {
	t.Helper()
	list, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatal("no nodes registered")
	}
	return list.Items
}

func ready(n corev1.Node) bool {
	return slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
		return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	})
}

func tainted(n corev1.Node) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == "node.cloudprovider.kubernetes.io/uninitialized" })
}

func hasAddress(n corev1.Node, typ corev1.NodeAddressType) bool {
	return slices.ContainsFunc(n.Status.Addresses, func(a corev1.NodeAddress) bool { return a.Type == typ })
}

func ccmLoadBalancers(t *testing.T, w *world) []string {
	t.Helper()
	lbs, err := w.env.Client.LoadBalancer.AllWithOpts(context.Background(), hcloud.LoadBalancerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: "hcloud-ccm/service-uid"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, lb := range lbs {
		names = append(names, lb.Name)
	}
	return names
}
