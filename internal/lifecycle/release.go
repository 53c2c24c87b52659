package lifecycle

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
)

// csiDriver is the Hetzner CSI driver's name in PersistentVolumes.
const csiDriver = "csi.hetzner.cloud"

// releaseWait bounds the wait for the cluster to let go of its load balancer
// Services and volume claims before destroy deletes the infrastructure.
const releaseWait = 2 * time.Minute

// clusterVolumes adds to observed the Hetzner volumes the cluster's
// PersistentVolumes name (csi.hetzner.cloud, volumeHandle = the volume's
// ID): the CSI driver gives them no cluster label, and a PersistentVolume of
// this cluster is what proves a volume is the cluster's. Without a reachable
// API nothing can be proven and no volume is added; destroy says so.
func clusterVolumes(ctx context.Context, d Deps, c *config.Cluster, observed *infra.State, w io.Writer) (kubernetes.Interface, error) {
	cs, err := d.kubeClient()
	if err != nil {
		fmt.Fprintf(w, "Without the cluster's API (%v), volumes its CSI driver made cannot be proven to be this cluster's: they are left alone.\n", err)
		return nil, nil
	}
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(w, "The cluster's API did not answer (%v): volumes its CSI driver made cannot be proven to be this cluster's and are left alone.\n", err)
		return nil, nil
	}
	var volumes []*hcloud.Volume
	for _, pv := range pvs.Items {
		if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != csiDriver {
			continue
		}
		id, err := strconv.ParseInt(pv.Spec.CSI.VolumeHandle, 10, 64)
		if err != nil {
			continue
		}
		var v *hcloud.Volume
		if err := d.Client.Retry(ctx, "look up volume "+pv.Spec.CSI.VolumeHandle+" of "+pv.Name, func(ctx context.Context) error {
			var err error
			v, _, err = d.Client.API().Volume.GetByID(ctx, id)
			return err
		}); err != nil {
			return nil, err
		}
		if v != nil {
			volumes = append(volumes, v)
		}
	}
	addObserved(observed, c, infra.Cloud{Volumes: volumes})
	return cs, nil
}

// releaseClusterResources deletes, in the cluster, the Services of type
// LoadBalancer and the PersistentVolumeClaims, so that a running CCM and CSI
// driver give back their load balancers and volumes as they do in normal
// operation, and waits for the objects to go. Whatever they leave is deleted
// by destroy with the rest (what observe proved to be this cluster's).
func releaseClusterResources(ctx context.Context, s *destroyState) error {
	cs := s.kube
	if cs == nil {
		return nil
	}
	svcs, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		fmt.Fprintf(s.w, "Could not list the cluster's Services (%v); going on with the infrastructure.\n", err)
		return nil
	}
	var deleting []string
	for _, svc := range svcs.Items {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		if err := cs.CoreV1().Services(svc.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete Service %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		deleting = append(deleting, "service "+svc.Namespace+"/"+svc.Name)
	}
	// With --keep-volumes the claims stay: deleting one would make the CSI
	// driver delete its volume (reclaim policy Delete).
	pvcs, err := cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err == nil && !s.d.KeepVolumes {
		for _, pvc := range pvcs.Items {
			if err := cs.CoreV1().PersistentVolumeClaims(pvc.Namespace).Delete(ctx, pvc.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete PersistentVolumeClaim %s/%s: %w", pvc.Namespace, pvc.Name, err)
			}
			deleting = append(deleting, "claim "+pvc.Namespace+"/"+pvc.Name)
		}
	}
	if len(deleting) == 0 {
		return nil
	}
	fmt.Fprintf(s.w, "Deleting %d load balancer Services and volume claims in the cluster, so that its controllers release what they made...\n", len(deleting))
	deadline := s.d.Clock.Now().Add(releaseWait)
	for {
		left := stillThere(ctx, cs, !s.d.KeepVolumes)
		if left == 0 {
			fmt.Fprintln(s.w, "  ✓ released")
			return nil
		}
		if s.d.Clock.Now().After(deadline) {
			fmt.Fprintf(s.w, "  %d still being deleted after %s; destroy deletes their load balancers and volumes itself\n", left, releaseWait)
			return nil
		}
		if err := s.d.Clock.Sleep(ctx, 2*time.Second); err != nil {
			return err
		}
	}
}

// stillThere counts the LoadBalancer Services and claims not yet gone.
func stillThere(ctx context.Context, cs kubernetes.Interface, claims bool) int {
	n := 0
	if svcs, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{}); err == nil {
		for _, svc := range svcs.Items {
			if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
				n++
			}
		}
	}
	if !claims {
		return n
	}
	if pvcs, err := cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{}); err == nil {
		n += len(pvcs.Items)
	}
	return n
}
