package simworld

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// cniAgentLabel is the label the Cilium chart puts on its agent DaemonSet
// and on the agent's pods (templates/cilium-agent/daemonset.yaml).
const cniAgentLabel, cniAgentName = "k8s-app", "cilium"

// isCNIAgent reports whether p is the CNI agent of its node: a pod of a
// DaemonSet labelled k8s-app=cilium, as the Cilium chart deploys its agent.
// A node's container runtime has a network once that pod runs and is ready
// there (the agent writes the CNI configuration when it is up), and only
// then does its kubelet report the node Ready. This is the one place that
// knows what the cluster's CNI looks like.
func isCNIAgent(p *corev1.Pod) bool {
	if p.Labels[cniAgentLabel] != cniAgentName {
		return false
	}
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.Kind == "DaemonSet" && ref.APIVersion == appsv1.SchemeGroupVersion.String()
}

// networkReady reports whether a CNI agent runs and is ready among the pods
// of a node. Ready is what the kubelet itself reported of the agent's
// containers: the node lifecycle controller marks every pod of a NotReady
// node not Ready (the pod's Ready condition), the agent's too, while the
// container runtime's network depends only on the agent running.
func networkReady(pods []*corev1.Pod) bool {
	for _, p := range pods {
		if isCNIAgent(p) && p.DeletionTimestamp == nil && containersReady(p) {
			return true
		}
	}
	return false
}

// containersReady reports whether p runs with every container ready, as
// its kubelet reported.
func containersReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range p.Status.ContainerStatuses {
		if !c.Ready {
			return false
		}
	}
	return true
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// MinimalCNI returns a stand-in for the cluster's CNI, for tests that do
// not install the real one: a DaemonSet in kube-system labelled like the
// Cilium agent, on the host network (so it starts on nodes without a
// network, as the agent does) and tolerating every taint. The simulated
// kubelets report a node Ready once its pod runs there.
func MinimalCNI() []*unstructured.Unstructured {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(minimalCNIDaemonSet())
	if err != nil {
		panic(fmt.Sprintf("simworld: minimal CNI: %v", err)) // a fixed, valid object
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion(appsv1.SchemeGroupVersion.String())
	u.SetKind("DaemonSet")
	return []*unstructured.Unstructured{u}
}

// InstallMinimalCNI creates MinimalCNI's DaemonSet through cs; one that
// already exists is left as it is.
func InstallMinimalCNI(ctx context.Context, cs kubernetes.Interface) error {
	_, err := cs.AppsV1().DaemonSets(metav1.NamespaceSystem).Create(ctx, minimalCNIDaemonSet(), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("simworld: install the minimal CNI: %w", err)
	}
	return nil
}

func minimalCNIDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{cniAgentLabel: cniAgentName}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "cilium", Namespace: metav1.NamespaceSystem, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork: true,
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  []corev1.Container{{Name: "cilium-agent", Image: "simworld.invalid/cni-stand-in:1"}},
				},
			},
		},
	}
}
