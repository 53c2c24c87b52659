package kubeapply

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Ref names one object as the inventory records it. The API version is left
// out on purpose: an object outlives the version it was applied with, and
// pruning must still find it after the chart moved to a newer version, so the
// version is looked up from the server when the object is deleted.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// RefOf returns the Ref of obj.
func RefOf(obj *unstructured.Unstructured) Ref {
	gvk := obj.GroupVersionKind()
	return Ref{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// GroupKind returns the Ref's group and kind.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// String formats the Ref as "Kind namespace/name" ("Kind name" when
// cluster-scoped), the form every error of this package names objects by.
func (r Ref) String() string {
	kind := r.Kind
	if r.Group != "" {
		kind += "." + r.Group
	}
	if r.Namespace == "" {
		return kind + " " + r.Name
	}
	return kind + " " + r.Namespace + "/" + r.Name
}

func compareRefs(a, b Ref) int {
	return cmp.Or(
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// refSet is a set of Refs with a deterministic order when listed, so the
// inventory's content (and with it its resourceVersion) only changes when the
// set does.
type refSet map[Ref]struct{}

func newRefSet(refs ...Ref) refSet {
	s := make(refSet, len(refs))
	for _, r := range refs {
		s[r] = struct{}{}
	}
	return s
}

func (s refSet) has(r Ref) bool { _, ok := s[r]; return ok }

func (s refSet) sorted() []Ref {
	out := make([]Ref, 0, len(s))
	for r := range s {
		out = append(out, r)
	}
	slices.SortFunc(out, compareRefs)
	return out
}

// union returns the Refs in s or in other.
func (s refSet) union(other refSet) refSet {
	out := make(refSet, len(s)+len(other))
	for r := range s {
		out[r] = struct{}{}
	}
	for r := range other {
		out[r] = struct{}{}
	}
	return out
}

// minus returns the Refs in s but not in other.
func (s refSet) minus(other refSet) refSet {
	out := make(refSet)
	for r := range s {
		if !other.has(r) {
			out[r] = struct{}{}
		}
	}
	return out
}

func (s refSet) equal(other refSet) bool {
	return len(s) == len(other) && len(s.minus(other)) == 0
}
