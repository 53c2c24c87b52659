package csisim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

const (
	within   = 60 * time.Second
	nodeName = "worker-1"
	appNS    = "app"
)

// world is a simulator with one server, an API server with the controller
// manager (PV binder and attach-detach controllers included) and scheduler,
// the server's Ready Node, the chart's CSIDriver and StorageClasses, a
// Running node-plugin pod on the node, and csisim running against both.
type world struct {
	t      *testing.T
	env    *simtest.Env
	kube   kubernetes.Interface
	server *hcloud.Server
	passes atomic.Int64
	logs   chan string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts a control plane")
	}
	w := &world{t: t, env: simtest.New(t, hcloudsim.Options{}), logs: make(chan string, 1000)}
	controllers := kubesim.DefaultControllers()
	api, err := kubesim.Start(t.Context(), kubesim.Options{
		ControllerManager: true, Scheduler: true,
		ControllerManagerArgs: []string{"--controllers=" + strings.Join(controllers, ",")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Stop() })
	rc, err := api.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	if w.kube, err = kubernetes.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	w.server = w.createServer(nodeName, "fsn1")
	w.createNode(nodeName, w.server)
	w.createChartObjects()
	w.start()
	return w
}

// start runs csisim until the test ends.
func (w *world) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, Options{
			Kube: w.kube, Hetzner: w.env.Client, Clock: w.env.Sim.Clock(), Interval: 100 * time.Second,
			Logf: func(f string, a ...any) {
				msg := fmt.Sprintf(f, a...)
				w.t.Log(msg)
				select {
				case w.logs <- msg:
				default:
				}
			},
		}, func() { w.passes.Add(1) })
	}()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("Run: %v", err)
		}
	})
}

// awaitPasses waits until n whole reconcile passes have run from now (the
// first may already be under way, hence one more).
func (w *world) awaitPasses(n int64) {
	w.t.Helper()
	target := w.passes.Load() + n + 1
	testwait.Eventually(w.t, within, fmt.Sprintf("%d reconcile passes", n), func() error {
		if got := w.passes.Load(); got < target {
			return fmt.Errorf("%d of %d", got, target)
		}
		return nil
	})
}

func (w *world) createServer(name, location string) *hcloud.Server {
	w.t.Helper()
	ctx := w.t.Context()
	res, _, err := w.env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: name, ServerType: &hcloud.ServerType{Name: "cx22"},
		Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: location},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.env.Client.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
		w.t.Fatal(err)
	}
	return res.Server
}

// createNode registers the server's Node as the kubelet and the cloud
// controller manager would: providerID, zone labels, Ready, attach-detach
// left to the controller manager.
func (w *world) createNode(name string, srv *hcloud.Server) {
	w.t.Helper()
	res := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	now := metav1.Now()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				corev1.LabelHostname: name, corev1.LabelOSStable: "linux",
				corev1.LabelTopologyRegion: srv.Location.Name, corev1.LabelTopologyZone: srv.Location.Name + "-dc14",
			},
			Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
		},
		Spec: corev1.NodeSpec{ProviderID: "hcloud://" + strconv.FormatInt(srv.ID, 10)},
		Status: corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: now, LastTransitionTime: now,
			}},
		},
	}
	if _, err := w.kube.CoreV1().Nodes().Create(w.t.Context(), node, metav1.CreateOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

// createChartObjects creates what the chart (with our values:
// enableProvidedByTopology) installs that matters here, the node plugin's
// pod, and classes for the other cases.
func (w *world) createChartObjects() {
	w.t.Helper()
	ctx := w.t.Context()
	if _, err := w.kube.StorageV1().CSIDrivers().Create(ctx, &storagev1.CSIDriver{
		ObjectMeta: metav1.ObjectMeta{Name: driverName},
		Spec: storagev1.CSIDriverSpec{
			AttachRequired: new(true), PodInfoOnMount: new(true),
			VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
		},
	}, metav1.CreateOptions{}); err != nil {
		w.t.Fatal(err)
	}
	providedBy := []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
		{Key: topologyProvidedBy, Values: []string{"cloud"}},
	}}}
	inFsn1 := []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
		{Key: topologyLocation, Values: []string{"fsn1"}},
	}}}
	for _, sc := range []*storagev1.StorageClass{
		class("hcloud-volumes", storagev1.VolumeBindingWaitForFirstConsumer, corev1.PersistentVolumeReclaimDelete, providedBy, nil),
		class("fsn1-retain", storagev1.VolumeBindingImmediate, corev1.PersistentVolumeReclaimRetain, inFsn1,
			map[string]string{"labels": "tier=db, backup=daily"}),
		class("fsn1-delete", storagev1.VolumeBindingImmediate, corev1.PersistentVolumeReclaimDelete, inFsn1, nil),
		class("no-location", storagev1.VolumeBindingImmediate, corev1.PersistentVolumeReclaimDelete, providedBy, nil),
	} {
		if _, err := w.kube.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}}, metav1.CreateOptions{}); err != nil {
		w.t.Fatal(err)
	}
	w.runChartPod("hcloud-csi-node-x1", componentNode, nodeName, map[string]string{"ENABLE_PROVIDED_BY_TOPOLOGY": "t"})
}

func class(name string, mode storagev1.VolumeBindingMode, policy corev1.PersistentVolumeReclaimPolicy, topo []corev1.TopologySelectorTerm, params map[string]string) *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: name},
		Provisioner: driverName, VolumeBindingMode: &mode, ReclaimPolicy: &policy,
		AllowVolumeExpansion: new(true), AllowedTopologies: topo, Parameters: params,
	}
}

// runChartPod creates a pod with the chart's labels for component on node
// and reports it Running, as the kubelet would.
func (w *world) runChartPod(name, component, node string, env map[string]string) {
	w.t.Helper()
	ctx := w.t.Context()
	c := corev1.Container{Name: driverContainer, Image: "docker.io/hetznercloud/hcloud-csi-driver:v2.22.1"}
	for _, k := range sortedKeys(env) {
		c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: env[k]})
	}
	p, err := w.kube.CoreV1().Pods("kube-system").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			labelName: chartName, "app.kubernetes.io/instance": chartName, labelComponent: component,
		}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{c}},
	}, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	if _, err := w.kube.CoreV1().Pods("kube-system").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func (w *world) createPVC(name, className, size string) *corev1.PersistentVolumeClaim {
	w.t.Helper()
	pvc, err := w.kube.CoreV1().PersistentVolumeClaims(appNS).Create(w.t.Context(), &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &className,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return pvc
}

// createConsumer creates a pod using the claim; the scheduler places it.
func (w *world) createConsumer(name, claim string) {
	w.t.Helper()
	_, err := w.kube.CoreV1().Pods(appNS).Create(w.t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
			}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) pvc(name string) *corev1.PersistentVolumeClaim {
	w.t.Helper()
	pvc, err := w.kube.CoreV1().PersistentVolumeClaims(appNS).Get(w.t.Context(), name, metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return pvc
}

func (w *world) awaitBound(name string) *corev1.PersistentVolume {
	w.t.Helper()
	testwait.Eventually(w.t, within, "claim "+name+" Bound", func() error {
		if p := w.pvc(name); p.Status.Phase != corev1.ClaimBound {
			return fmt.Errorf("phase %q", p.Status.Phase)
		}
		return nil
	})
	pv, err := w.kube.CoreV1().PersistentVolumes().Get(w.t.Context(), w.pvc(name).Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return pv
}

func (w *world) volume(pv *corev1.PersistentVolume) *hcloud.Volume {
	w.t.Helper()
	id, err := strconv.ParseInt(pv.Spec.CSI.VolumeHandle, 10, 64)
	if err != nil {
		w.t.Fatalf("volumeHandle %q: %v", pv.Spec.CSI.VolumeHandle, err)
	}
	v, _, err := w.env.Client.Volume.GetByID(w.t.Context(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) deletePod(ns, name string) {
	w.t.Helper()
	if err := w.kube.CoreV1().Pods(ns).Delete(w.t.Context(), name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) deletePVC(name string) {
	w.t.Helper()
	if err := w.kube.CoreV1().PersistentVolumeClaims(appNS).Delete(w.t.Context(), name, metav1.DeleteOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) volumeCount() int {
	w.t.Helper()
	vols, err := w.env.Client.Volume.All(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return len(vols)
}

// events returns the messages of the claim's events of reason.
func (w *world) events(claim, reason string) []string {
	w.t.Helper()
	evs, err := w.kube.CoreV1().Events(appNS).List(w.t.Context(), metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + claim + ",reason=" + reason,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		out = append(out, e.Message)
	}
	return out
}

// TestDriver runs the driver's whole life in one world (the control plane
// is the slow part to start), step by step: nothing while no controller pod
// runs; then provisioning, binding, attaching, detaching and deleting of a
// WaitForFirstConsumer claim; a Retain claim's volume kept; Hetzner errors
// as ProvisioningFailed events with retries.
func TestDriver(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()

	w.createPVC("data", "hcloud-volumes", "1Gi")
	w.createConsumer("app", "data")

	t.Run("registration", func(t *testing.T) {
		testwait.Eventually(t, within, "the node plugin registered", func() error {
			cn, err := w.kube.StorageV1().CSINodes().Get(ctx, nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if len(cn.Spec.Drivers) != 1 || cn.Spec.Drivers[0].NodeID != strconv.FormatInt(w.server.ID, 10) {
				return fmt.Errorf("drivers %+v", cn.Spec.Drivers)
			}
			return nil
		})
		node, err := w.kube.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if node.Labels[topologyLocation] != "fsn1" || node.Labels[topologyProvidedBy] != "cloud" {
			t.Errorf("node topology labels %v", node.Labels)
		}
	})

	t.Run("nothing without a controller pod", func(t *testing.T) {
		testwait.Eventually(t, within, "the claim handed to the driver for the selected node", func() error {
			p := w.pvc("data")
			if p.Annotations[annStorageProvisioner] != driverName || p.Annotations[annSelectedNode] != nodeName {
				return fmt.Errorf("annotations %v", p.Annotations)
			}
			return nil
		})
		w.awaitPasses(3)
		if n := w.volumeCount(); n != 0 {
			t.Errorf("%d volumes created without a controller pod", n)
		}
		if p := w.pvc("data"); p.Spec.VolumeName != "" {
			t.Errorf("claim bound to %s without a controller pod", p.Spec.VolumeName)
		}
	})

	w.runChartPod("hcloud-csi-controller-x1", componentController, nodeName, map[string]string{
		"ENABLE_PROVIDED_BY_TOPOLOGY": "t", "HCLOUD_VOLUME_EXTRA_LABELS": "cluster=demo",
	})

	var pv *corev1.PersistentVolume
	t.Run("provisioning", func(t *testing.T) {
		pv = w.awaitBound("data")
		claim := w.pvc("data")
		if want := "pvc-" + string(claim.UID); pv.Name != want {
			t.Errorf("PV name %s, want %s", pv.Name, want)
		}
		vol := w.volume(pv)
		if vol == nil {
			t.Fatalf("no volume %s", pv.Spec.CSI.VolumeHandle)
		}
		wantLabels := map[string]string{
			"managed-by": "csi-driver", "pvc-name": "data", "pvc-namespace": appNS, "pv-name": pv.Name, "cluster": "demo",
		}
		if vol.Name != pv.Name || vol.Size != 10 || vol.Location.Name != "fsn1" || !maps.Equal(vol.Labels, wantLabels) {
			t.Errorf("volume %s, %d GB, in %s, labels %v", vol.Name, vol.Size, vol.Location.Name, vol.Labels)
		}
		csi := pv.Spec.CSI
		if csi.Driver != driverName || csi.FSType != "ext4" || csi.VolumeAttributes[provisionerIdentityKey] == "" {
			t.Errorf("PV CSI source %+v", csi)
		}
		if pv.Annotations[annProvisionedBy] != driverName || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
			pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != claim.UID || pv.Spec.Capacity.Storage().String() != "10Gi" {
			t.Errorf("PV %s: annotations %v, policy %s, claimRef %v, capacity %v", pv.Name, pv.Annotations,
				pv.Spec.PersistentVolumeReclaimPolicy, pv.Spec.ClaimRef, pv.Spec.Capacity)
		}
		exprs := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions
		if len(exprs) != 2 || exprs[0].Key != topologyLocation || exprs[0].Values[0] != "fsn1" || exprs[1].Key != topologyProvidedBy {
			t.Errorf("node affinity %+v", exprs)
		}
		if !hasString(pv.Finalizers, provisionerFinalizer) {
			t.Errorf("finalizers %v", pv.Finalizers)
		}
		if len(w.events("data", "ProvisioningSucceeded")) == 0 {
			t.Error("no ProvisioningSucceeded event")
		}
	})

	var va *storagev1.VolumeAttachment
	t.Run("attach", func(t *testing.T) {
		testwait.Eventually(t, within, "the volume attached to the server", func() error {
			var err error
			if va, err = w.attachment(pv.Name); err != nil {
				return err
			}
			if !va.Status.Attached {
				return fmt.Errorf("VolumeAttachment %s not attached (error %v)", va.Name, va.Status.AttachError)
			}
			return nil
		})
		if v := w.volume(pv); v.Server == nil || v.Server.ID != w.server.ID {
			t.Errorf("volume on server %v, want %d", v.Server, w.server.ID)
		}
		if !hasString(va.Finalizers, attacherFinalizer) || va.Status.AttachmentMetadata["devicePath"] != w.volume(pv).LinuxDevice {
			t.Errorf("VolumeAttachment finalizers %v, metadata %v", va.Finalizers, va.Status.AttachmentMetadata)
		}
	})

	t.Run("detach when the pod goes", func(t *testing.T) {
		w.deletePod(appNS, "app")
		testwait.Eventually(t, within, "the volume detached", func() error {
			if v := w.volume(pv); v.Server != nil {
				return fmt.Errorf("still on server %d", v.Server.ID)
			}
			if _, err := w.kube.StorageV1().VolumeAttachments().Get(ctx, va.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("VolumeAttachment %s still there (%v)", va.Name, err)
			}
			return nil
		})
	})

	t.Run("delete with the claim", func(t *testing.T) {
		w.deletePVC("data")
		testwait.Eventually(t, within, "volume and PV deleted", func() error {
			if v := w.volume(pv); v != nil {
				return fmt.Errorf("volume %d still there", v.ID)
			}
			if _, err := w.kube.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("PV %s still there (%v)", pv.Name, err)
			}
			return nil
		})
	})

	t.Run("retain keeps the volume", func(t *testing.T) {
		w.createPVC("keep", "fsn1-retain", "15Gi")
		kept := w.awaitBound("keep")
		vol := w.volume(kept)
		if vol.Size != 15 || vol.Labels["tier"] != "db" || vol.Labels["backup"] != "daily" {
			t.Errorf("volume %d GB, labels %v", vol.Size, vol.Labels)
		}
		if hasString(kept.Finalizers, provisionerFinalizer) {
			t.Errorf("Retain PV has the provisioner's finalizer: %v", kept.Finalizers)
		}
		w.deletePVC("keep")
		testwait.Eventually(t, within, "PV Released", func() error {
			p, err := w.kube.CoreV1().PersistentVolumes().Get(ctx, kept.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.VolumeReleased {
				return fmt.Errorf("phase %s", p.Status.Phase)
			}
			return nil
		})
		w.awaitPasses(3)
		if w.volume(kept) == nil {
			t.Error("Retain volume deleted")
		}
		if _, err := w.kube.CoreV1().PersistentVolumes().Get(ctx, kept.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("Retain PV: %v", err)
		}
	})

	t.Run("Hetzner errors are events and retried", func(t *testing.T) {
		w.env.Sim.SetFaults(hcloudsim.Faults{FailCommands: map[string]int{"create_volume": 1}})
		w.createPVC("flaky", "fsn1-delete", "10Gi")
		w.awaitBound("flaky")
		// The PV controller records ProvisioningFailed events of its own
		// (e.g. a conflict saving the claim); look for the driver's.
		if msgs := w.events("flaky", "ProvisioningFailed"); !slices.ContainsFunc(msgs, func(m string) bool {
			return strings.Contains(m, "failed to create volume") && strings.Contains(m, "create_volume failed")
		}) {
			t.Errorf("ProvisioningFailed events %q", msgs)
		}

		w.createPVC("huge", "fsn1-delete", "20000Gi")
		w.createPVC("nowhere", "no-location", "10Gi")
		testwait.Eventually(t, within, "ProvisioningFailed for the oversized and the placeless claim", func() error {
			huge, nowhere := w.events("huge", "ProvisioningFailed"), w.events("nowhere", "ProvisioningFailed")
			if !slices.ContainsFunc(huge, func(m string) bool { return strings.Contains(m, "invalid input in field 'size'") }) {
				return fmt.Errorf("huge: %q", huge)
			}
			if !slices.ContainsFunc(nowhere, func(m string) bool { return strings.Contains(m, "code = InvalidArgument") }) {
				return fmt.Errorf("nowhere: %q", nowhere)
			}
			return nil
		})
		if p := w.pvc("huge"); p.Status.Phase != corev1.ClaimPending {
			t.Errorf("oversized claim %s", p.Status.Phase)
		}
	})
}

func (w *world) attachment(pvName string) (*storagev1.VolumeAttachment, error) {
	vas, err := w.kube.StorageV1().VolumeAttachments().List(w.t.Context(), metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	if va := attachmentOf(vas.Items, pvName); va != nil {
		return va, nil
	}
	return nil, fmt.Errorf("no VolumeAttachment for %s", pvName)
}

func hasString(list []string, s string) bool { return slices.Contains(list, s) }
