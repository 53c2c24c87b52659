package simworld

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// volumeIndex is what the kubelets know of the cluster's claims, volumes
// and attachments in one round. It is empty when no pod of a running node
// uses a claim, so that a cluster without volumes costs no extra requests.
type volumeIndex struct {
	claims   map[string]*corev1.PersistentVolumeClaim // by namespace/name
	volumes  map[string]*corev1.PersistentVolume      // by name
	attached map[[2]string]bool                       // {volume, node}: status.attached of a VolumeAttachment
}

// csiVolume is a pod's volume provided by a CSI driver.
type csiVolume struct {
	pv     string
	unique corev1.UniqueVolumeName // what the kubelet reports in volumesInUse
}

// volumeIndex lists claims, volumes and attachments when a pod of a
// running node needs them.
func (k *kubelet) volumeIndex(ctx context.Context, pods map[string][]*corev1.Pod, running []*nodeKubelet) (*volumeIndex, error) {
	ix := &volumeIndex{}
	needed := false
	for _, nk := range running {
		for _, p := range pods[nk.view.name] {
			for _, v := range p.Spec.Volumes {
				needed = needed || claimName(p, v) != ""
			}
		}
	}
	if !needed {
		return ix, nil
	}
	claims, err := k.cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list claims: %w", err)
	}
	pvs, err := k.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	vas, err := k.cs.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list volume attachments: %w", err)
	}
	ix.claims = make(map[string]*corev1.PersistentVolumeClaim, len(claims.Items))
	for i := range claims.Items {
		c := &claims.Items[i]
		ix.claims[c.Namespace+"/"+c.Name] = c
	}
	ix.volumes = make(map[string]*corev1.PersistentVolume, len(pvs.Items))
	for i := range pvs.Items {
		ix.volumes[pvs.Items[i].Name] = &pvs.Items[i]
	}
	ix.attached = map[[2]string]bool{}
	for _, va := range vas.Items {
		if pv := va.Spec.Source.PersistentVolumeName; pv != nil && va.Status.Attached {
			ix.attached[[2]string{*pv, va.Spec.NodeName}] = true
		}
	}
	return ix, nil
}

// claimName is the claim behind a pod's volume: its persistentVolumeClaim,
// or the claim the ephemeral volume controller creates for a generic
// ephemeral volume; "" for other volumes.
func claimName(p *corev1.Pod, v corev1.Volume) string {
	switch {
	case v.PersistentVolumeClaim != nil:
		return v.PersistentVolumeClaim.ClaimName
	case v.Ephemeral != nil:
		return p.Name + "-" + v.Name
	}
	return ""
}

// podVolumes returns p's CSI volumes and whether every claim of p is bound
// to a known volume (until then the pod cannot start).
func (ix *volumeIndex) podVolumes(p *corev1.Pod) (csi []csiVolume, bound bool) {
	bound = true
	for _, v := range p.Spec.Volumes {
		name := claimName(p, v)
		if name == "" {
			continue
		}
		c := ix.claims[p.Namespace+"/"+name]
		if c == nil || c.Spec.VolumeName == "" {
			bound = false
			continue
		}
		pv := ix.volumes[c.Spec.VolumeName]
		if pv == nil {
			bound = false
			continue
		}
		if s := pv.Spec.CSI; s != nil {
			csi = append(csi, csiVolume{pv: pv.Name, unique: corev1.UniqueVolumeName("kubernetes.io/csi/" + s.Driver + "^" + s.VolumeHandle)})
		}
	}
	return csi, bound
}

// attachedTo reports whether the volume is attached to the node.
func (ix *volumeIndex) attachedTo(pv, node string) bool {
	return ix.attached[[2]string{pv, node}]
}
