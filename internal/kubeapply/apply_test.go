package kubeapply

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// basicSet is a CRD with one custom resource, a Namespace, a ConfigMap
// holding value and a Deployment, all named after addon. Objects lists the
// custom resource first, so only the applier's ordering puts it after its CRD.
func basicSet(t *testing.T, addon, value string) Set {
	group := addon + ".example.test"
	ns := addon + "-ns"
	return Set{
		Name:      addon,
		Namespace: ns,
		CRDs:      []*unstructured.Unstructured{crd(t, group)},
		Objects: []*unstructured.Unstructured{
			widget(t, group, ns, "w", 3),
			deployment(t, ns, "web"),
			configMap(t, ns, "settings", value),
			namespaceObj(t, ns),
		},
	}
}

func setRefs(s Set) []Ref { return append(refs(s.CRDs...), refs(s.Objects...)...) }

func TestFirstApplyCreatesInOrder(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	set := basicSet(t, "first", "v1")
	crdRef, crRef := RefOf(set.CRDs[0]), RefOf(set.Objects[0])

	// Watch the CRD from before the apply: the event that shows it
	// Established carries the resourceVersion it became so at. All objects
	// live in the one etcd, whose revisions only grow, so the custom
	// resource being created after that revision shows the order.
	w, err := c.dynamic.Resource(resource(crdRef)).Watch(t.Context(), metav1.ListOptions{FieldSelector: "metadata.name=" + crdRef.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	res, err := a.Apply(t.Context(), set)
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "created", res.Created, setRefs(set))
	if len(res.Configured)+len(res.Unchanged)+len(res.Pruned) > 0 {
		t.Errorf("first apply: %+v, want only created", res)
	}
	for _, r := range setRefs(set) {
		o := c.fetch(t, r)
		if o == nil {
			t.Fatalf("%s missing after apply", r)
		}
		if o.GetLabels()[Label] != "first" {
			t.Errorf("%s labels %v, want %s=first", r, o.GetLabels(), Label)
		}
		if mf := o.GetManagedFields(); len(mf) == 0 || mf[0].Manager != FieldManager || mf[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("%s managed fields %+v, want an Apply entry by %s", r, mf, FieldManager)
		}
	}
	sameRefs(t, "inventory", c.inventoryRefs(t, "first"), setRefs(set))

	established := ""
	for established == "" {
		ev, ok := <-w.ResultChan()
		if !ok {
			t.Fatal("CRD watch closed before the CRD showed Established")
		}
		if u, ok := ev.Object.(*unstructured.Unstructured); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) && hasCondition(u, "Established") {
			established = u.GetResourceVersion()
		}
	}
	cr := c.fetch(t, crRef)
	if !rvLess(established, cr.GetResourceVersion()) {
		t.Errorf("custom resource written at revision %s, CRD Established at %s: want the CR after", cr.GetResourceVersion(), established)
	}
}

// rvLess compares two resourceVersions of the same etcd as numbers.
func rvLess(a, b string) bool {
	return len(a) < len(b) || len(a) == len(b) && a < b
}

func TestReapplyChangesNothing(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	set := basicSet(t, "noop", "v1")
	if _, err := a.Apply(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	watched := append(setRefs(set), inventoryRef("noop"))
	before := c.versions(t, watched)

	res, err := a.Apply(t.Context(), basicSet(t, "noop", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Errorf("identical re-apply changed something: %+v", res)
	}
	sameRefs(t, "unchanged", res.Unchanged, setRefs(set))
	after := c.versions(t, watched)
	for _, r := range watched {
		if before[r] != after[r] {
			t.Errorf("%s resourceVersion %s -> %s on a no-op apply", r, before[r], after[r])
		}
	}
}

func TestChangeUpdatesOnlyThatObject(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	if _, err := a.Apply(t.Context(), basicSet(t, "change", "v1")); err != nil {
		t.Fatal(err)
	}
	set := basicSet(t, "change", "v2")
	cmRef := RefOf(set.Objects[2])
	watched := append(setRefs(set), inventoryRef("change"))
	before := c.versions(t, watched)

	res, err := a.Apply(t.Context(), set)
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "configured", res.Configured, []Ref{cmRef})
	if len(res.Created)+len(res.Pruned) > 0 {
		t.Errorf("result %+v, want only %s configured", res, cmRef)
	}
	after := c.versions(t, watched)
	for _, r := range watched {
		if changed := before[r] != after[r]; changed != (r == cmRef) {
			t.Errorf("%s resourceVersion %s -> %s (changed %v, want %v)", r, before[r], after[r], changed, r == cmRef)
		}
	}
	if v, _, _ := unstructured.NestedString(c.fetch(t, cmRef).Object, "data", "value"); v != "v2" {
		t.Errorf("ConfigMap value %q, want v2", v)
	}
}

func TestDroppedObjectIsPruned(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	if _, err := a.Apply(t.Context(), basicSet(t, "drop", "v1")); err != nil {
		t.Fatal(err)
	}
	set := basicSet(t, "drop", "v1")
	dropped := RefOf(set.Objects[1]) // the Deployment
	set.Objects = append(set.Objects[:1], set.Objects[2:]...)

	res, err := a.Apply(t.Context(), set)
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "pruned", res.Pruned, []Ref{dropped})
	if !c.gone(t, dropped) {
		t.Errorf("%s still exists after it was dropped from the set", dropped)
	}
	sameRefs(t, "inventory", c.inventoryRefs(t, "drop"), setRefs(set))
}

func TestDeleteRemovesAddon(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	set := basicSet(t, "gone", "v1")
	if _, err := a.Apply(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	res, err := a.Delete(t.Context(), "gone")
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "pruned", res.Pruned, setRefs(set))
	for _, r := range setRefs(set) {
		if !c.gone(t, r) {
			t.Errorf("%s still exists after Delete", r)
		}
	}
	if c.fetch(t, inventoryRef("gone")) != nil {
		t.Error("inventory still exists after Delete")
	}
	// Deleting an addon that is not there is no error.
	if res, err := a.Delete(t.Context(), "gone"); err != nil || res.Changed() {
		t.Errorf("second Delete: %+v, %v", res, err)
	}
}

func TestTestHooksAndBadNamesNeverReachTheCluster(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	test := configMap(t, "default", "chart-test", "x")
	test.SetAnnotations(map[string]string{AnnotationHook: "test"})
	res, err := a.Apply(t.Context(), Set{Name: "tests", Objects: []*unstructured.Unstructured{test}})
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "skipped", res.SkippedHooks, refs(test))
	if c.fetch(t, RefOf(test)) != nil {
		t.Error("test hook was created")
	}
	if _, err := a.Apply(t.Context(), Set{Name: "Not_A_Label"}); err == nil || !strings.Contains(err.Error(), "Not_A_Label") {
		t.Errorf("bad addon name: %v", err)
	}
}
