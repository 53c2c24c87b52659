package kubeapply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func clusterRole(t *testing.T, name string) *unstructured.Unstructured {
	return obj(t, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: "+name+"\nrules: []\n")
}

func TestFailedApplyKeepsInventoryComplete(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	ns := namespaceObj(t, "midway-ns")
	old := configMap(t, "midway-ns", "old", "1")
	if _, err := a.Apply(t.Context(), Set{Name: "midway", Objects: []*unstructured.Unstructured{ns, old}}); err != nil {
		t.Fatal(err)
	}

	// The second set drops "old" and adds a ClusterRole, a ConfigMap and a
	// Deployment without containers, which the API server refuses. The
	// cluster-scoped stage is written before the namespaced one fails.
	role := clusterRole(t, "midway-reader")
	fresh := configMap(t, "midway-ns", "fresh", "1")
	bad := deployment(t, "midway-ns", "bad")
	unstructured.RemoveNestedField(bad.Object, "spec", "template", "spec", "containers")
	_, err := a.Apply(t.Context(), Set{Name: "midway", Objects: []*unstructured.Unstructured{ns, role, fresh, bad}})
	if err == nil {
		t.Fatal("apply with an invalid Deployment succeeded")
	}
	for _, want := range []string{"addon midway", "Deployment.apps midway-ns/bad"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if c.fetch(t, RefOf(role)) == nil {
		t.Fatalf("%s not written: the failure did not happen midway", RefOf(role))
	}
	if c.fetch(t, RefOf(old)) == nil {
		t.Errorf("%s pruned by an apply that failed", RefOf(old))
	}
	sameRefs(t, "inventory after the failure", c.inventoryRefs(t, "midway"), refs(ns, old, role, fresh, bad))

	// The next good apply prunes what neither it nor the first renders.
	res, err := a.Apply(t.Context(), Set{Name: "midway", Objects: []*unstructured.Unstructured{ns, fresh}})
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "pruned", res.Pruned, refs(old, role, bad))
	for _, o := range []*unstructured.Unstructured{old, role} {
		if !c.gone(t, RefOf(o)) {
			t.Errorf("%s not pruned", RefOf(o))
		}
	}
	sameRefs(t, "inventory", c.inventoryRefs(t, "midway"), refs(ns, fresh))
}

func TestInventoriesAreIndependent(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	set := func(addon string, objs ...*unstructured.Unstructured) Set {
		return Set{Name: addon, Objects: objs}
	}
	// Same ConfigMap name in each addon's namespace.
	alpha := []*unstructured.Unstructured{namespaceObj(t, "alpha-ns"), configMap(t, "alpha-ns", "config", "a")}
	beta := []*unstructured.Unstructured{namespaceObj(t, "beta-ns"), configMap(t, "beta-ns", "config", "b")}
	if _, err := a.Apply(t.Context(), set("alpha", alpha...)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(t.Context(), set("beta", beta...)); err != nil {
		t.Fatal(err)
	}
	betaVersions := c.versions(t, append(refs(beta...), inventoryRef("beta")))

	// alpha drops its ConfigMap: beta's of the same name stays.
	res, err := a.Apply(t.Context(), set("alpha", alpha[0]))
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "alpha pruned", res.Pruned, refs(alpha[1]))
	if !c.gone(t, RefOf(alpha[1])) {
		t.Errorf("%s not pruned", RefOf(alpha[1]))
	}

	// An object alpha applied and beta then took over is beta's: alpha
	// dropping it leaves it in place.
	shared := configMap(t, "default", "handed-over", "a")
	if _, err := a.Apply(t.Context(), set("alpha", alpha[0], shared)); err != nil {
		t.Fatal(err)
	}
	taken := configMap(t, "default", "handed-over", "b")
	if _, err := a.Apply(t.Context(), set("beta", append(beta, taken)...)); err != nil {
		t.Fatal(err)
	}
	betaVersions = c.versions(t, append(refs(beta...), inventoryRef("beta")))
	if _, err := a.Apply(t.Context(), set("alpha", alpha[0])); err != nil {
		t.Fatal(err)
	}
	if o := c.fetch(t, RefOf(taken)); o == nil || o.GetLabels()[Label] != "beta" {
		t.Errorf("alpha's prune removed or changed the object beta took over: %v", o)
	}

	// Switching alpha off touches nothing of beta's.
	if _, err := a.Delete(t.Context(), "alpha"); err != nil {
		t.Fatal(err)
	}
	if !c.gone(t, RefOf(alpha[0])) {
		t.Errorf("%s not deleted", RefOf(alpha[0]))
	}
	after := c.versions(t, append(refs(beta...), inventoryRef("beta")))
	for r, v := range betaVersions {
		if after[r] != v {
			t.Errorf("beta's %s changed (resourceVersion %s -> %s) by alpha's prune and Delete", r, v, after[r])
		}
	}
	sameRefs(t, "beta inventory", c.inventoryRefs(t, "beta"), refs(append(beta, taken)...))
}
