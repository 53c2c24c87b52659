package kubeapply

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// obj parses one YAML manifest.
func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatalf("manifest %q: %v", manifest, err)
	}
	return &unstructured.Unstructured{Object: m}
}

func namespaceObj(t *testing.T, name string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name))
}

func configMap(t *testing.T, namespace, name, value string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, namespace, value))
}

func deployment(t *testing.T, namespace, name string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: main
        image: registry.example.test/%[2]s:1
`, namespace, name))
}

// crd defines kind Widget (plural widgets) in group, namespaced.
func crd(t *testing.T, group string) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`, group))
}

func widget(t *testing.T, group, namespace, name string, size int) *unstructured.Unstructured {
	return obj(t, fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  size: %d\n", group, name, namespace, size))
}

// resource maps the kinds the tests use to their API resources.
func resource(ref Ref) schema.GroupVersionResource {
	switch ref.GroupKind() {
	case schema.GroupKind{Kind: "Namespace"}:
		return schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	case schema.GroupKind{Kind: "ConfigMap"}:
		return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		return schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	case schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:
		return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	case crdKind:
		return schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	case schema.GroupKind{Group: ref.Group, Kind: "Widget"}:
		return schema.GroupVersionResource{Group: ref.Group, Version: "v1", Resource: "widgets"}
	}
	panic("test resource for " + ref.String())
}

// fetch reads ref's object; nil when it does not exist.
func (c *cluster) fetch(t *testing.T, ref Ref) *unstructured.Unstructured {
	t.Helper()
	o, err := c.dynamic.Resource(resource(ref)).Namespace(ref.Namespace).Get(t.Context(), ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return o
}

// gone reports whether ref's object is gone or on its way out (a Namespace
// stays Terminating in this world: no controller-manager runs its
// finalizer).
func (c *cluster) gone(t *testing.T, ref Ref) bool {
	t.Helper()
	o := c.fetch(t, ref)
	return o == nil || o.GetDeletionTimestamp() != nil
}

// versions maps each ref to its object's resourceVersion.
func (c *cluster) versions(t *testing.T, refs []Ref) map[Ref]string {
	t.Helper()
	out := map[Ref]string{}
	for _, r := range refs {
		o := c.fetch(t, r)
		if o == nil {
			t.Fatalf("%s does not exist", r)
		}
		out[r] = o.GetResourceVersion()
	}
	return out
}

// inventoryRefs reads addon's inventory as the cluster holds it; nil when
// there is none.
func (c *cluster) inventoryRefs(t *testing.T, addon string) []Ref {
	t.Helper()
	cm := c.fetch(t, inventoryRef(addon))
	if cm == nil {
		return nil
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	var refs []Ref
	if err := yaml.Unmarshal([]byte(data[keyObjects]), &refs); err != nil {
		t.Fatal(err)
	}
	return refs
}

func inventoryRef(addon string) Ref {
	return Ref{Kind: "ConfigMap", Namespace: "kube-system", Name: InventoryName(addon)}
}

func refs(objs ...*unstructured.Unstructured) []Ref {
	out := make([]Ref, len(objs))
	for i, o := range objs {
		out[i] = RefOf(o)
	}
	return out
}

// sameRefs compares two Ref lists as sets.
func sameRefs(t *testing.T, what string, got, want []Ref) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.SortFunc(g, compareRefs)
	slices.SortFunc(w, compareRefs)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, refList(g), refList(w))
	}
}

func refList(refs []Ref) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func jobCondition(typ string, at metav1.Time) batchv1.JobCondition {
	return batchv1.JobCondition{Type: batchv1.JobConditionType(typ), Status: corev1.ConditionTrue, LastTransitionTime: at, LastProbeTime: at}
}
