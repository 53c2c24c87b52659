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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
)

// kubeletFieldManager owns what the fake kubelets write.
const kubeletFieldManager = "simworld-kubelet"

// heartbeat is how often (real time) a node's status is re-posted when
// nothing changed.
const heartbeat = 10 * time.Second

// Well-known node metadata the kubelet and the cloud provider deal with.
const (
	// taintUninitialized is what a kubelet with --cloud-provider=external
	// registers its node with; the cloud controller manager removes it
	// once it initialised the node (providerID, addresses, zone labels).
	taintUninitialized = "node.cloudprovider.kubernetes.io/uninitialized"
	// annotationAttachDetach tells the attach-detach controller that it,
	// not the kubelet, attaches the node's volumes.
	annotationAttachDetach = "volumes.kubernetes.io/controller-managed-attach-detach"
	labelControlPlane      = "node-role.kubernetes.io/control-plane"
)

// kubelet runs the fake kubelets of one cluster: one per configured,
// running node. Each keeps its Node object up to date the way a kubelet with
// an external cloud provider does, and runs the pods bound to its node.
type kubelet struct {
	w     *TalosWorld
	c     *worldCluster
	cs    kubernetes.Interface
	nodes map[string]*nodeKubelet // the running kubelets, by node name
	// owned is, by node name, what the machine configuration last put on
	// the Node, so that a key the configuration drops is removed again
	// (as Talos does) while everybody else's keys stay.
	owned map[string]ownedMeta
}

// nodeKubelet is one kubelet process: it lives from the node's boot (with
// a configuration) until the node stops or reboots.
type nodeKubelet struct {
	view       nodeView
	cfg        config.Provider
	boot       string
	registered bool   // the Node was created or found at start
	merged     string // fingerprint of the configuration last merged
	status     postedStatus
	pods       map[types.UID]*podRecord
}

// postedStatus is what the kubelet last posted as the node's status.
type postedStatus struct {
	ok      bool // something was posted by this kubelet
	ready   bool
	volumes string    // the volumesInUse posted, joined
	at      time.Time // real time of the post
}

// ownedMeta are the labels and taints a node's configuration put on it.
type ownedMeta struct {
	labels []string
	taints []corev1.Taint
}

// runKubelet runs the cluster's kubelets until the world closes.
func (w *TalosWorld) runKubelet(c *worldCluster, api *kubesim.APIServer) {
	cs, ok := w.clusterClient(c, api, "simworld-kubelet")
	if !ok {
		return
	}
	k := &kubelet{w: w, c: c, cs: cs, nodes: map[string]*nodeKubelet{}, owned: map[string]ownedMeta{}}
	t := time.NewTicker(w.opts.KubeletInterval)
	defer t.Stop()
	for {
		k.sync(w.ctx)
		c.kubeletSyncs.Add(1)
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

// sync runs every kubelet of the cluster once.
func (k *kubelet) sync(ctx context.Context) {
	running := k.follow(ctx)
	if len(running) == 0 {
		return
	}
	nodes, pods, err := k.list(ctx)
	if err != nil {
		if ctx.Err() == nil {
			k.w.logf("simworld: %s: kubelet: %v", k.c.name, err)
		}
		return
	}
	vols, err := k.volumeIndex(ctx, pods, running)
	if err != nil {
		if ctx.Err() == nil {
			k.w.logf("simworld: %s: kubelet: %v", k.c.name, err)
		}
		return
	}
	for _, nk := range running {
		if err := k.syncNode(ctx, nk, nodes[nk.view.name], pods[nk.view.name], vols); err != nil && ctx.Err() == nil {
			k.w.logf("simworld: %s: kubelet %s: %v", k.c.name, nk.view.name, err)
		}
	}
}

// follow starts a kubelet on every node that runs with a configuration
// (again after a reboot) and stops the kubelets of nodes that stopped. It
// returns the running kubelets in node order.
func (k *kubelet) follow(ctx context.Context) []*nodeKubelet {
	var running []*nodeKubelet
	seen := map[string]bool{}
	for _, v := range k.w.viewsOf(k.c) {
		seen[v.name] = true
		var cfg config.Provider
		if v.running && v.node.State() == talossim.StateRunning {
			cfg = v.node.Config()
		}
		nk := k.nodes[v.name]
		if nk != nil && (cfg == nil || nk.view.node != v.node || nk.boot != v.node.BootID()) {
			k.stop(ctx, nk)
			nk = nil
		}
		if cfg == nil {
			continue
		}
		if nk == nil {
			nk = &nodeKubelet{boot: v.node.BootID(), pods: map[types.UID]*podRecord{}}
			k.nodes[v.name] = nk
		}
		nk.view, nk.cfg = v, cfg
		running = append(running, nk)
	}
	for name, nk := range k.nodes {
		if !seen[name] {
			k.stop(ctx, nk)
		}
	}
	return running
}

// stop ends a node's kubelet: the node stops posting, which the node
// lifecycle controller reports as Ready=Unknown.
func (k *kubelet) stop(ctx context.Context, nk *nodeKubelet) {
	if nk.status.ok {
		k.markUnknown(ctx, nk.view.name)
	}
	delete(k.nodes, nk.view.name)
}

// list reads the cluster's nodes by name and its pods by node name.
func (k *kubelet) list(ctx context.Context) (map[string]*corev1.Node, map[string][]*corev1.Pod, error) {
	nl, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make(map[string]*corev1.Node, len(nl.Items))
	for i := range nl.Items {
		nodes[nl.Items[i].Name] = &nl.Items[i]
	}
	pl, err := k.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list pods: %w", err)
	}
	pods := map[string][]*corev1.Pod{}
	for i := range pl.Items {
		p := &pl.Items[i]
		if p.Spec.NodeName != "" {
			pods[p.Spec.NodeName] = append(pods[p.Spec.NodeName], p)
		}
	}
	return nodes, pods, nil
}

// syncNode is one round of a node's kubelet: register (once), follow the
// configuration's labels and taints, run the node's pods and static pods,
// and post the node's status.
func (k *kubelet) syncNode(ctx context.Context, nk *nodeKubelet, node *corev1.Node, pods []*corev1.Pod, vols *volumeIndex) error {
	d := desired(nk.view, nk.cfg)
	if !nk.registered {
		n, err := k.register(ctx, d)
		if err != nil {
			return err
		}
		nk.registered, nk.merged, node = true, d.fingerprint(), n
	} else if node != nil && nk.merged != d.fingerprint() {
		n, err := k.mergeConfig(ctx, d)
		if err != nil {
			return err
		}
		nk.merged, node = d.fingerprint(), n
	}
	netReady := networkReady(pods)
	inUse := k.tendPods(ctx, nk, node, pods, vols, netReady)
	if node == nil {
		// Deleted while the kubelet runs: like a real kubelet, it registers
		// again only when it restarts.
		return nil
	}
	if nk.cfg.Machine().Type().IsControlPlane() {
		k.ensureMirrorPods(ctx, nk, node, pods)
	}
	return k.postStatus(ctx, nk, node, netReady, inUse)
}

// desiredNode is what a node's machine configuration asks of its Node.
type desiredNode struct {
	name     string
	labels   map[string]string
	taints   []corev1.Taint
	internal []string // the private IPs
	version  string
	arch     string
}

func (d desiredNode) fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|", d.name, d.version, d.arch)
	for _, k := range slices.Sorted(maps.Keys(d.labels)) {
		fmt.Fprintf(&b, "l:%s=%s|", k, d.labels[k])
	}
	for _, t := range d.taints {
		fmt.Fprintf(&b, "t:%s=%s:%s|", t.Key, t.Value, t.Effect)
	}
	return b.String()
}

// desired derives a node's registration from its machine configuration
// and the server's addresses.
func desired(v nodeView, cfg config.Provider) desiredNode {
	d := desiredNode{
		name:     v.name,
		labels:   map[string]string{},
		arch:     "amd64",
		version:  kubeletVersion(cfg),
		internal: v.privateV4,
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
		d.labels[labelControlPlane] = ""
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Machine().NodeTaints())) {
		d.taints = append(d.taints, parseTaint(key, cfg.Machine().NodeTaints()[key]))
	}
	if controlPlane && !cfg.Cluster().ScheduleOnControlPlanes() {
		cp := corev1.Taint{Key: labelControlPlane, Effect: corev1.TaintEffectNoSchedule}
		if !slices.ContainsFunc(d.taints, sameTaint(cp)) {
			d.taints = append(d.taints, cp)
		}
	}
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

// sameTaint matches taints by key and effect, their identity on a Node.
func sameTaint(t corev1.Taint) func(corev1.Taint) bool {
	return func(o corev1.Taint) bool { return o.Key == t.Key && o.Effect == t.Effect }
}

// kubeletVersion is the tag of the configured kubelet image.
func kubeletVersion(cfg config.Provider) string {
	img := cfg.Machine().Kubelet().Image()
	if i := strings.LastIndex(img, ":"); i >= 0 && !strings.Contains(img[i:], "/") {
		return img[i+1:]
	}
	return "v0.0.0"
}

// register creates the Node as a starting kubelet with an external cloud
// provider does: the configuration's labels and taints plus the
// uninitialized taint, no providerID (the cloud controller manager sets it).
// A Node that already exists (a restarted kubelet) keeps its taints and
// spec; only the configuration's labels and taints are merged into it.
func (k *kubelet) register(ctx context.Context, d desiredNode) (*corev1.Node, error) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: d.name, Labels: map[string]string{}},
	}
	meta := k.owned[d.name]
	mergeNode(n, d, meta)
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: taintUninitialized, Value: "true", Effect: corev1.TaintEffectNoSchedule})
	created, err := k.cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{FieldManager: kubeletFieldManager})
	if apierrors.IsAlreadyExists(err) {
		return k.mergeConfig(ctx, d)
	}
	if err != nil {
		return nil, fmt.Errorf("register node: %w", err)
	}
	k.owned[d.name] = ownedOf(d)
	k.w.logf("simworld: %s: node %s registered", k.c.name, d.name)
	return created, nil
}

// mergeConfig brings the configuration's labels and taints onto the Node
// without touching anybody else's: taints are one atomic list, so it reads,
// merges and writes back (again on a conflict) instead of applying them.
func (k *kubelet) mergeConfig(ctx context.Context, d desiredNode) (*corev1.Node, error) {
	nodes := k.cs.CoreV1().Nodes()
	var out *corev1.Node
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, d.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !mergeNode(n, d, k.owned[d.name]) {
			out = n
			return nil
		}
		out, err = nodes.Update(ctx, n, metav1.UpdateOptions{FieldManager: kubeletFieldManager})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("merge node configuration: %w", err)
	}
	k.owned[d.name] = ownedOf(d)
	return out, nil
}

func ownedOf(d desiredNode) ownedMeta {
	return ownedMeta{labels: slices.Sorted(maps.Keys(d.labels)), taints: slices.Clone(d.taints)}
}

// mergeNode puts d's labels, taints and the attach-detach annotation on n,
// removes what the configuration set before (prev) and no longer asks for,
// and keeps everything else. It reports whether n changed.
func mergeNode(n *corev1.Node, d desiredNode, prev ownedMeta) bool {
	changed := false
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	for _, key := range prev.labels {
		if _, ok := d.labels[key]; !ok {
			if _, had := n.Labels[key]; had {
				delete(n.Labels, key)
				changed = true
			}
		}
	}
	for key, val := range d.labels {
		if old, ok := n.Labels[key]; !ok || old != val {
			n.Labels[key] = val
			changed = true
		}
	}
	if n.Annotations[annotationAttachDetach] != "true" {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[annotationAttachDetach] = "true"
		changed = true
	}
	for _, t := range prev.taints {
		if !slices.ContainsFunc(d.taints, sameTaint(t)) {
			if i := slices.IndexFunc(n.Spec.Taints, sameTaint(t)); i >= 0 {
				n.Spec.Taints = slices.Delete(n.Spec.Taints, i, i+1)
				changed = true
			}
		}
	}
	for _, t := range d.taints {
		i := slices.IndexFunc(n.Spec.Taints, sameTaint(t))
		switch {
		case i < 0:
			n.Spec.Taints = append(n.Spec.Taints, t)
			changed = true
		case n.Spec.Taints[i].Value != t.Value:
			n.Spec.Taints[i].Value = t.Value
			changed = true
		}
	}
	return changed
}

// markUnknown does what the node lifecycle controller does when a kubelet
// stops posting: Ready becomes Unknown. A deleted Node stays deleted.
func (k *kubelet) markUnknown(ctx context.Context, name string) {
	nodes := k.cs.CoreV1().Nodes()
	now := k.worldNow()
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
}

// worldNow is the world's (simulated) time as the API stores it.
func (k *kubelet) worldNow() metav1.Time {
	return metav1.NewTime(k.w.clock.Now().Truncate(time.Second))
}
