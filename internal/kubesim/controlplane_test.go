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

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// TestControllerManagerAndScheduler runs the real kube-controller-manager
// and kube-scheduler: a Deployment gets a ReplicaSet whose pods are bound to
// the only schedulable node, the node gets a pod CIDR from nodeipam, and a
// PodDisruptionBudget gets its status from the disruption controller.
func TestControllerManagerAndScheduler(t *testing.T) {
	requireNamed(t, testbin.Etcd, testbin.APIServer, testbin.ControllerManager, testbin.Scheduler)
	begin := time.Now()
	s, err := Start(t.Context(), Options{ControllerManager: true, Scheduler: true, ClusterCIDR: "10.244.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("API server, controller manager and scheduler healthy after %s", time.Since(begin).Round(time.Millisecond))
	cfg, err := s.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset(t, cfg)
	ctx := t.Context()

	if _, err := cs.CoreV1().Nodes().Create(ctx, readyNode("worker-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, deployment("web", 2, labels), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	minAvailable := intstr.FromInt32(1)
	if _, err := cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	const within = 60 * time.Second
	testwait.Eventually(t, within, "a ReplicaSet owned by the Deployment", func() error {
		return ownedReplicaSet(cs, t, "web")
	})
	testwait.Eventually(t, within, "2 pods bound to worker-1", func() error {
		return podsBound(cs, t, labels, "worker-1", 2)
	})
	testwait.Eventually(t, within, "a pod CIDR for worker-1", func() error {
		return podCIDRIn(cs, t, "worker-1", "10.244.0.0/16")
	})
	testwait.Eventually(t, within, "PodDisruptionBudget status", func() error {
		pdb, err := cs.PolicyV1().PodDisruptionBudgets("default").Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		// No kubelet makes the pods Ready, so none is healthy yet; what
		// matters is that the controller observed the budget and counted.
		if pdb.Status.ObservedGeneration != pdb.Generation || pdb.Status.ExpectedPods != 2 || pdb.Status.DesiredHealthy != 1 {
			return fmt.Errorf("status %+v", pdb.Status)
		}
		return nil
	})
	for _, name := range []string{testbin.ControllerManager, testbin.Scheduler} {
		if s.LogFile(name) == "" {
			t.Errorf("no log file for %s", name)
		}
	}

	// Stop ends all four processes.
	var pids []int
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d still running after Stop", pid)
		}
	}
}

// TestControllerManagerFailure: kube-controller-manager dies at once (a
// stand-in); Start fails quickly, quotes and names its log, and leaves no
// API server or etcd behind.
func TestControllerManagerFailure(t *testing.T) {
	requireBinaries(t)
	etcd, apiserver, err := binaries("")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for name, target := range map[string]string{"etcd": etcd, "kube-apiserver": apiserver, testbin.ControllerManager: exe} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Skipf("cannot symlink: %v", err)
		}
	}
	t.Setenv("KUBESIM_STANDIN", "1")
	begin := time.Now()
	_, err = Start(t.Context(), Options{BinDir: bin, ControllerManager: true})
	if err == nil {
		t.Fatal("Start succeeded with a crashing kube-controller-manager")
	}
	checkFailure(t, err, begin.Add(5*time.Second), "kcm boom", "kube-controller-manager.log") // the API server takes ~5 s first
	if pids := runningFrom(bin); len(pids) > 0 {
		t.Errorf("processes %v still running", pids)
	}
}

// runningFrom lists the processes whose executable path (argv[0]) is in dir,
// from /proc (Linux only; none elsewhere).
func runningFrom(dir string) []int {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, c := range cmdlines {
		data, err := os.ReadFile(c)
		if err != nil || !strings.HasPrefix(string(data), dir+string(filepath.Separator)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(c))); err == nil && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readyNode is a schedulable node as a kubelet would register it, Ready and
// with room for pods (the scheduler counts allocatable pods).
func readyNode(name string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	now := metav1.Now()
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: now, LastTransitionTime: now,
			}},
		},
	}
}

func deployment(name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}
}

func ownedReplicaSet(cs kubernetes.Interface, t *testing.T, deploy string) error {
	rss, err := cs.AppsV1().ReplicaSets("default").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, rs := range rss.Items {
		for _, o := range rs.OwnerReferences {
			if o.Kind == "Deployment" && o.Name == deploy {
				return nil
			}
		}
	}
	return fmt.Errorf("%d ReplicaSets, none owned by Deployment %s", len(rss.Items), deploy)
}

func podsBound(cs kubernetes.Interface, t *testing.T, labels map[string]string, node string, want int) error {
	pods, err := cs.CoreV1().Pods("default").List(t.Context(), metav1.ListOptions{
		LabelSelector: metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: labels}),
	})
	if err != nil {
		return err
	}
	bound := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName == node {
			bound++
		}
	}
	if len(pods.Items) != want || bound != want {
		return fmt.Errorf("%d pods, %d of them on %s; want %d on it", len(pods.Items), bound, node, want)
	}
	return nil
}

func podCIDRIn(cs kubernetes.Interface, t *testing.T, node, clusterCIDR string) error {
	n, err := cs.CoreV1().Nodes().Get(t.Context(), node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if n.Spec.PodCIDR == "" {
		return errors.New("no spec.podCIDR yet")
	}
	_, cluster, _ := net.ParseCIDR(clusterCIDR)
	ip, _, err := net.ParseCIDR(n.Spec.PodCIDR)
	if err != nil || !cluster.Contains(ip) {
		return fmt.Errorf("pod CIDR %q is not inside %s", n.Spec.PodCIDR, clusterCIDR)
	}
	return nil
}

// TestMissingControlPlaneBinaries needs no binaries: asking for the
// controller manager, scheduler or CCM without them fails with the build
// instruction, naming what is missing.
func TestMissingControlPlaneBinaries(t *testing.T) {
	bin := t.TempDir()
	for _, name := range []string{testbin.Etcd, testbin.APIServer} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Start(t.Context(), Options{BinDir: bin, ControllerManager: true, Scheduler: true})
	if !errors.Is(err, ErrBinariesMissing) || !strings.Contains(err.Error(), "go run ./hack/testbin") ||
		!strings.Contains(err.Error(), testbin.ControllerManager) || !strings.Contains(err.Error(), testbin.Scheduler) {
		t.Errorf("controller manager and scheduler missing: got %v", err)
	}
	_, err = StartCCM(t.Context(), CCMOptions{BinDir: bin, Kubeconfig: []byte("x"), Token: "t", Endpoint: "http://127.0.0.1:1/v1"})
	if !errors.Is(err, ErrBinariesMissing) || !strings.Contains(err.Error(), "go run ./hack/testbin") ||
		!strings.Contains(err.Error(), testbin.EnvCCMSource) {
		t.Errorf("CCM missing: got %v", err)
	}
}
