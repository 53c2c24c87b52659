package simworld

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
)

// registerTalosServiceAccounts creates the talos.dev ServiceAccount CRD, as
// Talos does when machine.features.kubernetesTalosAPIAccess is on (the
// module turns it on for the Talos CCM and talos-backup, whose charts
// create such ServiceAccounts). Talos's controller that turns them into
// Secrets holding a talosconfig is not modelled: nothing in the world reads
// them.
func registerTalosServiceAccounts(ctx context.Context, api *kubesim.APIServer) error {
	rc, err := api.AdminClient()
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "serviceaccounts.talos.dev"},
		"spec": map[string]any{
			"group": "talos.dev",
			"scope": "Namespaced",
			"names": map[string]any{
				"kind": "ServiceAccount", "listKind": "ServiceAccountList",
				"plural": "serviceaccounts", "singular": "serviceaccount",
			},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":                                 "object",
					"x-kubernetes-preserve-unknown-fields": true,
				}},
				"subresources": map[string]any{"status": map[string]any{}},
			}},
		},
	}}
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	_, err = dc.Resource(gvr).Create(ctx, crd, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the talos.dev ServiceAccount CRD: %w", err)
	}
	return nil
}
