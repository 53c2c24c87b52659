package simworld

import (
	"context"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Defaults of the pods' simulated timings (TalosWorldOptions).
const (
	defaultPodStartDelay = 2 * time.Second
	defaultJobRunTime    = 5 * time.Second
	defaultPodStopDelay  = time.Second
)

// podTimings are the simulated durations of a pod's life on a node.
type podTimings struct {
	start, jobRun, stop time.Duration
}

func (o TalosWorldOptions) podTimings() podTimings {
	t := podTimings{start: o.PodStartDelay, jobRun: o.JobRunTime, stop: o.PodStopDelay}
	if t.start <= 0 {
		t.start = defaultPodStartDelay
	}
	if t.jobRun <= 0 {
		t.jobRun = defaultJobRunTime
	}
	if t.stop <= 0 {
		t.stop = defaultPodStopDelay
	}
	return t
}

// podRecord is what a kubelet remembers of a pod bound to its node, in the
// world's time.
type podRecord struct {
	creating time.Time // when its containers began starting (zero while the pod waits)
	reported bool      // its Pending (ContainerCreating) status was posted
	deleting time.Time // when the kubelet first saw its deletion
}

// podRound is what one kubelet round knows while it tends a node's pods.
type podRound struct {
	nk       *nodeKubelet
	node     *corev1.Node // nil when the Node was deleted
	vols     *volumeIndex
	netReady bool
	ips      *podIPs
	now      time.Time // world time
	t        podTimings
}

// tendPods does for the pods bound to a node what its kubelet would: start
// them (host-network pods at once, the others once the node has a network
// and their volumes are attached), finish Job pods, and remove deleted pods
// once their grace period passed. It returns the CSI volumes the node's
// pods use, for the node's status.volumesInUse.
func (k *kubelet) tendPods(ctx context.Context, nk *nodeKubelet, node *corev1.Node, pods []*corev1.Pod, vols *volumeIndex, netReady bool) []corev1.UniqueVolumeName {
	r := &podRound{nk: nk, node: node, vols: vols, netReady: netReady, ips: newPodIPs(node, pods),
		now: k.w.clock.Now(), t: k.w.opts.podTimings()}
	seen := map[types.UID]bool{}
	inUse := map[corev1.UniqueVolumeName]bool{}
	for _, p := range pods {
		seen[p.UID] = true
		rec := nk.pods[p.UID]
		if rec == nil {
			rec = &podRecord{}
			nk.pods[p.UID] = rec
		}
		terminal := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		if !terminal {
			// Mounted (or about to be) until the pod is gone or finished.
			csi, _ := vols.podVolumes(p)
			for _, v := range csi {
				inUse[v.unique] = true
			}
		}
		switch {
		case p.DeletionTimestamp != nil:
			k.finishDeletion(ctx, r, p, rec)
		case terminal:
		case p.Status.Phase == corev1.PodRunning:
			k.tendRunning(ctx, r, p)
		default:
			k.advancePending(ctx, r, p, rec)
		}
	}
	for uid := range nk.pods {
		if !seen[uid] {
			delete(nk.pods, uid)
		}
	}
	return slices.Sorted(func(yield func(corev1.UniqueVolumeName) bool) {
		for v := range inUse {
			if !yield(v) {
				return
			}
		}
	})
}

// blocker says why a pending pod cannot start yet, "" when it can.
func (r *podRound) blocker(p *corev1.Pod) string {
	if !p.Spec.HostNetwork {
		if !r.netReady {
			return "the node's network is not ready"
		}
		if !r.ips.ok {
			return "the node has no pod CIDR"
		}
	}
	csi, bound := r.vols.podVolumes(p)
	if !bound {
		return "a claim is not bound"
	}
	for _, v := range csi {
		if !r.vols.attachedTo(v.pv, r.nk.view.name) {
			return "volume " + v.pv + " is not attached"
		}
	}
	return ""
}

// advancePending moves a pending pod on: ContainerCreating at first sight,
// Running and Ready once it could start and the start delay passed.
func (k *kubelet) advancePending(ctx context.Context, r *podRound, p *corev1.Pod, rec *podRecord) {
	if r.blocker(p) == "" && rec.creating.IsZero() {
		rec.creating = r.now
	}
	if rec.creating.IsZero() || r.now.Sub(rec.creating) < r.t.start {
		if !rec.reported && k.updatePodStatus(ctx, p, pendingStatus(p, r.hostIP(), k.worldNow())) {
			rec.reported = true
		}
		return
	}
	ip := r.hostIP()
	if !p.Spec.HostNetwork {
		a, ok := r.ips.next()
		if !ok {
			k.w.logf("simworld: %s: node %s: no free address in pod CIDR %s for pod %s/%s", k.c.name, r.nk.view.name, r.ips.cidr, p.Namespace, p.Name)
			return
		}
		ip = a.String()
	}
	now := k.worldNow()
	k.updatePodStatus(ctx, p, runningStatus(p, r.hostIP(), ip, now, now))
}

// tendRunning finishes a Job's pod once it ran long enough, and reports a
// running pod Ready again once its node is: the node lifecycle controller
// marks the pods of a NotReady node not Ready, and a kubelet puts back the
// status it knows. (While the node stays NotReady a real kubelet does so
// every ten seconds and loses again; this one waits for the node.)
func (k *kubelet) tendRunning(ctx context.Context, r *podRound, p *corev1.Pod) {
	if isJobPod(p) && k.completeJobPod(ctx, r, p) {
		return
	}
	if r.netReady && containersReady(p) && !podReady(p) {
		k.updatePodStatus(ctx, p, runningStatus(p, r.hostIP(), p.Status.PodIP, startedAt(p), k.worldNow()))
	}
}

// completeJobPod ends a Job's running pod successfully once it ran for the
// job run time.
func (k *kubelet) completeJobPod(ctx context.Context, r *podRound, p *corev1.Pod) bool {
	started := startedAt(p)
	if started.IsZero() || r.now.Sub(started.Time) < r.t.jobRun {
		return false
	}
	k.updatePodStatus(ctx, p, succeededStatus(p, k.worldNow()))
	return true
}

// finishDeletion removes a deleted pod once its containers stopped: after
// its grace period, at most the stop delay, counted from when this kubelet
// first saw the deletion.
func (k *kubelet) finishDeletion(ctx context.Context, r *podRound, p *corev1.Pod, rec *podRecord) {
	if rec.deleting.IsZero() {
		rec.deleting = r.now
	}
	grace := r.t.stop
	if g := p.DeletionGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < grace {
		grace = time.Duration(*g) * time.Second
	}
	if r.now.Sub(rec.deleting) < grace {
		return
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

// hostIP is the node's internal address, which host-network pods share.
func (r *podRound) hostIP() string {
	if len(r.nk.view.privateV4) > 0 {
		return r.nk.view.privateV4[0]
	}
	if r.node != nil {
		for _, a := range r.node.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				return a.Address
			}
		}
	}
	return r.nk.view.publicV4
}

// updatePodStatus writes p's status; a conflict or a pod gone meanwhile is
// left to the next round. It reports whether the status was written.
func (k *kubelet) updatePodStatus(ctx context.Context, p *corev1.Pod, st corev1.PodStatus) bool {
	p = p.DeepCopy()
	p.Status = st
	_, err := k.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{FieldManager: kubeletFieldManager})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		k.w.logf("simworld: %s: pod %s/%s status: %v", k.c.name, p.Namespace, p.Name, fmt.Errorf("update: %w", err))
	}
	return err == nil
}

// isJobPod reports whether a Job controls p: its containers run to
// completion instead of serving.
func isJobPod(p *corev1.Pod) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.Kind == "Job" && ref.APIVersion == batchv1.SchemeGroupVersion.String()
}

// startedAt is when p's containers started, zero when they did not.
func startedAt(p *corev1.Pod) metav1.Time {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running != nil {
			return c.State.Running.StartedAt
		}
	}
	return metav1.Time{}
}

// pendingStatus is a pod whose containers are being created.
func pendingStatus(p *corev1.Pod, hostIP string, now metav1.Time) corev1.PodStatus {
	st := *p.Status.DeepCopy()
	st.Phase = corev1.PodPending
	setHost(&st, hostIP, now)
	unready := "containers with unready status: " + fmt.Sprint(containerNames(p.Spec.Containers))
	setPodCondition(&st, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", now)
	setPodCondition(&st, corev1.PodInitialized, conditionStatus(len(p.Spec.InitContainers) == 0), "", now)
	setPodCondition(&st, corev1.ContainersReady, corev1.ConditionFalse, "ContainersNotReady", now)
	setPodCondition(&st, corev1.PodReady, corev1.ConditionFalse, "ContainersNotReady", now)
	for i := range st.Conditions {
		if st.Conditions[i].Reason == "ContainersNotReady" {
			st.Conditions[i].Message = unready
		}
	}
	st.InitContainerStatuses = containerStatuses(p.Spec.InitContainers, func(corev1.Container) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
	})
	st.ContainerStatuses = containerStatuses(p.Spec.Containers, func(corev1.Container) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	})
	return st
}

// runningStatus is a pod whose containers run (since started) and are
// ready, at podIP.
func runningStatus(p *corev1.Pod, hostIP, podIP string, started, now metav1.Time) corev1.PodStatus {
	st := *p.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	setHost(&st, hostIP, now)
	st.PodIP, st.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	for _, c := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(&st, c, corev1.ConditionTrue, "", now)
	}
	st.InitContainerStatuses = containerStatuses(p.Spec.InitContainers, func(corev1.Container) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: started, FinishedAt: started}}
	})
	st.ContainerStatuses = containerStatuses(p.Spec.Containers, func(corev1.Container) corev1.ContainerState {
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
	})
	for i := range st.ContainerStatuses {
		st.ContainerStatuses[i].Ready, st.ContainerStatuses[i].Started = true, new(true)
	}
	return st
}

// succeededStatus is a pod whose containers all exited 0.
func succeededStatus(p *corev1.Pod, now metav1.Time) corev1.PodStatus {
	st := *p.Status.DeepCopy()
	st.Phase = corev1.PodSucceeded
	setPodCondition(&st, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", now)
	setPodCondition(&st, corev1.ContainersReady, corev1.ConditionFalse, "PodCompleted", now)
	setPodCondition(&st, corev1.PodReady, corev1.ConditionFalse, "PodCompleted", now)
	started := startedAt(p)
	st.ContainerStatuses = containerStatuses(p.Spec.Containers, func(corev1.Container) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: now}}
	})
	return st
}

func setHost(st *corev1.PodStatus, hostIP string, now metav1.Time) {
	st.HostIP, st.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
}

// setPodCondition sets a condition, keeping its transition time while its
// status stays.
func setPodCondition(st *corev1.PodStatus, t corev1.PodConditionType, s corev1.ConditionStatus, reason string, now metav1.Time) {
	c := corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now}
	i := slices.IndexFunc(st.Conditions, func(o corev1.PodCondition) bool { return o.Type == t })
	if i < 0 {
		st.Conditions = append(st.Conditions, c)
		return
	}
	if st.Conditions[i].Status == s {
		c.LastTransitionTime = st.Conditions[i].LastTransitionTime
	}
	st.Conditions[i] = c
}

func containerStatuses(cs []corev1.Container, state func(corev1.Container) corev1.ContainerState) []corev1.ContainerStatus {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		out = append(out, corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: state(c), Started: new(false)})
	}
	return out
}

func containerNames(cs []corev1.Container) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}
