package lifecycle

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// formed is a cluster apply formed in the local world, with its client.
type formed struct {
	w  *world
	d  Deps
	c  *config.Cluster
	cs kubernetes.Interface
}

func formCluster(t *testing.T, mutate func(*config.Cluster)) *formed {
	t.Helper()
	w, c, d := clusterWorld(t, mutate)
	if _, err := Apply(context.Background(), d, c); err != nil {
		t.Fatalf("apply: %v\n%s", err, w.out)
	}
	return &formed{w: w, d: d, c: c, cs: stateClient(t, d)}
}

// clusterWorld is a local world for the cluster file (mutated): the
// simulator with Talos snapshots, the fake nodes, the world's chart
// repository, and the Deps that form a cluster in it.
func clusterWorld(t *testing.T, mutate func(*config.Cluster)) (*world, *config.Cluster, Deps) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Kubernetes binaries (go run ./hack/testbin)")
	}
	w := newWorld(t, hcloudsim.Options{})
	c := parse(t, mutate)
	ctx := context.Background()
	ids, err := simworld.SeedTalosSnapshots(ctx, w.env.Client, c)
	if err != nil {
		t.Fatal(err)
	}
	world, err := simworld.StartTalosWorld(ctx, w.env.Sim, simworld.TalosWorldOptions{TalosImages: simworld.ImageSet(ids...), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(world.Close)
	d := w.deps
	// The CCM reads the token from the hcloud Secret and calls the
	// simulator with it.
	d.InfrastructureOnly, d.StateDir, d.Token = false, t.TempDir(), w.env.Sim.Token()
	d.ChartMirror, d.ChartCacheDir = world.ChartMirror(), t.TempDir()
	d.TalosPollInterval, d.TalosTimeout = 20*time.Millisecond, time.Minute
	return w, c, d
}

// workload runs replicas pods of a Deployment, all on demo-worker-2 (the
// worker the tests remove), with a PodDisruptionBudget of minAvailable.
func (f *formed) workload(t *testing.T, replicas int32, minAvailable int) {
	t.Helper()
	ctx := context.Background()
	dep := deployment("web", replicas, map[string]string{corev1.LabelHostname: "demo-worker-2"})
	lbls := dep.Spec.Selector.MatchLabels
	if _, err := f.cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	min := intstr.FromInt(minAvailable)
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &min, Selector: &metav1.LabelSelector{MatchLabels: lbls}},
	}
	if _, err := f.cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPods(t, f.cs, "demo-worker-2", int(replicas))
}

func waitPods(t *testing.T, cs kubernetes.Interface, node string, n int) {
	t.Helper()
	testwait.Eventually(t, time.Minute, fmt.Sprintf("%d running pods of web on %s", n, node), func() error {
		pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{FieldSelector: "spec.nodeName=" + node, LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		if running != n || len(pods.Items) != n {
			return fmt.Errorf("%d pods, %d running", len(pods.Items), running)
		}
		return nil
	})
}

// Lowering the worker count of a bootstrapped cluster drains the last worker
// (its pods are evicted through the eviction API), deletes its server and its
// Node.
func TestRemovingAWorkerDrainsIt(t *testing.T) {
	f := formCluster(t, nil)
	f.workload(t, 2, 0)
	c := parse(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 1 })
	p := f.w.plan(t, c)
	if got := p.NodesToDrain(); len(got) != 1 || got[0] != "demo-worker-2" || len(p.Problems) != 0 {
		t.Fatalf("plan: drain %v, problems %v", got, p.Problems)
	}
	f.w.out.Reset()
	if _, err := Apply(context.Background(), f.d, c); err != nil {
		t.Fatalf("apply: %v\n%s", err, f.w.out)
	}
	for _, want := range []string{"Draining demo-worker-2", "✓ demo-worker-2 drained", "✓ node demo-worker-2 removed from Kubernetes"} {
		if !strings.Contains(f.w.out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, f.w.out)
		}
	}
	if _, err := f.cs.CoreV1().Nodes().Get(context.Background(), "demo-worker-2", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Node demo-worker-2 still exists: %v", err)
	}
	if _, ok := serverNames(t, f.w.env.Client)["demo-worker-2"]; ok {
		t.Error("server demo-worker-2 still exists")
	}
	waitPods(t, f.cs, "demo-worker-2", 0)
}

// A PodDisruptionBudget that allows no disruption stops the drain: apply
// names the pods and the budget, uncordons the node and deletes nothing.
func TestBlockedDrainChangesNothing(t *testing.T) {
	f := formCluster(t, nil)
	f.workload(t, 2, 2)
	f.d.DrainTimeout = 2 * time.Second
	c := parse(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 1 })
	_, err := Apply(context.Background(), f.d, c)
	if err == nil {
		t.Fatal("apply drained through a budget that allows no disruption")
	}
	for _, want := range []string{"apply stopped at drain removed workers: drain of demo-worker-2 did not finish", "still on it: default/web-", "PodDisruptionBudget default/web (healthy ", "nothing was deleted", "--force-drain", "once the cause is fixed, apply continues from here"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, ok := serverNames(t, f.w.env.Client)["demo-worker-2"]; !ok {
		t.Error("the server was deleted after a blocked drain")
	}
	n, err := f.cs.CoreV1().Nodes().Get(context.Background(), "demo-worker-2", metav1.GetOptions{})
	if err != nil || n.Spec.Unschedulable {
		t.Errorf("node after the blocked drain: %v, unschedulable %v", err, n != nil && n.Spec.Unschedulable)
	}

	// --force-drain goes through.
	f.d.ForceDrain = true
	if _, err := Apply(context.Background(), f.d, c); err != nil {
		t.Fatalf("apply --force-drain: %v\n%s", err, f.w.out)
	}
	if _, ok := serverNames(t, f.w.env.Client)["demo-worker-2"]; ok {
		t.Error("server demo-worker-2 survived --force-drain")
	}
}

// Destroy first lets the cluster release what its controllers made — it
// deletes the LoadBalancer Services and the volume claims — and then deletes
// the Hetzner volumes the cluster's PersistentVolumes name and the CCM's load
// balancers in its network. A volume no PersistentVolume of the cluster
// names is not proven to be the cluster's and survives.
func TestDestroyReleasesWhatTheClusterMade(t *testing.T) {
	f := formCluster(t, nil)
	ctx := context.Background()
	api := f.w.env.Client
	volume := func(name string) *hcloud.Volume {
		t.Helper()
		res, _, err := api.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: name, Size: 10, Location: &hcloud.Location{Name: "fsn1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := api.Action.WaitFor(ctx, res.Action); err != nil {
			t.Fatal(err)
		}
		return res.Volume
	}
	ours, foreign := volume("pvc-0c6f7f2e"), volume("someone-elses")

	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pvc-0c6f7f2e"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.hetzner.cloud", VolumeHandle: strconv.FormatInt(ours.ID, 10)}},
		},
	}
	if _, err := f.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, VolumeName: "pvc-0c6f7f2e",
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
		},
	}
	if _, err := f.cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := f.cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	f.w.out.Reset()
	res, err := Destroy(ctx, f.d, f.c, func([]string) bool { return true })
	if err != nil || len(res.Left) != 0 {
		t.Fatalf("destroy: %v %+v\n%s", err, res, f.w.out)
	}
	if !strings.Contains(f.w.out.String(), "Deleting 2 load balancer Services and volume claims in the cluster") {
		t.Errorf("destroy did not release the cluster's Service and claim:\n%s", f.w.out)
	}
	for _, v := range []*hcloud.Volume{ours, foreign} {
		got, _, err := api.Volume.GetByID(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gone, want := got == nil, v == ours; gone != want {
			t.Errorf("volume %s: deleted %v, want %v", v.Name, gone, want)
		}
	}
}

// With --keep-volumes destroy keeps every volume of the cluster, attached
// ones included, lists them as kept, and leaves the claims alone (deleting
// one would make the CSI driver delete its volume).
func TestDestroyKeepsVolumesWhenAsked(t *testing.T) {
	f := formCluster(t, nil)
	ctx := context.Background()
	api := f.w.env.Client
	worker := serverNames(t, api)["demo-worker-1"]
	res, _, err := api.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: "pvc-kept", Size: 10, Server: worker, Labels: map[string]string{"cluster": "demo"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
		t.Fatal(err)
	}
	f.d.KeepVolumes = true
	f.w.out.Reset()
	out, err := Destroy(ctx, f.d, f.c, func([]string) bool { return true })
	if err != nil || len(out.Left) != 0 {
		t.Fatalf("destroy --keep-volumes: %v %+v\n%s", err, out, f.w.out)
	}
	if !slices.Contains(out.Kept, "volume pvc-kept (--keep-volumes)") {
		t.Errorf("kept = %v, want the volume listed", out.Kept)
	}
	v, _, err := api.Volume.GetByID(ctx, res.Volume.ID)
	if err != nil || v == nil {
		t.Fatalf("the volume was deleted: %v", err)
	}
	if v.Server != nil {
		t.Errorf("the kept volume is still attached to server %d, which destroy deleted", v.Server.ID)
	}
	if n := len(serverNames(t, api)); n != 0 {
		t.Errorf("%d servers left", n)
	}
}
