package kubeapply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// systemNamespaces are never deleted, even when an addon rendered one
// (a chart may template its own namespace, and the release namespace is
// often kube-system): the cluster cannot do without them. Neither is the
// namespace holding the inventories.
var systemNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}

// Delete removes every object addon's inventory lists, then the inventory:
// what Apply does for an addon that was switched off. An object that no
// longer carries the addon's label (another addon took it over) is left in
// place. Delete returns once the API server accepted each deletion; an
// object with finalizers (a Namespace) may linger until they ran. When a
// deletion fails the inventory is kept, so Delete can be repeated.
func (a *Applier) Delete(ctx context.Context, addon string) (Result, error) {
	res := Result{Addon: addon}
	inv, err := a.readInventory(ctx, addon)
	if err != nil || !inv.exists {
		return res, err
	}
	if err := a.deleteRefs(ctx, &res, addon, inv.refs.sorted()); err != nil {
		return res, err
	}
	return res, a.deleteInventory(ctx, addon)
}

// deleteRefs deletes refs with github.com/fluxcd/pkg/ssa's DeleteAll, which
// orders them the reverse of the apply order (namespaced objects before the
// Namespaces and CRDs they depend on) and takes an object already gone as
// deleted.
func (a *Applier) deleteRefs(ctx context.Context, res *Result, addon string, refs []Ref) error {
	var objs []*unstructured.Unstructured
	for _, ref := range refs {
		if ref.GroupKind() == namespaceKind && (systemNamespaces[ref.Name] || ref.Name == a.opts.InventoryNamespace) {
			continue
		}
		obj, gone, err := a.stub(ref)
		if err != nil {
			return fmt.Errorf("addon %s: pruning %s: looking up its kind: %w", addon, ref, err)
		}
		if gone {
			// Its CRD went first; the object went with it.
			res.Pruned = append(res.Pruned, ref)
			continue
		}
		objs = append(objs, obj)
	}
	if len(objs) == 0 {
		return nil
	}
	cs, err := a.ssa.DeleteAll(ctx, objs, ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        map[string]string{Label: addon},
	})
	res.record(cs)
	if err != nil {
		return fmt.Errorf("addon %s: pruning: %w", addon, err)
	}
	return nil
}
