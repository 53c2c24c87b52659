package csisim

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Volume sizes of the driver, in GiB (the API's "GB").
const (
	minVolumeGiB = 10
	gib          = 1 << 30
)

// Parameters the csi-provisioner adds to CreateVolume (--extra-create-metadata)
// and the driver turns into volume labels.
const (
	paramPVCName      = "csi.storage.k8s.io/pvc/name"
	paramPVCNamespace = "csi.storage.k8s.io/pvc/namespace"
	paramPVName       = "csi.storage.k8s.io/pv/name"
	// reservedPrefix marks the StorageClass parameters meant for the
	// sidecars (fstype, secrets), which the driver never sees.
	reservedPrefix = "csi.storage.k8s.io/"
)

// provisionAll provisions every claim handed to the driver.
func (d *driver) provisionAll(ctx context.Context) {
	pvcs, err := d.o.Kube.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: list PersistentVolumeClaims: %v", err)
		return
	}
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		class := d.classToProvision(ctx, pvc)
		if class == nil {
			continue
		}
		if err := d.provision(ctx, pvc, class); err != nil {
			d.logErr(ctx, "csisim: provision %s/%s: %v", pvc.Namespace, pvc.Name, err)
			d.recorder.Event(pvc, corev1.EventTypeWarning, "ProvisioningFailed",
				fmt.Sprintf("failed to provision volume with StorageClass %q: %v", class.Name, err))
		}
	}
}

// classToProvision returns the claim's StorageClass if the csi-provisioner
// would provision it now: unbound, handed to csi.hetzner.cloud by the PV
// controller's storage-provisioner annotation (the controller sets it only
// once the scheduler selected a node for WaitForFirstConsumer), and of a
// class of this driver.
func (d *driver) classToProvision(ctx context.Context, pvc *corev1.PersistentVolumeClaim) *storagev1.StorageClass {
	if pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || pvc.Spec.StorageClassName == nil {
		return nil
	}
	p, ok := pvc.Annotations[annStorageProvisioner]
	if !ok {
		p = pvc.Annotations[annBetaStorageProvisioner]
	}
	if p != driverName {
		return nil
	}
	class, err := d.o.Kube.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
	if err != nil {
		d.logErr(ctx, "csisim: StorageClass of %s/%s: %v", pvc.Namespace, pvc.Name, err)
		return nil
	}
	if class.Provisioner != driverName {
		return nil
	}
	wait := class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
	if wait && pvc.Annotations[annSelectedNode] == "" {
		return nil
	}
	return class
}

// provision creates the claim's volume and PersistentVolume, unless the
// PersistentVolume (named after the claim's UID) already exists.
func (d *driver) provision(ctx context.Context, pvc *corev1.PersistentVolumeClaim, class *storagev1.StorageClass) error {
	pvName := "pvc-" + string(pvc.UID)
	if _, err := d.o.Kube.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	d.recorder.Event(pvc, corev1.EventTypeNormal, "Provisioning",
		fmt.Sprintf("External provisioner is provisioning volume for claim \"%s/%s\"", pvc.Namespace, pvc.Name))
	fsType, params, err := splitParameters(class.Parameters)
	if err != nil {
		return err
	}
	params[paramPVCName], params[paramPVCNamespace], params[paramPVName] = pvc.Name, pvc.Namespace, pvName
	if err := checkAccessModes(pvc.Spec.AccessModes); err != nil {
		return err
	}
	terms, err := d.requisite(ctx, class, pvc.Annotations[annSelectedNode])
	if err != nil {
		return fmt.Errorf("error generating accessibility requirements: %w", err)
	}
	vol, err := d.createVolume(ctx, pvName, pvc.Spec.Resources, terms, params)
	if err != nil {
		return err
	}
	pv := d.persistentVolume(pvc, class, vol, fsType, params["fsFormatOptions"])
	if _, err := d.o.Kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create PersistentVolume %s: %w", pvName, err)
	}
	d.o.Logf("csisim: provisioned volume %d (%s, %d GB, %s) for %s/%s", vol.ID, vol.Name, vol.Size, vol.Location.Name, pvc.Namespace, pvc.Name)
	d.recorder.Event(pvc, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume "+pvName)
	return nil
}

// splitParameters separates the sidecars' reserved parameters from those
// passed to the driver and returns the file system type for the volume
// ("csi.storage.k8s.io/fstype" or the deprecated "fstype", else ext4).
func splitParameters(in map[string]string) (fsType string, params map[string]string, err error) {
	params = map[string]string{}
	found := 0
	for k, v := range in {
		switch {
		case k == reservedPrefix+"fstype" || strings.EqualFold(k, "fstype"):
			fsType = v
			found++
		case strings.HasPrefix(k, reservedPrefix):
		default:
			params[k] = v
		}
	}
	if found > 1 {
		return "", nil, fmt.Errorf("fstype specified in parameters with both \"fstype\" and \"%sfstype\" keys", reservedPrefix)
	}
	if fsType == "" {
		fsType = defaultFSType
	}
	return fsType, params, nil
}

// checkAccessModes admits what the driver supports: one node writing
// (ReadWriteOnce, ReadWriteOncePod).
func checkAccessModes(modes []corev1.PersistentVolumeAccessMode) error {
	for i, m := range modes {
		if m != corev1.ReadWriteOnce && m != corev1.ReadWriteOncePod {
			return rpcErrorf("InvalidArgument", "capability at index %d is not supported", i)
		}
	}
	return nil
}

// sizeGiB is the driver's size for a capacity range: the request rounded up
// to whole GiB, at least 10; no request means 10. A limit below the rounded
// request cannot be met.
func sizeGiB(res corev1.VolumeResourceRequirements) (int, error) {
	size := minVolumeGiB
	if q, ok := res.Requests[corev1.ResourceStorage]; ok && q.Value() > 0 {
		size = max(int((q.Value()+gib-1)/gib), minVolumeGiB)
	}
	if q, ok := res.Limits[corev1.ResourceStorage]; ok && q.Value() > 0 && size > int(q.Value()/gib) {
		return 0, rpcErrorf("OutOfRange", "invalid capacity range")
	}
	return size, nil
}

// volumeLabels are the labels the driver puts on a volume: managed-by, the
// claim's and volume's names from the provisioner's parameters, the extra
// labels of its environment and the StorageClass's "labels" parameter (in
// that order, later ones winning). Values over 63 characters keep their end.
func volumeLabels(params, extra map[string]string) (map[string]string, error) {
	labels := map[string]string{"managed-by": "csi-driver"}
	maps.Copy(labels, extra)
	for k, v := range params {
		switch strings.ToLower(k) {
		case paramPVCName:
			labels["pvc-name"] = v
		case paramPVCNamespace:
			labels["pvc-namespace"] = v
		case paramPVName:
			labels["pv-name"] = v
		case "labels":
			custom, ok := parseLabelList(v)
			if !ok {
				return nil, rpcErrorf("InvalidArgument", "Invalid format of parameter labels: empty key")
			}
			maps.Copy(labels, custom)
		}
	}
	for k, v := range labels {
		labels[k] = truncateLabel(v)
	}
	asAny := make(map[string]any, len(labels))
	for k, v := range labels {
		asAny[k] = v
	}
	if _, err := hcloud.ValidateResourceLabels(asAny); err != nil {
		return nil, rpcErrorf("InvalidArgument", "invalid volume labels: %s", err)
	}
	return labels, nil
}

// truncateLabel keeps the last 63 characters of a long value (the unique end
// of generated names), without leading non-alphanumerics.
func truncateLabel(v string) string {
	const maxLen = 63
	if len(v) <= maxLen {
		return v
	}
	return strings.TrimLeftFunc(v[len(v)-maxLen:], func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	})
}

// createVolume is the driver's CreateVolume: a volume named after the
// PersistentVolume, in the requirement's location. A volume of that name
// left from an earlier attempt is taken if it fits, as CSI asks of drivers.
func (d *driver) createVolume(ctx context.Context, name string, res corev1.VolumeResourceRequirements, terms []term, params map[string]string) (*hcloud.Volume, error) {
	size, err := sizeGiB(res)
	if err != nil {
		return nil, err
	}
	loc, err := locationOf(terms)
	if err != nil {
		return nil, err
	}
	labels, err := volumeLabels(params, d.cfg.extraLabels)
	if err != nil {
		return nil, err
	}
	api := d.o.Hetzner
	created, _, err := api.Volume.Create(ctx, hcloud.VolumeCreateOpts{
		Name: name, Size: size, Location: &hcloud.Location{Name: loc}, Labels: labels,
	})
	if hcloud.IsError(err, hcloud.ErrorCodeUniquenessError) {
		return d.existingVolume(ctx, name, size, loc)
	}
	if err != nil {
		return nil, rpcErrorf("Internal", "failed to create volume: %s", err)
	}
	if err := api.Action.WaitFor(ctx, created.Action); err != nil {
		// The driver removes a volume whose creation failed, so that the
		// next attempt starts afresh.
		if _, derr := api.Volume.Delete(ctx, created.Volume); derr != nil {
			d.logErr(ctx, "csisim: delete failed volume %d: %v", created.Volume.ID, derr)
		}
		return nil, rpcErrorf("Internal", "failed to create volume: %s", err)
	}
	vol, _, err := api.Volume.GetByID(ctx, created.Volume.ID)
	if err != nil || vol == nil {
		return nil, rpcErrorf("Internal", "failed to create volume: get volume %d: %v", created.Volume.ID, err)
	}
	return vol, nil
}

// existingVolume accepts a volume of the name that is large enough and in
// the location.
func (d *driver) existingVolume(ctx context.Context, name string, size int, loc string) (*hcloud.Volume, error) {
	vol, _, err := d.o.Hetzner.Volume.GetByName(ctx, name)
	if err != nil {
		return nil, rpcErrorf("Internal", "failed to create volume: %s", err)
	}
	if vol == nil || vol.Size < size || vol.Location == nil || vol.Location.Name != loc {
		return nil, rpcErrorf("AlreadyExists", "failed to create volume: volume does already exist")
	}
	return vol, nil
}

// persistentVolume is what the csi-provisioner saves for a created volume.
func (d *driver) persistentVolume(pvc *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, vol *hcloud.Volume, fsType, fsFormatOptions string) *corev1.PersistentVolume {
	topology := term{topologyLocation: vol.Location.Name}
	if d.cfg.providedBy {
		topology[topologyProvidedBy] = "cloud"
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name: "pvc-" + string(pvc.UID),
			Annotations: map[string]string{
				annProvisionedBy:      driverName,
				annDeletionSecretName: "",
				annDeletionSecretNS:   "",
			},
		},
		Spec: corev1.PersistentVolumeSpec{
			AccessModes:  pvc.Spec.AccessModes,
			MountOptions: class.MountOptions,
			Capacity: corev1.ResourceList{
				corev1.ResourceStorage: *resource.NewQuantity(int64(vol.Size)*gib, resource.BinarySI),
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver:       driverName,
				VolumeHandle: fmt.Sprint(vol.ID),
				VolumeAttributes: map[string]string{
					provisionerIdentityKey: d.identity,
					"fsFormatOptions":      fsFormatOptions,
				},
			}},
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              class.Name,
			VolumeMode:                    pvc.Spec.VolumeMode,
			NodeAffinity:                  nodeAffinity(topology),
		},
	}
	if class.ReclaimPolicy != nil {
		pv.Spec.PersistentVolumeReclaimPolicy = *class.ReclaimPolicy
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete {
		pv.Finalizers = []string{provisionerFinalizer}
	}
	if pvc.Spec.VolumeMode == nil || *pvc.Spec.VolumeMode != corev1.PersistentVolumeBlock {
		pv.Spec.CSI.FSType = fsType
	}
	return pv
}
