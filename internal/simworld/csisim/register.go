package csisim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// registerNodes does, for every node with a Running node pod of the chart,
// what the kubelet does when the node plugin registers: it asks the plugin
// for its node ID (the server ID) and topology (the server's location, and
// provided-by=cloud when enabled), labels the Node with that topology and
// lists the driver in the node's CSINode. The provisioner reads both to place
// volumes and the attacher reads the node ID. A node whose plugin stopped
// keeps its registration: csisim does not model the kubelet's unregistering.
// Each node pod registers once.
func (d *driver) registerNodes(ctx context.Context, pods []corev1.Pod) {
	for i := range pods {
		p := &pods[i]
		if !chartPod(p, componentNode) || p.Spec.NodeName == "" || d.registered[p.UID] {
			continue
		}
		if err := d.register(ctx, p.Spec.NodeName, configOf(p)); err != nil {
			d.logErr(ctx, "csisim: register node plugin on %s: %v", p.Spec.NodeName, err)
			continue
		}
		// The real plugin registers once per start, so a pod does too:
		// asking Hetzner for its server on every pass would spend the
		// token's rate limit that hcloud-k8s shares.
		d.registered[p.UID] = true
	}
}

func (d *driver) register(ctx context.Context, nodeName string, cfg config) error {
	node, err := d.o.Kube.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	srv, err := d.serverOf(ctx, node)
	if err != nil {
		return err
	}
	topology := map[string]string{topologyLocation: srv.Location.Name}
	if cfg.providedBy {
		topology[topologyProvidedBy] = "cloud"
	}
	nodeID := strconv.FormatInt(srv.ID, 10)
	if err := d.labelNode(ctx, node, topology, nodeID); err != nil {
		return err
	}
	return d.registerCSINode(ctx, node, nodeID, slices.Sorted(maps.Keys(topology)))
}

// serverOf finds the node's server the way the world names it: by the
// providerID hcloud://<id> the cloud controller manager or kubelet set, else
// by the server's name, which is the node's name. (The real node plugin
// asks the metadata service of the machine it runs on.)
func (d *driver) serverOf(ctx context.Context, node *corev1.Node) (*hcloud.Server, error) {
	if id, ok := strings.CutPrefix(node.Spec.ProviderID, "hcloud://"); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("providerID %q: %w", node.Spec.ProviderID, err)
		}
		srv, _, err := d.o.Hetzner.Server.GetByID(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("get server %d: %w", n, err)
		}
		if srv != nil {
			return srv, nil
		}
	}
	srv, _, err := d.o.Hetzner.Server.GetByName(ctx, node.Name)
	if err != nil {
		return nil, fmt.Errorf("get server %q: %w", node.Name, err)
	}
	if srv == nil {
		return nil, fmt.Errorf("no server for node %s (providerID %q)", node.Name, node.Spec.ProviderID)
	}
	return srv, nil
}

// labelNode merges the topology labels and the legacy node-ID annotation
// into the Node, leaving what others own alone.
func (d *driver) labelNode(ctx context.Context, node *corev1.Node, topology map[string]string, nodeID string) error {
	ids := map[string]string{}
	if raw := node.Annotations[annNodeIDs]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &ids) // a broken value is replaced
	}
	changed := ids[driverName] != nodeID
	for k, v := range topology {
		changed = changed || node.Labels[k] != v
	}
	if !changed {
		return nil
	}
	ids[driverName] = nodeID
	rawIDs, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"labels":      topology,
		"annotations": map[string]string{annNodeIDs: string(rawIDs)},
	}})
	if err != nil {
		return err
	}
	if _, err := d.o.Kube.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label node: %w", err)
	}
	d.o.Logf("csisim: node %s registered: server %s, topology %v", node.Name, nodeID, topology)
	return nil
}

// registerCSINode creates the node's CSINode (the kubelet's object, owned by
// the Node) if missing and puts the driver's entry in it.
func (d *driver) registerCSINode(ctx context.Context, node *corev1.Node, nodeID string, keys []string) error {
	want := storagev1.CSINodeDriver{
		Name: driverName, NodeID: nodeID, TopologyKeys: keys,
		Allocatable: &storagev1.VolumeNodeResources{Count: new(int32(maxVolumesPerNode))},
	}
	api := d.o.Kube.StorageV1().CSINodes()
	cn, err := api.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cn = &storagev1.CSINode{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}}},
			Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{want}},
		}
		_, err = api.Create(ctx, cn, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cn.Spec.Drivers, func(x storagev1.CSINodeDriver) bool { return x.Name == driverName })
	if i >= 0 && cn.Spec.Drivers[i].NodeID == nodeID && slices.Equal(cn.Spec.Drivers[i].TopologyKeys, keys) {
		return nil
	}
	// The kubelet re-registers a driver by replacing its entry.
	if i >= 0 {
		cn.Spec.Drivers = slices.Delete(cn.Spec.Drivers, i, i+1)
	}
	cn.Spec.Drivers = append(cn.Spec.Drivers, want)
	_, err = api.Update(ctx, cn, metav1.UpdateOptions{})
	return err
}
