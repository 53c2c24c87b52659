package kubeapply

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var (
	jobKind       = schema.GroupKind{Group: "batch", Kind: "Job"}
	podKind       = schema.GroupKind{Kind: "Pod"}
	namespaceKind = schema.GroupKind{Kind: "Namespace"}
)

// stub returns an object that only names ref, at the version the API server
// prefers for its kind. gone is true when the server no longer serves the
// kind (its CRD was deleted), so no such object can exist.
func (a *Applier) stub(ref Ref) (obj *unstructured.Unstructured, gone bool, err error) {
	m, err := a.mapper.RESTMapping(ref.GroupKind())
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, true, nil
		}
		return nil, false, err
	}
	obj = &unstructured.Unstructured{}
	obj.SetGroupVersionKind(m.GroupVersionKind)
	obj.SetNamespace(ref.Namespace)
	obj.SetName(ref.Name)
	return obj, false, nil
}

// get reads ref's object from the cluster.
func (a *Applier) get(ctx context.Context, ref Ref) (*unstructured.Unstructured, error) {
	obj, gone, err := a.stub(ref)
	if err != nil {
		return nil, err
	}
	if gone {
		return nil, &meta.NoKindMatchError{GroupKind: ref.GroupKind()}
	}
	if err := a.client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return nil, err
	}
	return obj, nil
}
