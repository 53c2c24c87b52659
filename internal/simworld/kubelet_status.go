package simworld

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
)

// What a kubelet reports while the container runtime has no CNI: the
// reason and message of a real kubelet with containerd, so that what looks
// for them (kubectl, waits, people) sees the real thing.
const (
	notReadyReason  = "KubeletNotReady"
	notReadyMessage = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
)

// postStatus posts the node's status when it changed, the node lacks it
// (someone else wrote Ready, or no addresses yet), or the heartbeat is due.
// Like the real kubelet it reads the Node and writes back only its own
// fields, so providerID, addresses and volumesAttached set by the cloud
// and attach-detach controllers stay.
func (k *kubelet) postStatus(ctx context.Context, nk *nodeKubelet, node *corev1.Node, ready bool, inUse []corev1.UniqueVolumeName) error {
	vols := joinVolumes(inUse)
	due := !nk.status.ok || nk.status.ready != ready || nk.status.volumes != vols ||
		time.Since(nk.status.at) >= heartbeat || len(node.Status.Addresses) == 0 ||
		readyStatus(node) != conditionStatus(ready)
	if !due {
		return nil
	}
	d := desired(nk.view, nk.cfg)
	nodes := k.cs.CoreV1().Nodes()
	now := k.worldNow()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		setNodeStatus(&n.Status, d, ready, inUse, now)
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{FieldManager: kubeletFieldManager})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil // deleted meanwhile: stays deleted
	}
	if err != nil {
		return fmt.Errorf("post node status: %w", err)
	}
	if !nk.status.ok || nk.status.ready != ready {
		state := "NotReady (no CNI)"
		if ready {
			state = "Ready"
		}
		k.w.logf("simworld: %s: node %s %s", k.c.name, node.Name, state)
	}
	nk.status = postedStatus{ok: true, ready: ready, volumes: vols, at: time.Now()}
	return nil
}

// setNodeStatus writes the kubelet's part of a node's status: conditions,
// resources, system info, volumes in use, and addresses only while there are
// none (the cloud controller manager owns them once it set them, and a
// kubelet with an external cloud provider then leaves them alone).
func setNodeStatus(st *corev1.NodeStatus, d desiredNode, ready bool, inUse []corev1.UniqueVolumeName, now metav1.Time) {
	readyCond := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: notReadyReason, Message: notReadyMessage}
	if ready {
		readyCond = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	}
	for _, c := range []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		readyCond,
	} {
		setCondition(st, c, now)
	}
	if len(st.Addresses) == 0 {
		for _, ip := range d.internal {
			st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
		}
		st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: d.name})
	}
	st.Capacity, st.Allocatable = resources(), resources()
	st.NodeInfo = corev1.NodeSystemInfo{
		KubeletVersion: d.version, OperatingSystem: "linux", Architecture: d.arch,
		OSImage:                 "Talos (" + talossim.DefaultVersion + ")",
		ContainerRuntimeVersion: "containerd://2.1.5",
		KernelVersion:           "6.12.0-talos",
		MachineID:               st.NodeInfo.MachineID, SystemUUID: st.NodeInfo.SystemUUID, BootID: st.NodeInfo.BootID,
	}
	st.VolumesInUse = inUse
}

// setCondition sets c with a fresh heartbeat, keeping the transition time
// while the status stays the same.
func setCondition(st *corev1.NodeStatus, c corev1.NodeCondition, now metav1.Time) {
	c.LastHeartbeatTime, c.LastTransitionTime = now, now
	i := slices.IndexFunc(st.Conditions, func(o corev1.NodeCondition) bool { return o.Type == c.Type })
	if i < 0 {
		st.Conditions = append(st.Conditions, c)
		return
	}
	if st.Conditions[i].Status == c.Status {
		c.LastTransitionTime = st.Conditions[i].LastTransitionTime
	}
	st.Conditions[i] = c
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func conditionStatus(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func joinVolumes(v []corev1.UniqueVolumeName) string {
	s := make([]string, len(v))
	for i := range v {
		s[i] = string(v[i])
	}
	return strings.Join(s, ",")
}

func resources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}
