package simworld

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
)

// kubeletFieldManager owns what the fake kubelets apply.
const kubeletFieldManager = "simworld-kubelet"

// heartbeat is how often (real time) a ready node's status is re-posted
// when nothing changed.
const heartbeat = 10 * time.Second

// kubelet registers and maintains the Node objects of one cluster, one fake
// kubelet per configured, running node, and finishes pod deletions on them.
type kubelet struct {
	w       *TalosWorld
	c       *worldCluster
	cs      kubernetes.Interface
	applied map[string]*nodeRecord // by node name
}

// nodeRecord is what the kubelet last posted for a node.
type nodeRecord struct {
	fingerprint string
	ready       bool
	since       metav1.Time // last Ready transition
	posted      time.Time   // real time of the last status post
}

// desiredNode is a node's registration as its kubelet would post it.
type desiredNode struct {
	name       string
	providerID string
	labels     map[string]string
	taints     []corev1.Taint
	addresses  []corev1.NodeAddress
	version    string
	arch       string
}

func (d desiredNode) fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%s|", d.name, d.providerID, d.version, d.arch)
	for _, k := range slices.Sorted(maps.Keys(d.labels)) {
		fmt.Fprintf(&b, "l:%s=%s|", k, d.labels[k])
	}
	for _, t := range d.taints {
		fmt.Fprintf(&b, "t:%s=%s:%s|", t.Key, t.Value, t.Effect)
	}
	for _, a := range d.addresses {
		fmt.Fprintf(&b, "a:%s=%s|", a.Type, a.Address)
	}
	return b.String()
}

// runKubelet runs the cluster's kubelets until the world closes.
func (w *TalosWorld) runKubelet(c *worldCluster, api *kubesim.APIServer) {
	rc, err := api.AdminClient()
	if err != nil {
		w.fail(fmt.Errorf("simworld: cluster %s: kubelet client: %w", c.name, err))
		return
	}
	rc.UserAgent = "simworld-kubelet"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		w.fail(fmt.Errorf("simworld: cluster %s: kubelet client: %w", c.name, err))
		return
	}
	k := &kubelet{w: w, c: c, cs: cs, applied: map[string]*nodeRecord{}}
	t := time.NewTicker(w.opts.KubeletInterval)
	defer t.Stop()
	for {
		k.sync(w.ctx)
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *TalosWorld) viewsOf(c *worldCluster) []nodeView {
	w.mu.Lock()
	defer w.mu.Unlock()
	return c.views
}

// sync posts every node's state once.
func (k *kubelet) sync(ctx context.Context) {
	views := k.w.viewsOf(k.c)
	seen := map[string]bool{}
	ready := map[string]bool{}
	for _, v := range views {
		seen[v.name] = true
		var cfg config.Provider
		if v.running && v.node.State() == talossim.StateRunning {
			cfg = v.node.Config()
		}
		rec := k.applied[v.name]
		if cfg == nil {
			if rec != nil && rec.ready {
				k.markUnknown(ctx, v.name, rec)
			}
			continue
		}
		d := desired(v, cfg)
		if err := k.post(ctx, d, rec); err != nil {
			if ctx.Err() == nil {
				k.w.logf("simworld: %s: kubelet %s: %v", k.c.name, v.name, err)
			}
			continue
		}
		ready[v.name] = true
	}
	for name, rec := range k.applied {
		if !seen[name] {
			if rec.ready {
				k.markUnknown(ctx, name, rec)
			}
			delete(k.applied, name)
		}
	}
	if len(ready) > 0 {
		k.tendPods(ctx, ready)
	}
}

// desired derives a node's registration from its machine configuration
// and the server's addresses.
func desired(v nodeView, cfg config.Provider) desiredNode {
	d := desiredNode{
		name:       v.name,
		providerID: fmt.Sprintf("hcloud://%d", v.serverID),
		labels:     map[string]string{},
		arch:       "amd64",
		version:    kubeletVersion(cfg),
	}
	for k, val := range cfg.Machine().NodeLabels() {
		if strings.Contains(k, "$patch") || strings.Contains(val, "$patch") {
			continue
		}
		d.labels[k] = val
	}
	if a := d.labels[corev1.LabelArchStable]; a != "" {
		d.arch = a
	}
	d.labels[corev1.LabelHostname] = v.name
	d.labels[corev1.LabelOSStable] = "linux"
	d.labels[corev1.LabelArchStable] = d.arch
	controlPlane := cfg.Machine().Type().IsControlPlane()
	if controlPlane {
		d.labels["node-role.kubernetes.io/control-plane"] = ""
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Machine().NodeTaints())) {
		d.taints = append(d.taints, parseTaint(key, cfg.Machine().NodeTaints()[key]))
	}
	if controlPlane && !cfg.Cluster().ScheduleOnControlPlanes() {
		cp := corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}
		if !slices.ContainsFunc(d.taints, func(t corev1.Taint) bool { return t.Key == cp.Key && t.Effect == cp.Effect }) {
			d.taints = append(d.taints, cp)
		}
	}
	for _, ip := range v.privateV4 {
		d.addresses = append(d.addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	if v.publicV4 != "" {
		d.addresses = append(d.addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: v.publicV4})
	}
	d.addresses = append(d.addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: v.name})
	return d
}

// parseTaint reads a Talos machine.nodeTaints entry: "value:effect" or
// "effect" alone.
func parseTaint(key, spec string) corev1.Taint {
	t := corev1.Taint{Key: key}
	if i := strings.LastIndex(spec, ":"); i >= 0 {
		t.Value, t.Effect = spec[:i], corev1.TaintEffect(spec[i+1:])
	} else {
		t.Effect = corev1.TaintEffect(spec)
	}
	if t.Effect == "" {
		t.Effect = corev1.TaintEffectNoSchedule
	}
	return t
}

// kubeletVersion is the tag of the configured kubelet image.
func kubeletVersion(cfg config.Provider) string {
	img := cfg.Machine().Kubelet().Image()
	if i := strings.LastIndex(img, ":"); i >= 0 && !strings.Contains(img[i:], "/") {
		return img[i+1:]
	}
	return "v0.0.0"
}

// post registers or updates the node and posts Ready=True, unless the last
// post is identical and recent.
func (k *kubelet) post(ctx context.Context, d desiredNode, rec *nodeRecord) error {
	fp := d.fingerprint()
	if rec != nil && rec.ready && rec.fingerprint == fp && time.Since(rec.posted) < heartbeat {
		return nil
	}
	nodes := k.cs.CoreV1().Nodes()
	opts := metav1.ApplyOptions{FieldManager: kubeletFieldManager, Force: true}
	if rec == nil || !rec.ready || rec.fingerprint != fp {
		spec := corev1ac.NodeSpec().WithProviderID(d.providerID)
		for _, t := range d.taints {
			spec.WithTaints(corev1ac.Taint().WithKey(t.Key).WithValue(t.Value).WithEffect(t.Effect))
		}
		if _, err := nodes.Apply(ctx, corev1ac.Node(d.name).WithLabels(d.labels).WithSpec(spec), opts); err != nil {
			return fmt.Errorf("register node: %w", err)
		}
	}
	now := metav1.NewTime(k.w.clock.Now().Truncate(time.Second)) // the world's (simulated) time
	since := now
	if rec != nil && rec.ready {
		since = rec.since
	}
	st := corev1ac.NodeStatus().
		WithConditions(corev1ac.NodeCondition().
			WithType(corev1.NodeReady).WithStatus(corev1.ConditionTrue).
			WithReason("KubeletReady").WithMessage("kubelet is posting ready status").
			WithLastHeartbeatTime(now).WithLastTransitionTime(since)).
		WithCapacity(resources()).WithAllocatable(resources()).
		WithNodeInfo(corev1ac.NodeSystemInfo().
			WithKubeletVersion(d.version).WithKubeProxyVersion("").
			WithOperatingSystem("linux").WithArchitecture(d.arch).
			WithOSImage("Talos (" + talossim.DefaultVersion + ")").
			WithContainerRuntimeVersion("containerd://2.1.5").
			WithKernelVersion("6.12.0-talos").
			WithMachineID("").WithSystemUUID("").WithBootID(""))
	for _, a := range d.addresses {
		st.WithAddresses(corev1ac.NodeAddress().WithType(a.Type).WithAddress(a.Address))
	}
	if _, err := nodes.ApplyStatus(ctx, corev1ac.Node(d.name).WithStatus(st), opts); err != nil {
		return fmt.Errorf("post node status: %w", err)
	}
	if rec == nil || !rec.ready {
		k.w.logf("simworld: %s: node %s Ready", k.c.name, d.name)
	}
	k.applied[d.name] = &nodeRecord{fingerprint: fp, ready: true, since: since, posted: time.Now()}
	return nil
}

func resources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

// markUnknown does what the node lifecycle controller does when a kubelet
// stops posting: Ready becomes Unknown. A deleted Node stays deleted.
func (k *kubelet) markUnknown(ctx context.Context, name string, rec *nodeRecord) {
	nodes := k.cs.CoreV1().Nodes()
	now := metav1.NewTime(k.w.clock.Now().Truncate(time.Second)) // the world's (simulated) time
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cond := corev1.NodeCondition{
			Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}
		i := slices.IndexFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool { return c.Type == corev1.NodeReady })
		if i < 0 {
			n.Status.Conditions = append(n.Status.Conditions, cond)
		} else {
			cond.LastHeartbeatTime = n.Status.Conditions[i].LastHeartbeatTime
			n.Status.Conditions[i] = cond
		}
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{FieldManager: "simworld-node-lifecycle"})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		if ctx.Err() == nil {
			k.w.logf("simworld: %s: mark node %s not ready: %v", k.c.name, name, err)
		}
		return
	}
	k.w.logf("simworld: %s: node %s NotReady (Unknown)", k.c.name, name)
	rec.ready = false
}

// tendPods does for the pods bound to ready nodes what their kubelets would:
// a pod bound to a node starts running (and is Ready: the containers of the
// local world have nothing to wait for), and a pod being deleted is removed
// once its containers stopped, so that drains complete.
func (k *kubelet) tendPods(ctx context.Context, ready map[string]bool) {
	pods, err := k.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			k.w.logf("simworld: %s: list pods: %v", k.c.name, err)
		}
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil && ready[p.Spec.NodeName] && p.Status.Phase == corev1.PodPending {
			k.startPod(ctx, p)
		}
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil || !ready[p.Spec.NodeName] {
			continue
		}
		uid := p.UID
		err := k.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64),
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
			k.w.logf("simworld: %s: finish deletion of pod %s/%s: %v", k.c.name, p.Namespace, p.Name, err)
		}
	}
}

// startPod reports a pending pod as running and ready.
func (k *kubelet) startPod(ctx context.Context, p *corev1.Pod) {
	now := metav1.NewTime(k.w.clock.Now().Truncate(time.Second))
	p.Status.Phase = corev1.PodRunning
	p.Status.StartTime = &now
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: new(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	if _, err := k.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{FieldManager: kubeletFieldManager}); err != nil &&
		!apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		k.w.logf("simworld: %s: start pod %s/%s: %v", k.c.name, p.Namespace, p.Name, err)
	}
}
