package lifecycle

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubectl/pkg/drain"
)

// DefaultDrainTimeout bounds the drain of one node (--drain-timeout).
const DefaultDrainTimeout = 10 * time.Minute

// drainRemovedWorkers cordons and drains, one at a time, every worker the plan
// removes from a bootstrapped cluster (infra.Plan.NodesToDrain), before the
// infrastructure step deletes its server. Drain is kubectl's: evictions that
// respect PodDisruptionBudgets, DaemonSet and mirror pods left. Pods with
// emptyDir volumes are evicted too (kubectl's --delete-emptydir-data, as the
// cluster autoscaler and Cluster API drain): the server and its disk are
// deleted next, so refusing would save nothing, and the addons' own pods
// (metrics-server's scratch directory) would block every scale-down. A node that cannot be drained in time is uncordoned
// again and apply stops with what blocks it, having deleted nothing.
func drainRemovedWorkers(ctx context.Context, s *applyState) error {
	nodes := s.res.Plan.NodesToDrain()
	if len(nodes) == 0 {
		return nil
	}
	cs, err := s.kubeClient()
	if err != nil {
		return &fixFirst{fmt.Errorf("remove workers %s: draining needs the cluster's API: %w", strings.Join(nodes, ", "), err)}
	}
	for _, name := range nodes {
		if err := drainNode(ctx, cs, name, s.d, s.w); err != nil {
			return err
		}
	}
	return nil
}

// deleteRemovedNodes deletes the Node objects of the workers and control
// planes whose servers the infrastructure step deleted, and of the etcd
// members removed for want of a machine: nothing else would soon (the cloud
// controller manager would, eventually, but not without one).
func deleteRemovedNodes(ctx context.Context, s *applyState) error {
	nodes := append(s.res.Plan.NodesToDrain(), s.res.Plan.ControlPlanesToRemove()...)
	if e := s.res.Etcd; e != nil {
		for _, m := range e.Dead {
			if !slices.Contains(nodes, m.Name) {
				nodes = append(nodes, m.Name)
			}
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	cs, err := s.kubeClient()
	if err != nil {
		return &fixFirst{fmt.Errorf("delete the Nodes of %s: %w", strings.Join(nodes, ", "), err)}
	}
	for _, name := range nodes {
		err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("delete node %s (its server is gone): %w", name, err)
		}
		fmt.Fprintf(s.w, "  ✓ node %s removed from Kubernetes\n", name)
	}
	return nil
}

// kubeClient is a client of the cluster from the kubeconfig apply wrote.
func (d Deps) kubeClient() (kubernetes.Interface, error) {
	path := filepath.Join(d.StateDir, KubeconfigFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("the cluster's kubeconfig %s is missing: run from the machine (or with the --state-dir) that formed the cluster", path)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return kubernetes.NewForConfig(rc)
}

func drainNode(ctx context.Context, cs kubernetes.Interface, name string, d Deps, w io.Writer) error {
	node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		fmt.Fprintf(w, "  node %s is not in Kubernetes: nothing to drain\n", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("drain %s: %w", name, err)
	}
	timeout := d.DrainTimeout
	if timeout <= 0 {
		timeout = DefaultDrainTimeout
	}
	h := &drain.Helper{
		Ctx: ctx, Client: cs, GracePeriodSeconds: -1, IgnoreAllDaemonSets: true, DeleteEmptyDirData: true, Timeout: timeout,
		Out: io.Discard, ErrOut: io.Discard,
	}
	if d.ForceDrain {
		// The operator accepts the risk: pods are deleted, not evicted (no
		// PodDisruptionBudget holds them), unmanaged pods too.
		h.DisableEviction, h.Force = true, true
	}
	fmt.Fprintf(w, "Draining %s (timeout %s)...\n", name, timeout)
	if err := drain.RunCordonOrUncordon(h, node, true); err != nil {
		return fmt.Errorf("cordon %s: %w", name, err)
	}
	if err := drain.RunNodeDrain(h, name); err != nil {
		report := blockers(context.Background(), cs, name)
		if uerr := drain.RunCordonOrUncordon(h, node, false); uerr != nil {
			report += fmt.Sprintf("; it also could not be uncordoned again (%v)", uerr)
		}
		return &fixFirst{fmt.Errorf("drain of %s did not finish: %w%s; nothing was deleted. Free the node (or lower the budget), or run apply --force-drain to delete its pods regardless", name, err, report)}
	}
	fmt.Fprintf(w, "  ✓ %s drained\n", name)
	return nil
}

// blockers names the pods still on the node and the PodDisruptionBudgets that
// allow none of them to go.
func blockers(ctx context.Context, cs kubernetes.Interface, node string) string {
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return ""
	}
	var left []string
	var blocked []*corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || isDaemonOrMirror(p) {
			continue
		}
		left = append(left, p.Namespace+"/"+p.Name)
		blocked = append(blocked, p)
	}
	if len(left) == 0 {
		return ""
	}
	sort.Strings(left)
	out := "; still on it: " + strings.Join(left, ", ")
	if pdbs := budgetsAllowingNone(ctx, cs, blocked); len(pdbs) > 0 {
		out += "; PodDisruptionBudget " + strings.Join(pdbs, ", ") + " allows no disruption"
	}
	return out
}

func isDaemonOrMirror(p *corev1.Pod) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return true
	}
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

func budgetsAllowingNone(ctx context.Context, cs kubernetes.Interface, pods []*corev1.Pod) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pods {
		list, err := cs.PolicyV1().PodDisruptionBudgets(p.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for i := range list.Items {
			b := &list.Items[i]
			key := b.Namespace + "/" + b.Name
			if seen[key] || !selects(b, p) || b.Status.DisruptionsAllowed > 0 {
				continue
			}
			seen[key] = true
			out = append(out, fmt.Sprintf("%s (healthy %d, needs %d)", key, b.Status.CurrentHealthy, b.Status.DesiredHealthy))
		}
	}
	sort.Strings(out)
	return out
}

func selects(b *policyv1.PodDisruptionBudget, p *corev1.Pod) bool {
	sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
	return err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels))
}
