package kubeapply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The inventory ConfigMap: one per addon, in Options.InventoryNamespace.
const (
	inventoryPrefix = "hcloud-k8s-inventory-"
	// keyObjects holds the Refs as a JSON array, one Ref a line.
	keyObjects = "objects"
	// keyInstalled is "true" once one Apply of the addon ran to the end;
	// until then every Apply is an install (install hooks run again).
	keyInstalled = "installed"
	// keyVersion is Set.Version of the last complete Apply.
	keyVersion = "version"
)

// InventoryName is the name of addon's inventory ConfigMap.
func InventoryName(addon string) string { return inventoryPrefix + addon }

type inventory struct {
	exists    bool
	installed bool
	version   string
	refs      refSet
}

// Inventory is what the cluster records of one addon.
type Inventory struct {
	// Exists is false when the addon was never applied (or was deleted).
	Exists bool
	// Installed is true once one Apply ran to the end.
	Installed bool
	// Version is the Set.Version of the last complete Apply.
	Version string
	// Objects are the objects the addon may have in the cluster, sorted.
	Objects []Ref
}

// Inventory reads addon's inventory.
func (a *Applier) Inventory(ctx context.Context, addon string) (Inventory, error) {
	inv, err := a.readInventory(ctx, addon)
	if err != nil {
		return Inventory{}, err
	}
	return Inventory{Exists: inv.exists, Installed: inv.installed, Version: inv.version, Objects: inv.refs.sorted()}, nil
}

func (a *Applier) readInventory(ctx context.Context, addon string) (inventory, error) {
	var cm corev1.ConfigMap
	key := client.ObjectKey{Namespace: a.opts.InventoryNamespace, Name: InventoryName(addon)}
	if err := a.client.Get(ctx, key, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return inventory{refs: refSet{}}, nil
		}
		return inventory{}, fmt.Errorf("addon %s: reading inventory ConfigMap %s: %w", addon, key, err)
	}
	var refs []Ref
	if err := json.Unmarshal([]byte(cm.Data[keyObjects]), &refs); err != nil {
		return inventory{}, fmt.Errorf("addon %s: inventory ConfigMap %s: %s: %w", addon, key, keyObjects, err)
	}
	return inventory{exists: true, installed: cm.Data[keyInstalled] == "true", version: cm.Data[keyVersion], refs: newRefSet(refs...)}, nil
}

// writeInventory applies the inventory with server-side apply, through the
// same drift check as every object: an unchanged inventory is not written.
func (a *Applier) writeInventory(ctx context.Context, addon string, inv inventory) error {
	data := map[string]any{keyObjects: encodeRefs(inv.refs.sorted())}
	if inv.installed {
		data[keyInstalled] = "true"
	}
	if inv.version != "" {
		data[keyVersion] = inv.version
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      InventoryName(addon),
			"namespace": a.opts.InventoryNamespace,
			"labels": map[string]any{
				"app.kubernetes.io/managed-by": FieldManager,
				Label:                          addon,
			},
		},
		"data": data,
	}}
	if _, err := a.ssa.Apply(ctx, cm, ssa.ApplyOptions{}); err != nil {
		return fmt.Errorf("addon %s: writing inventory ConfigMap %s/%s: %w", addon, a.opts.InventoryNamespace, InventoryName(addon), err)
	}
	return nil
}

func (a *Applier) deleteInventory(ctx context.Context, addon string) error {
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = a.opts.InventoryNamespace, InventoryName(addon)
	if err := a.client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("addon %s: deleting inventory ConfigMap %s/%s: %w", addon, cm.Namespace, cm.Name, err)
	}
	return nil
}

// encodeRefs writes one Ref a line so the inventory reads well with
// kubectl get -o yaml and diffs line by line.
func encodeRefs(refs []Ref) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range refs {
		if i > 0 {
			b.WriteString(",")
		}
		line, _ := json.Marshal(r) // a struct of strings always encodes
		b.WriteString("\n")
		b.Write(line)
	}
	b.WriteString("\n]\n")
	return b.String()
}
