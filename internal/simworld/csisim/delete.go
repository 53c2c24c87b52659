package csisim

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// deleteAll does the csi-provisioner's part of the PersistentVolumes it
// provisioned: it keeps its finalizer in line with the reclaim policy and
// deletes the volume, then the PersistentVolume, once the claim is gone
// (phase Released) and the policy is Delete. Retain leaves both.
func (d *driver) deleteAll(ctx context.Context) {
	pvs, err := d.o.Kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: list PersistentVolumes: %v", err)
		return
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != driverName || pv.Annotations[annProvisionedBy] != driverName {
			continue
		}
		var err error
		if pv, err = d.syncFinalizer(ctx, pv); err != nil {
			d.logErr(ctx, "csisim: finalizer of %s: %v", pv.Name, err)
			continue
		}
		if !shouldDelete(pv) {
			continue
		}
		if err := d.deletePV(ctx, pv); err != nil {
			d.logErr(ctx, "csisim: delete %s: %v", pv.Name, err)
			d.recorder.Event(pv, corev1.EventTypeWarning, "VolumeFailedDelete", err.Error())
		}
	}
}

// syncFinalizer adds the provisioner's finalizer to a bound PersistentVolume
// with reclaim policy Delete and removes it when the policy is Retain or
// Recycle, so that a Retain volume's PersistentVolume can go without it.
func (d *driver) syncFinalizer(ctx context.Context, pv *corev1.PersistentVolume) (*corev1.PersistentVolume, error) {
	has := slices.Contains(pv.Finalizers, provisionerFinalizer)
	policy := pv.Spec.PersistentVolumeReclaimPolicy
	switch {
	case !has && policy == corev1.PersistentVolumeReclaimDelete && pv.DeletionTimestamp == nil && pv.Status.Phase == corev1.VolumeBound:
		pv.Finalizers = append(pv.Finalizers, provisionerFinalizer)
	case has && policy != corev1.PersistentVolumeReclaimDelete:
		pv.Finalizers = withoutFinalizer(pv.Finalizers, provisionerFinalizer)
	default:
		return pv, nil
	}
	return d.o.Kube.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{})
}

// shouldDelete: Released with policy Delete, unless the finalizer is gone
// from a PersistentVolume being deleted (then its volume is already gone).
func shouldDelete(pv *corev1.PersistentVolume) bool {
	if pv.DeletionTimestamp != nil && !slices.Contains(pv.Finalizers, provisionerFinalizer) {
		return false
	}
	return pv.Status.Phase == corev1.VolumeReleased && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete
}

// deletePV refuses while an attachment names the PersistentVolume (the
// attach-detach controller still has to detach it), then deletes the volume
// (detaching it from any server first, as the driver does), the
// PersistentVolume, and its finalizer.
func (d *driver) deletePV(ctx context.Context, pv *corev1.PersistentVolume) error {
	vas, err := d.o.Kube.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("failed to list volumeattachments: %w", err)
	}
	if va := attachmentOf(vas.Items, pv.Name); va != nil {
		return fmt.Errorf("persistentvolume %s is still attached to node %s", pv.Name, va.Spec.NodeName)
	}
	if err := d.deleteVolume(ctx, pv.Spec.CSI.VolumeHandle); err != nil {
		return err
	}
	api := d.o.Kube.CoreV1().PersistentVolumes()
	if err := api.Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete PersistentVolume: %w", err)
	}
	d.o.Logf("csisim: deleted volume %s of %s", pv.Spec.CSI.VolumeHandle, pv.Name)
	fresh, err := api.Get(ctx, pv.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !slices.Contains(fresh.Finalizers, provisionerFinalizer) {
		return nil
	}
	fresh.Finalizers = withoutFinalizer(fresh.Finalizers, provisionerFinalizer)
	if _, err := api.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove provisioner finalizer: %w", err)
	}
	return nil
}

// deleteVolume is the driver's DeleteVolume: detach from any server, then
// delete; a volume already gone (or a handle that is no ID) is done.
func (d *driver) deleteVolume(ctx context.Context, handle string) error {
	id, err := strconv.ParseInt(handle, 10, 64)
	if err != nil {
		return nil
	}
	vol, _, err := d.o.Hetzner.Volume.GetByID(ctx, id)
	if err != nil {
		return rpcErrorf("Internal", "%s", err)
	}
	if vol == nil {
		return nil
	}
	if vol.Server != nil {
		if err := d.detachVolume(ctx, vol, "failed to detach volume"); err != nil {
			return err
		}
	}
	if _, err := d.o.Hetzner.Volume.Delete(ctx, vol); err != nil && !hcloud.IsError(err, hcloud.ErrorCodeNotFound) {
		return rpcErrorf("Internal", "%s", err)
	}
	return nil
}

func withoutFinalizer(fs []string, f string) []string {
	return slices.DeleteFunc(slices.Clone(fs), func(x string) bool { return x == f })
}
