package simworld

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The configuration's labels and taints are merged into a Node that others
// changed: what they set stays, what the configuration set and dropped goes.
func TestMergeNodeKeepsOthers(t *testing.T) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
			"topology.kubernetes.io/zone": "fsn1-dc14", // the CCM's
			"nodepool":                    "old",
			"dropped":                     "x", // the configuration's, no longer
		}},
		Spec: corev1.NodeSpec{ProviderID: "hcloud://1", Taints: []corev1.Taint{
			{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}, // the node lifecycle controller's
			{Key: "dedicated", Value: "old", Effect: corev1.TaintEffectNoSchedule},
			{Key: "gone", Effect: corev1.TaintEffectNoExecute},
		}},
	}
	d := desiredNode{
		labels: map[string]string{"nodepool": "workers", "kubernetes.io/hostname": "w1"},
		taints: []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}},
	}
	prev := ownedMeta{labels: []string{"dropped", "nodepool"}, taints: []corev1.Taint{
		{Key: "dedicated", Value: "old", Effect: corev1.TaintEffectNoSchedule}, {Key: "gone", Effect: corev1.TaintEffectNoExecute},
	}}
	if !mergeNode(n, d, prev) {
		t.Fatal("mergeNode reported no change")
	}
	wantLabels := map[string]string{"topology.kubernetes.io/zone": "fsn1-dc14", "nodepool": "workers", "kubernetes.io/hostname": "w1"}
	if fmt.Sprint(n.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", n.Labels, wantLabels)
	}
	wantTaints := []corev1.Taint{
		{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule},
	}
	if fmt.Sprint(n.Spec.Taints) != fmt.Sprint(wantTaints) {
		t.Errorf("taints %v, want %v", n.Spec.Taints, wantTaints)
	}
	if n.Spec.ProviderID != "hcloud://1" || n.Annotations[annotationAttachDetach] != "true" {
		t.Errorf("providerID %q, annotations %v", n.Spec.ProviderID, n.Annotations)
	}
	if mergeNode(n, d, ownedOf(d)) {
		t.Error("a second merge changed the node again")
	}
}

// The kubelet posts addresses only while there are none: the CCM's stay.
func TestSetNodeStatusKeepsAddresses(t *testing.T) {
	now := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	d := desiredNode{name: "n1", internal: []string{"10.0.1.2"}, version: "v1.34.4", arch: "amd64"}
	var st corev1.NodeStatus
	setNodeStatus(&st, d, false, nil, now)
	want := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.1.2"}, {Type: corev1.NodeHostName, Address: "n1"}}
	if fmt.Sprint(st.Addresses) != fmt.Sprint(want) {
		t.Fatalf("addresses %v, want %v", st.Addresses, want)
	}
	ccm := []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.1"}, {Type: corev1.NodeInternalIP, Address: "10.0.1.2"}}
	st.Addresses = ccm
	later := metav1.NewTime(now.Add(time.Minute))
	setNodeStatus(&st, d, true, []corev1.UniqueVolumeName{"kubernetes.io/csi/d^1"}, later)
	if fmt.Sprint(st.Addresses) != fmt.Sprint(ccm) {
		t.Errorf("addresses %v, want the CCM's %v", st.Addresses, ccm)
	}
	if len(st.VolumesInUse) != 1 {
		t.Errorf("volumesInUse %v", st.VolumesInUse)
	}
	for _, c := range st.Conditions {
		switch {
		case c.Type == corev1.NodeReady && (c.Status != corev1.ConditionTrue || c.Reason != "KubeletReady" || !c.LastTransitionTime.Equal(&later)):
			t.Errorf("ready condition %+v", c)
		case c.Type != corev1.NodeReady && (c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Equal(&now) || !c.LastHeartbeatTime.Equal(&later)):
			t.Errorf("condition %+v: want False since the first post, heartbeat now", c)
		}
	}
	if len(st.Conditions) != 4 {
		t.Errorf("conditions %v, want Ready and the three pressures", st.Conditions)
	}
}

func TestPodIPs(t *testing.T) {
	node := &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/30"}}
	pods := []*corev1.Pod{
		{Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.2"}},
		{Spec: corev1.PodSpec{HostNetwork: true}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.2"}},
	}
	a := newPodIPs(node, pods)
	if _, ok := a.next(); ok {
		t.Fatal("a /30 with its one pod address taken still handed one out")
	}
	pods[0].Status.Phase = corev1.PodSucceeded // a finished pod's address is free again
	a = newPodIPs(node, pods)
	if ip, ok := a.next(); !ok || ip != netip.MustParseAddr("10.244.1.2") {
		t.Fatalf("next = %v %v, want 10.244.1.2", ip, ok)
	}
	if _, ok := a.next(); ok {
		t.Error("the same address was handed out twice")
	}
	if newPodIPs(&corev1.Node{}, nil).ok {
		t.Error("a node without a pod CIDR has pod addresses")
	}
}

func TestIsCNIAgent(t *testing.T) {
	owned := func(kind, apiVersion string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels, OwnerReferences: []metav1.OwnerReference{
			{Kind: kind, APIVersion: apiVersion, Name: "cilium", Controller: new(true)},
		}}}
	}
	cilium := map[string]string{"k8s-app": "cilium"}
	for _, c := range []struct {
		pod  *corev1.Pod
		want bool
	}{
		{owned("DaemonSet", "apps/v1", cilium), true},
		{owned("ReplicaSet", "apps/v1", cilium), false},
		{owned("DaemonSet", "apps/v1", map[string]string{"k8s-app": "cilium-envoy"}), false},
		{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: cilium}}, false},
	} {
		if got := isCNIAgent(c.pod); got != c.want {
			t.Errorf("isCNIAgent(%v %v) = %v", c.pod.OwnerReferences, c.pod.Labels, got)
		}
	}
	// What MinimalCNI installs is what the kubelets recognise.
	objs := MinimalCNI()
	if len(objs) != 1 || objs[0].GetKind() != "DaemonSet" || objs[0].GetNamespace() != "kube-system" {
		t.Fatalf("MinimalCNI = %v", objs)
	}
	var ds appsv1.DaemonSet
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, &ds); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: ds.Spec.Template.Labels, OwnerReferences: []metav1.OwnerReference{
		{Kind: "DaemonSet", APIVersion: "apps/v1", Name: ds.Name, Controller: new(true)},
	}}, Spec: ds.Spec.Template.Spec}
	if !isCNIAgent(pod) || !pod.Spec.HostNetwork || len(pod.Spec.Tolerations) != 1 || pod.Spec.Tolerations[0].Operator != corev1.TolerationOpExists || pod.Spec.Tolerations[0].Key != "" {
		t.Errorf("the minimal CNI's pods %+v are not a host-network CNI agent tolerating everything", pod)
	}
}
