// Package csisim stands in for the Hetzner Cloud CSI driver (hcloud-csi,
// csi.hetzner.cloud) of a simulated cluster. The real driver cannot run in the
// local world: it asks the metadata service for its server on start. csisim
// does what the driver's controller pod does (its driver container and the
// csi-provisioner and csi-attacher sidecars) and what the node plugin's
// registration with the kubelet leaves in the cluster, against the Hetzner API
// simulator through hcloud-go and against the API server through client-go:
//
//   - registration: a running node pod of the chart gives its Node the
//     driver's topology labels and its CSINode the driver (node ID = server
//     ID), as the kubelet does once the node plugin registers;
//   - provisioning: a claim the PV controller handed to csi.hetzner.cloud
//     becomes a Hetzner volume and a PersistentVolume the PV controller binds;
//   - attaching: a VolumeAttachment of csi.hetzner.cloud attaches the volume to
//     the node's server, and its deletion detaches it;
//   - deleting: a released PersistentVolume with reclaim policy Delete loses
//     its volume and is deleted.
//
// The controller work happens only while a controller pod of the chart is
// Running (see chartPod), as on a real cluster. docs/simulated-world-csi.md
// lists the facts of the real driver this follows and what is left out.
package csisim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Facts of the real driver (v2.22.1) and its sidecars.
const (
	// driverName is the CSI driver's name: the StorageClass provisioner, the
	// PersistentVolumes' spec.csi.driver and the VolumeAttachments' attacher.
	driverName = "csi.hetzner.cloud"
	// topologyLocation is the topology key of the volume's location.
	topologyLocation = driverName + "/location"
	// topologyProvidedBy is the extra topology key the driver reports with
	// ENABLE_PROVIDED_BY_TOPOLOGY (value "cloud").
	topologyProvidedBy = "instance.hetzner.cloud/provided-by"
	// maxVolumesPerNode is what the node plugin reports to the kubelet.
	maxVolumesPerNode = 16
	// attacherFinalizer is the csi-attacher's finalizer on VolumeAttachments
	// and PersistentVolumes ("external-attacher/" + the sanitised driver name).
	attacherFinalizer = "external-attacher/csi-hetzner-cloud"
	// provisionerFinalizer is the csi-provisioner's finalizer on the
	// PersistentVolumes it provisions with reclaim policy Delete.
	provisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer"
	// defaultFSType is the chart's --default-fstype of both sidecars.
	defaultFSType = "ext4"
)

// Annotations the controllers involved read or write.
const (
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	annSelectedNode           = "volume.kubernetes.io/selected-node"
	annProvisionedBy          = "pv.kubernetes.io/provisioned-by"
	annDeletionSecretName     = "volume.kubernetes.io/provisioner-deletion-secret-name"
	annDeletionSecretNS       = "volume.kubernetes.io/provisioner-deletion-secret-namespace"
	annVANodeID               = "csi.alpha.kubernetes.io/node-id"
	annNodeIDs                = "csi.volume.kubernetes.io/nodeid"
	provisionerIdentityKey    = "storage.kubernetes.io/csiProvisionerIdentity"
)

// Options configures Run.
type Options struct {
	// Kube is the cluster's API.
	Kube kubernetes.Interface
	// Hetzner is a client of the Hetzner API (the simulator) with the
	// project's token, as the driver's HCLOUD_TOKEN would give it.
	Hetzner *hcloud.Client
	// Clock paces the reconcile passes and stamps what csisim writes.
	// Default: the wall clock.
	Clock clock.Clock
	// Logf receives what csisim does and why it waits. Default: discarded.
	Logf func(string, ...any)
	// Interval is the time between reconcile passes on Clock. Default 1s.
	Interval time.Duration
}

// Run reconciles every Interval until ctx is done, then returns nil. Failures
// of one object are logged, recorded as Events where the real driver records
// them, and retried on the next pass; they never end Run.
func Run(ctx context.Context, o Options) error {
	return run(ctx, o, nil)
}

// run is Run with a hook called after every pass, for the tests to count
// passes instead of sleeping.
func run(ctx context.Context, o Options, passed func()) error {
	if o.Kube == nil || o.Hetzner == nil {
		return errors.New("csisim: Options.Kube and Options.Hetzner are required")
	}
	o.Clock = clock.OrReal(o.Clock)
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	events := record.NewBroadcaster(record.WithContext(ctx))
	defer events.Shutdown()
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: o.Kube.CoreV1().Events("")})
	d := &driver{
		o:        o,
		recorder: events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: driverName + "_csisim"}),
		identity: strconv.FormatInt(o.Clock.Now().UnixMilli(), 10) + "-0-" + driverName,

		registered: map[types.UID]bool{},
	}
	tick := o.Clock.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		d.pass(ctx)
		if passed != nil {
			passed()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C():
		}
	}
}

// driver is the state of one Run.
type driver struct {
	o        Options
	recorder record.EventRecorder
	// identity is the csi-provisioner's identity written into the
	// PersistentVolumes it creates.
	identity string
	// cfg is the running controller's configuration, read every pass.
	cfg config
	// waiting remembers that the last pass found no controller, so that the
	// log says so once, not every pass.
	waiting bool
	// registered are the node pods whose registration is done.
	registered map[types.UID]bool
}

// pass does one round of every reconciler.
func (d *driver) pass(ctx context.Context) {
	pods, err := d.o.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: chartSelector})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logf("csisim: list hcloud-csi pods: %v", err)
		}
		return
	}
	d.registerNodes(ctx, pods.Items)
	ctrl := runningController(pods.Items)
	if ctrl == nil {
		if !d.waiting {
			d.o.Logf("csisim: no hcloud-csi controller pod is Running: nothing is provisioned, attached or deleted")
		}
		d.waiting = true
		return
	}
	if d.waiting {
		d.o.Logf("csisim: hcloud-csi controller pod %s/%s is Running", ctrl.Namespace, ctrl.Name)
	}
	d.waiting = false
	d.cfg = configOf(ctrl)
	d.provisionAll(ctx)
	d.attachAll(ctx)
	d.deleteAll(ctx)
	d.releasePVFinalizers(ctx)
}

// logErr logs err unless ctx ended, when errors are only the shutdown.
func (d *driver) logErr(ctx context.Context, format string, args ...any) {
	if ctx.Err() == nil {
		d.o.Logf(format, args...)
	}
}

// rpcError is a CSI call's failure as the sidecars print it, so that Events
// and VolumeAttachment errors read as they do with the real driver.
type rpcError struct {
	code string // gRPC code name, e.g. Internal, InvalidArgument
	desc string
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("rpc error: code = %s desc = %s", e.code, e.desc)
}

func rpcErrorf(code, format string, args ...any) error {
	return &rpcError{code: code, desc: fmt.Sprintf(format, args...)}
}
