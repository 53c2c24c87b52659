package simworld

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// The pods of one node, with the CNI stand-in: Jobs complete, deletions
// take their grace period (capped by the stop delay) on the world's clock,
// pods with CSI volumes wait for the attachment and report the volume in
// use, and every pod has its own address of the node's pod CIDR.
func TestKubeletRunsPods(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver (built by `go run ./hack/testbin`)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	tc := bootCluster(t, ctx, 1, TalosWorldOptions{PodStopDelay: 10 * time.Second})
	k8s, node := tc.k8s, tc.cps[0].Name
	if err := InstallMinimalCNI(ctx, k8s); err != nil {
		t.Fatal(err)
	}
	tc.waitNodes(t, ctx, corev1.ConditionTrue)

	t.Run("pod addresses", func(t *testing.T) {
		cidr := netip.MustParsePrefix(tc.node(t, ctx, node).Spec.PodCIDR)
		var ips []string
		for _, name := range []string{"ip-a", "ip-b"} {
			if _, err := k8s.CoreV1().Pods("default").Create(ctx, boundPod(name, node, false), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"ip-a", "ip-b"} {
			p := tc.waitPod(t, ctx, "default", name, corev1.PodRunning, true)
			ip, err := netip.ParseAddr(p.Status.PodIP)
			if err != nil || !cidr.Contains(ip) || slices.Contains(ips, p.Status.PodIP) {
				t.Errorf("%s: pod IP %q, want a free one of %s (taken: %v)", name, p.Status.PodIP, cidr, ips)
			}
			if p.Status.HostIP != tc.cps[0].PrivateIPv4.String() {
				t.Errorf("%s: host IP %s", name, p.Status.HostIP)
			}
			ips = append(ips, p.Status.PodIP)
		}
	})

	t.Run("job", func(t *testing.T) {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: "default"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Tolerations:   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers:    []corev1.Container{{Name: "run", Image: "registry.example/job:1"}},
			}}},
		}
		if _, err := k8s.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		testwait.Eventually(t, 60*time.Second, "the job complete", func() error {
			j, err := k8s.BatchV1().Jobs("default").Get(ctx, "once", metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range j.Status.Conditions {
				if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
			return fmt.Errorf("succeeded %d, conditions %v", j.Status.Succeeded, j.Status.Conditions)
		})
		pods, err := k8s.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=once"})
		if err != nil || len(pods.Items) != 1 {
			t.Fatalf("job pods %v, %v", pods, err)
		}
		p := pods.Items[0]
		if p.Status.Phase != corev1.PodSucceeded || len(p.Status.ContainerStatuses) != 1 ||
			p.Status.ContainerStatuses[0].State.Terminated == nil || p.Status.ContainerStatuses[0].State.Terminated.ExitCode != 0 {
			t.Errorf("job pod %s %+v, want Succeeded with its container terminated (exit 0)", p.Status.Phase, p.Status.ContainerStatuses)
		}
		if start, end := startedOf(p), p.Status.ContainerStatuses[0].State.Terminated.FinishedAt; end.Sub(start.Time) < defaultJobRunTime {
			t.Errorf("job pod ran %v of world time, want at least %v", end.Sub(start.Time), defaultJobRunTime)
		}
	})

	t.Run("grace period", func(t *testing.T) {
		for _, name := range []string{"grace-5s", "grace-60s"} {
			if _, err := k8s.CoreV1().Pods("default").Create(ctx, boundPod(name, node, false), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			tc.waitPod(t, ctx, "default", name, corev1.PodRunning, true)
		}
		// World time stands still: the deletions wait exactly as long as the
		// test advances it.
		tc.env.Clock.Pause()
		defer tc.env.Clock.Resume()
		for name, grace := range map[string]int64{"grace-5s": 5, "grace-60s": 60} {
			if err := k8s.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
				t.Fatal(err)
			}
		}
		exists := func(name string) bool {
			_, err := k8s.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
			return err == nil
		}
		tc.waitSyncs(t, 10)
		tc.env.Clock.Advance(4 * time.Second)
		tc.waitSyncs(t, 10)
		if !exists("grace-5s") || !exists("grace-60s") {
			t.Fatal("a pod was removed before its grace period passed")
		}
		tc.env.Clock.Advance(2 * time.Second) // 6s: past the 5s grace period
		tc.waitGone(t, ctx, "default", "grace-5s")
		tc.waitSyncs(t, 10)
		if !exists("grace-60s") {
			t.Fatal("the pod with 60s grace went before the 10s stop delay")
		}
		tc.env.Clock.Advance(5 * time.Second) // 11s: past the stop delay
		tc.waitGone(t, ctx, "default", "grace-60s")
	})

	t.Run("csi volume", func(t *testing.T) {
		const driver, handle = "csi.hetzner.cloud", "4711"
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pv-data"},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: handle}},
				ClaimRef:               &corev1.ObjectReference{Namespace: "default", Name: "data"},
			},
		}
		if _, err := k8s.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		claim := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "default"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
				VolumeName:  pv.Name,
			},
		}
		if _, err := k8s.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := boundPod("db", node, false)
		pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
		if _, err := k8s.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		inUse := corev1.UniqueVolumeName("kubernetes.io/csi/" + driver + "^" + handle)
		testwait.Eventually(t, 30*time.Second, "the volume reported in use", func() error {
			if n := tc.node(t, ctx, node); !slices.Contains(n.Status.VolumesInUse, inUse) {
				return fmt.Errorf("volumesInUse %v", n.Status.VolumesInUse)
			}
			return nil
		})

		// Attached elsewhere, or not yet attached: the pod waits.
		attach := func(name, to string, attached bool) {
			t.Helper()
			va := &storagev1.VolumeAttachment{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: storagev1.VolumeAttachmentSpec{Attacher: driver, NodeName: to,
					Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv.Name}},
			}
			created, err := k8s.StorageV1().VolumeAttachments().Create(ctx, va, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			created.Status.Attached = attached
			if _, err := k8s.StorageV1().VolumeAttachments().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		attach("va-elsewhere", "another-node", true)
		attach("va-here", node, false)
		tc.waitSyncs(t, 10)
		if p := tc.pod(t, ctx, "default", "db"); p.Status.Phase != corev1.PodPending {
			t.Fatalf("pod %s before its volume was attached to its node", p.Status.Phase)
		}
		va, err := k8s.StorageV1().VolumeAttachments().Get(ctx, "va-here", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		va.Status.Attached = true
		if _, err := k8s.StorageV1().VolumeAttachments().UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		tc.waitPod(t, ctx, "default", "db", corev1.PodRunning, true)

		// Gone: no longer in use, so the attach-detach controller may detach.
		zero := int64(0)
		if err := k8s.CoreV1().Pods("default").Delete(ctx, "db", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		testwait.Eventually(t, 30*time.Second, "the volume no longer in use", func() error {
			if n := tc.node(t, ctx, node); len(n.Status.VolumesInUse) != 0 {
				return errors.New(fmt.Sprint("volumesInUse ", n.Status.VolumesInUse))
			}
			return nil
		})
	})
	if err := tc.w.Err(); err != nil {
		t.Errorf("world errors: %v", err)
	}
}

func startedOf(p corev1.Pod) metav1.Time {
	if s := p.Status.ContainerStatuses[0].State.Terminated; s != nil {
		return s.StartedAt
	}
	return metav1.Time{}
}
