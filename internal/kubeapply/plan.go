package kubeapply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// plan is a Set sorted into the stages Apply runs, on copies of the
// caller's objects (namespace defaulted, addon label set).
type plan struct {
	crds, namespaces, cluster, namespaced []*unstructured.Unstructured
	hooks                                 []Hook
	// skipped are test hooks and hooks of phases Apply never runs.
	skipped []Ref
	// desired is every object the set may create, hooks included, so a hook
	// object left behind by an earlier run is not pruned while rendered.
	desired refSet
}

func (p *plan) main() []*unstructured.Unstructured {
	return append(append([]*unstructured.Unstructured{}, p.cluster...), p.namespaced...)
}

var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// plan checks and sorts set. It writes nothing, so a set that cannot be
// applied at all fails before the inventory or any object is touched.
func (a *Applier) plan(set Set) (*plan, error) {
	if errs := validation.IsDNS1123Label(set.Name); len(errs) > 0 {
		return nil, fmt.Errorf("kubeapply: addon name %q: %s", set.Name, strings.Join(errs, "; "))
	}
	p := &plan{desired: refSet{}}
	hooks := append([]Hook{}, set.Hooks...)
	var objects []*unstructured.Unstructured
	for _, obj := range append(append([]*unstructured.Unstructured{}, set.CRDs...), set.Objects...) {
		h, ok, err := ParseHook(obj)
		if err != nil {
			return nil, fmt.Errorf("addon %s: %w", set.Name, err)
		}
		if ok {
			hooks = append(hooks, h)
		} else {
			objects = append(objects, obj)
		}
	}
	scopes := crdScopes(append(append([]*unstructured.Unstructured{}, set.CRDs...), set.Objects...))

	for _, obj := range objects {
		obj, err := a.normalize(obj, set, scopes)
		if err != nil {
			return nil, err
		}
		if err := p.add(obj); err != nil {
			return nil, fmt.Errorf("addon %s: %w", set.Name, err)
		}
		switch gk := obj.GroupVersionKind().GroupKind(); {
		case gk == crdKind:
			p.crds = append(p.crds, obj)
		case gk == namespaceKind:
			p.namespaces = append(p.namespaces, obj)
		case obj.GetNamespace() == "":
			p.cluster = append(p.cluster, obj)
		default:
			p.namespaced = append(p.namespaced, obj)
		}
	}
	for _, h := range hooks {
		if h.Object == nil {
			return nil, fmt.Errorf("addon %s: hook with phases %v has no object", set.Name, h.Phases)
		}
		obj, err := a.normalize(h.Object, set, scopes)
		if err != nil {
			return nil, err
		}
		h.Object = obj
		if h.isTest() || !h.runs() {
			p.skipped = append(p.skipped, RefOf(obj))
			continue
		}
		if err := p.add(obj); err != nil {
			return nil, fmt.Errorf("addon %s: hook %w", set.Name, err)
		}
		p.hooks = append(p.hooks, h)
	}
	return p, nil
}

func (p *plan) add(obj *unstructured.Unstructured) error {
	r := RefOf(obj)
	if p.desired.has(r) {
		return fmt.Errorf("%s rendered twice", r)
	}
	p.desired[r] = struct{}{}
	return nil
}

// normalize returns a copy of obj carrying the addon label, with the set's
// namespace when obj is namespaced and names none, and without a namespace
// when obj is cluster-scoped (the API server would refuse or ignore it, and
// the inventory must record the object under the name it really has).
func (a *Applier) normalize(obj *unstructured.Unstructured, set Set, scopes map[schema.GroupKind]bool) (*unstructured.Unstructured, error) {
	obj = obj.DeepCopy()
	ref := RefOf(obj)
	if ref.Kind == "" || ref.Name == "" || obj.GetAPIVersion() == "" {
		return nil, fmt.Errorf("addon %s: %s: apiVersion, kind and metadata.name are required", set.Name, ref)
	}
	namespaced, err := a.namespaced(ref.GroupKind(), scopes)
	if err != nil {
		return nil, fmt.Errorf("addon %s: %s: %w", set.Name, ref, err)
	}
	switch {
	case !namespaced:
		obj.SetNamespace("")
	case obj.GetNamespace() == "" && set.Namespace == "":
		return nil, fmt.Errorf("addon %s: %s is namespaced but names no namespace and the set has none", set.Name, ref)
	case obj.GetNamespace() == "":
		obj.SetNamespace(set.Namespace)
	}
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[Label] = set.Name
	obj.SetLabels(labels)
	return obj, nil
}

// namespaced tells whether objects of gk live in a namespace: from a CRD of
// the same set when there is one (the API server does not know that kind
// yet on a first apply), else from the API server's discovery.
func (a *Applier) namespaced(gk schema.GroupKind, scopes map[schema.GroupKind]bool) (bool, error) {
	if ns, ok := scopes[gk]; ok {
		return ns, nil
	}
	m, err := a.mapper.RESTMapping(gk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return false, fmt.Errorf("kind unknown to the API server and defined by no CRD of the set: %w", err)
		}
		return false, fmt.Errorf("looking up the kind: %w", err)
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// crdScopes maps the kinds the CRDs among objs define to whether they are
// namespaced.
func crdScopes(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	scopes := map[schema.GroupKind]bool{}
	for _, obj := range objs {
		if obj.GroupVersionKind().GroupKind() != crdKind {
			continue
		}
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(obj.Object, "spec", "scope")
		scopes[schema.GroupKind{Group: group, Kind: kind}] = scope == "Namespaced"
	}
	return scopes
}
