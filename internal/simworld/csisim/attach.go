package csisim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// attachAll does the csi-attacher's work on the driver's VolumeAttachments,
// which the attach-detach controller creates for a scheduled pod's volume and
// deletes when no pod on the node needs it.
func (d *driver) attachAll(ctx context.Context) {
	vas, err := d.o.Kube.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: list VolumeAttachments: %v", err)
		return
	}
	for i := range vas.Items {
		va := &vas.Items[i]
		switch {
		case va.Spec.Attacher != driverName:
		case va.DeletionTimestamp != nil:
			if !slices.Contains(va.Finalizers, attacherFinalizer) {
				continue // detached, or never attached by this driver
			}
			if err := d.detach(ctx, va); err != nil {
				d.logErr(ctx, "csisim: detach %s: %v", va.Name, err)
				d.saveError(ctx, va.Name, err, false)
			}
		case !va.Status.Attached:
			if err := d.attach(ctx, va); err != nil {
				d.logErr(ctx, "csisim: attach %s: %v", va.Name, err)
				d.saveError(ctx, va.Name, err, true)
			}
		}
	}
}

// attach checks what it can before taking the finalizers (a finalizer would
// block the attachment's deletion on an error), then publishes the volume on
// the node's server and marks the attachment attached with the device path.
func (d *driver) attach(ctx context.Context, va *storagev1.VolumeAttachment) error {
	if va.Spec.Source.PersistentVolumeName == nil {
		return errors.New("VolumeAttachment has no PersistentVolumeName: the driver serves persistent volumes only")
	}
	pvs := d.o.Kube.CoreV1().PersistentVolumes()
	pv, err := pvs.Get(ctx, *va.Spec.Source.PersistentVolumeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pv.DeletionTimestamp != nil {
		return fmt.Errorf("PersistentVolume %q is marked for deletion", pv.Name)
	}
	if !slices.Contains(pv.Finalizers, attacherFinalizer) {
		pv.Finalizers = append(pv.Finalizers, attacherFinalizer)
		if _, err := pvs.Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("could not add PersistentVolume finalizer: %w", err)
		}
	}
	if pv.Spec.CSI == nil {
		return errors.New("CSI volume source was nil")
	}
	nodeID, err := d.nodeID(ctx, va.Spec.NodeName, nil)
	if err != nil {
		return err
	}
	if !slices.Contains(va.Finalizers, attacherFinalizer) || va.Annotations[annVANodeID] != nodeID {
		if !slices.Contains(va.Finalizers, attacherFinalizer) {
			va.Finalizers = append(va.Finalizers, attacherFinalizer)
		}
		metav1.SetMetaDataAnnotation(&va.ObjectMeta, annVANodeID, nodeID)
		if va, err = d.o.Kube.StorageV1().VolumeAttachments().Update(ctx, va, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("could not save VolumeAttachment: %w", err)
		}
	}
	device, err := d.publish(ctx, pv.Spec.CSI.VolumeHandle, nodeID)
	if err != nil {
		return err
	}
	va.Status = storagev1.VolumeAttachmentStatus{Attached: true, AttachmentMetadata: map[string]string{"devicePath": device}}
	if _, err := d.o.Kube.StorageV1().VolumeAttachments().UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("could not mark as attached: %w", err)
	}
	d.o.Logf("csisim: attached volume %s to server %s (node %s)", pv.Spec.CSI.VolumeHandle, nodeID, va.Spec.NodeName)
	return nil
}

// detach unpublishes the volume from the node's server, then drops the
// finalizer before clearing attached: an attachment being deleted without
// the finalizer counts as detached, so the reverse order would unpublish
// twice.
func (d *driver) detach(ctx context.Context, va *storagev1.VolumeAttachment) error {
	if va.Spec.Source.PersistentVolumeName == nil {
		return errors.New("VolumeAttachment has no PersistentVolumeName")
	}
	pv, err := d.o.Kube.CoreV1().PersistentVolumes().Get(ctx, *va.Spec.Source.PersistentVolumeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pv.Spec.CSI == nil {
		return errors.New("CSI volume source was nil")
	}
	nodeID, err := d.nodeID(ctx, va.Spec.NodeName, va)
	if err != nil {
		return err
	}
	if err := d.unpublish(ctx, pv.Spec.CSI.VolumeHandle, nodeID); err != nil {
		return err
	}
	api := d.o.Kube.StorageV1().VolumeAttachments()
	va.Finalizers = slices.DeleteFunc(va.Finalizers, func(f string) bool { return f == attacherFinalizer })
	if va, err = api.Update(ctx, va, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("could not mark as detached: %w", err)
	}
	va.Status.Attached = false
	if _, err := api.UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("could not mark as detached: %w", err)
	}
	d.o.Logf("csisim: detached volume %s from server %s (node %s)", pv.Spec.CSI.VolumeHandle, nodeID, va.Spec.NodeName)
	return nil
}

// nodeID is the driver's ID of the node (the server ID) from the node's
// CSINode, else, for detaching, from the attachment's annotation: a node
// whose plugin is gone can still be detached from.
func (d *driver) nodeID(ctx context.Context, nodeName string, va *storagev1.VolumeAttachment) (string, error) {
	cn, err := d.o.Kube.StorageV1().CSINodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err == nil {
		for _, drv := range cn.Spec.Drivers {
			if drv.Name == driverName {
				return drv.NodeID, nil
			}
		}
		err = fmt.Errorf("CSINode %s does not contain driver %s", nodeName, driverName)
	}
	if va != nil && va.Annotations[annVANodeID] != "" {
		return va.Annotations[annVANodeID], nil
	}
	return "", err
}

// saveError records a failed attach or detach in the attachment's status,
// where the attach-detach controller and users look for it.
func (d *driver) saveError(ctx context.Context, name string, cause error, attaching bool) {
	api := d.o.Kube.StorageV1().VolumeAttachments()
	va, err := api.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return
	}
	ve := &storagev1.VolumeError{Time: metav1.NewTime(d.o.Clock.Now()), Message: cause.Error()}
	if attaching {
		va.Status.AttachError = ve
	} else {
		va.Status.DetachError = ve
	}
	if _, err := api.UpdateStatus(ctx, va, metav1.UpdateOptions{}); err != nil {
		d.logErr(ctx, "csisim: save error of %s: %v", name, err)
	}
}

// releasePVFinalizers drops the attacher's finalizer from PersistentVolumes
// being deleted that no attachment needs any more.
func (d *driver) releasePVFinalizers(ctx context.Context) {
	pvs, err := d.o.Kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: list PersistentVolumes: %v", err)
		return
	}
	vas, err := d.o.Kube.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: list VolumeAttachments: %v", err)
		return
	}
	for i := range pvs.Items {
		pv := &pvs.Items[i]
		if pv.DeletionTimestamp == nil || !slices.Contains(pv.Finalizers, attacherFinalizer) || attachmentOf(vas.Items, pv.Name) != nil {
			continue
		}
		pv.Finalizers = slices.DeleteFunc(pv.Finalizers, func(f string) bool { return f == attacherFinalizer })
		if _, err := d.o.Kube.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			d.logErr(ctx, "csisim: remove attacher finalizer of %s: %v", pv.Name, err)
		}
	}
}

// attachmentOf returns an attachment of the PersistentVolume, or nil.
func attachmentOf(vas []storagev1.VolumeAttachment, pvName string) *storagev1.VolumeAttachment {
	for i := range vas {
		if n := vas[i].Spec.Source.PersistentVolumeName; n != nil && *n == pvName {
			return &vas[i]
		}
	}
	return nil
}

// publish is the driver's ControllerPublishVolume: attach the volume to the
// server and wait for the action. A volume already on that server is fine.
func (d *driver) publish(ctx context.Context, volumeHandle, nodeID string) (string, error) {
	vol, srv, err := d.volumeAndServer(ctx, volumeHandle, nodeID)
	if err != nil {
		return "", err
	}
	if vol.Server != nil {
		if vol.Server.ID == srv.ID {
			return vol.LinuxDevice, nil
		}
		return "", rpcErrorf("FailedPrecondition", "failed to publish volume: volume is attached")
	}
	action, _, err := d.o.Hetzner.Volume.Attach(ctx, vol, srv)
	if err != nil {
		return "", rpcErrorf(attachCode(err), "failed to publish volume: %s", err)
	}
	if err := d.o.Hetzner.Action.WaitFor(ctx, action); err != nil {
		return "", rpcErrorf("Internal", "failed to publish volume: %s", err)
	}
	return vol.LinuxDevice, nil
}

// attachCode is the gRPC code the driver answers for an attach error.
func attachCode(err error) string {
	switch {
	case hcloud.IsError(err, hcloud.ErrorCode("limit_exceeded_error")):
		return "ResourceExhausted"
	case hcloud.IsError(err, hcloud.ErrorCodeLocked):
		return "Unavailable"
	case hcloud.IsError(err, hcloud.ErrorCode("volume_already_attached")):
		return "FailedPrecondition"
	}
	return "Internal"
}

// unpublish is the driver's ControllerUnpublishVolume: detach the volume if
// it is on the server; gone, detached or on another server counts as done.
func (d *driver) unpublish(ctx context.Context, volumeHandle, nodeID string) error {
	id, err := strconv.ParseInt(volumeHandle, 10, 64)
	if err != nil {
		return rpcErrorf("NotFound", "volume not found")
	}
	serverID, err := strconv.ParseInt(nodeID, 10, 64)
	if err != nil {
		return rpcErrorf("NotFound", "node not found")
	}
	vol, _, err := d.o.Hetzner.Volume.GetByID(ctx, id)
	if err != nil {
		return rpcErrorf("Internal", "failed to unpublish volume: %s", err)
	}
	if vol == nil || vol.Server == nil || vol.Server.ID != serverID {
		return nil
	}
	return d.detachVolume(ctx, vol, "failed to unpublish volume")
}

// detachVolume detaches and waits for the action.
func (d *driver) detachVolume(ctx context.Context, vol *hcloud.Volume, what string) error {
	action, _, err := d.o.Hetzner.Volume.Detach(ctx, vol)
	if err != nil {
		code := "Internal"
		if hcloud.IsError(err, hcloud.ErrorCodeLocked) {
			code = "Unavailable"
		}
		return rpcErrorf(code, "%s: %s", what, err)
	}
	if err := d.o.Hetzner.Action.WaitFor(ctx, action); err != nil {
		return rpcErrorf("Internal", "%s: %s", what, err)
	}
	return nil
}

func (d *driver) volumeAndServer(ctx context.Context, volumeHandle, nodeID string) (*hcloud.Volume, *hcloud.Server, error) {
	id, err := strconv.ParseInt(volumeHandle, 10, 64)
	if err != nil {
		return nil, nil, rpcErrorf("NotFound", "volume not found")
	}
	serverID, err := strconv.ParseInt(nodeID, 10, 64)
	if err != nil {
		return nil, nil, rpcErrorf("NotFound", "node not found")
	}
	vol, _, err := d.o.Hetzner.Volume.GetByID(ctx, id)
	if err != nil {
		return nil, nil, rpcErrorf("Internal", "failed to publish volume: %s", err)
	}
	if vol == nil {
		return nil, nil, rpcErrorf("NotFound", "failed to publish volume: volume not found")
	}
	srv, _, err := d.o.Hetzner.Server.GetByID(ctx, serverID)
	if err != nil {
		return nil, nil, rpcErrorf("Internal", "failed to publish volume: %s", err)
	}
	if srv == nil {
		return nil, nil, rpcErrorf("NotFound", "failed to publish volume: server not found")
	}
	return vol, srv, nil
}
