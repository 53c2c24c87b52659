package csisim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// term is one topology segment set, e.g. {csi.hetzner.cloud/location: fsn1}.
type term map[string]string

// String is a stable form, for sorting and messages.
func (t term) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(t)) {
		fmt.Fprintf(&b, "%s=%s,", k, t[k])
	}
	return strings.TrimSuffix(b.String(), ",")
}

// subsetOf reports whether every segment of t is in u.
func (t term) subsetOf(u term) bool {
	for k, v := range t {
		if u[k] != v {
			return false
		}
	}
	return true
}

// requisite is the csi-provisioner's topology requirement for a claim, with
// the chart's --strict-topology and the default --immediate-topology:
//
//   - a selected node (WaitForFirstConsumer): that node's segments for the
//     topology keys its CSINode lists, which must match allowedTopologies;
//   - else the StorageClass's allowedTopologies, one term per combination;
//   - else every registered node's segments.
//
// The terms come sorted; the real provisioner prefers, for immediate binding,
// a term rotated by a hash of the claim's name, csisim the first.
func (d *driver) requisite(ctx context.Context, class *storagev1.StorageClass, selectedNode string) ([]term, error) {
	allowed := flatten(class.AllowedTopologies)
	var terms []term
	switch {
	case selectedNode != "":
		t, err := d.nodeTopology(ctx, selectedNode)
		if err != nil {
			return nil, err
		}
		if len(allowed) > 0 && !slices.ContainsFunc(allowed, func(a term) bool { return a.subsetOf(t) }) {
			return nil, fmt.Errorf("selected node '%q' topology '%v' is not in allowed topologies: %v", selectedNode, t, allowed)
		}
		terms = []term{t}
	case len(allowed) > 0:
		terms = allowed
	default:
		var err error
		if terms, err = d.registeredTopologies(ctx); err != nil {
			return nil, err
		}
		if len(terms) == 0 {
			return nil, fmt.Errorf("no available topology found")
		}
	}
	slices.SortFunc(terms, func(a, b term) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(terms, func(a, b term) bool { return a.String() == b.String() }), nil
}

// nodeTopology is the node's segments for the keys the driver registered in
// its CSINode.
func (d *driver) nodeTopology(ctx context.Context, nodeName string) (term, error) {
	cn, err := d.o.Kube.StorageV1().CSINodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("no topology key found for node %s: %w", nodeName, err)
	}
	keys := driverKeys(cn)
	if len(keys) == 0 {
		return nil, fmt.Errorf("no topology key found for node %s", nodeName)
	}
	node, err := d.o.Kube.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return segments(node, keys)
}

// registeredTopologies collects the segments of every node the driver is
// registered on.
func (d *driver) registeredTopologies(ctx context.Context) ([]term, error) {
	cns, err := d.o.Kube.StorageV1().CSINodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []term
	for i := range cns.Items {
		keys := driverKeys(&cns.Items[i])
		if len(keys) == 0 {
			continue
		}
		node, err := d.o.Kube.CoreV1().Nodes().Get(ctx, cns.Items[i].Name, metav1.GetOptions{})
		if err != nil {
			continue // a CSINode outliving its Node for a moment
		}
		if t, err := segments(node, keys); err == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

func driverKeys(cn *storagev1.CSINode) []string {
	for _, drv := range cn.Spec.Drivers {
		if drv.Name == driverName {
			return drv.TopologyKeys
		}
	}
	return nil
}

func segments(node *corev1.Node, keys []string) (term, error) {
	t := term{}
	for _, k := range keys {
		v, ok := node.Labels[k]
		if !ok {
			return nil, fmt.Errorf("topology labels from selected node %v does not match topology keys from CSINode %v", node.Labels, keys)
		}
		t[k] = v
	}
	return t, nil
}

// flatten turns allowedTopologies into terms: within a selector term every
// combination of the expressions' values.
func flatten(sel []corev1.TopologySelectorTerm) []term {
	var out []term
	for _, st := range sel {
		terms := []term{{}}
		for _, e := range st.MatchLabelExpressions {
			var next []term
			for _, t := range terms {
				for _, v := range e.Values {
					c := maps.Clone(t)
					c[e.Key] = v
					next = append(next, c)
				}
			}
			terms = next
		}
		if len(st.MatchLabelExpressions) > 0 {
			out = append(out, terms...)
		}
	}
	return out
}

// locationOf is the driver's choice among the requirement's terms: the
// location of the first term that has one. Terms without a location (e.g.
// allowedTopologies naming only provided-by) are an error rather than a
// guess, as in the driver since v2.22.1.
func locationOf(terms []term) (string, error) {
	for _, t := range terms {
		if loc, ok := t[topologyLocation]; ok {
			return loc, nil
		}
	}
	return "", rpcErrorf("InvalidArgument", "accessibility requirements were provided but none contained a %q topology segment; "+
		"can not determine the location to create the volume in", topologyLocation)
}

// nodeAffinity is the PersistentVolume's node affinity the provisioner
// derives from the volume's accessible topology.
func nodeAffinity(t term) *corev1.VolumeNodeAffinity {
	var exprs []corev1.NodeSelectorRequirement
	for _, k := range slices.Sorted(maps.Keys(t)) {
		exprs = append(exprs, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{t[k]}})
	}
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: exprs}},
	}}
}
