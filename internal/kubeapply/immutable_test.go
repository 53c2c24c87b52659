package kubeapply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func pvc(t *testing.T, class string) *unstructured.Unstructured {
	return obj(t, `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  storageClassName: `+class+`
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
}

func TestImmutableChangeRecreatesButNeverVolumes(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	job := plainJob(t, "default", "immutable-job")
	if _, err := a.Apply(t.Context(), Set{Name: "immutable", Objects: []*unstructured.Unstructured{job}}); err != nil {
		t.Fatal(err)
	}
	uid := c.fetch(t, RefOf(job)).GetUID()

	// A Job's pod template cannot change in place: the Job is recreated.
	changed := plainJob(t, "default", "immutable-job")
	containers, _, _ := unstructured.NestedSlice(changed.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["image"] = "registry.example.test/job:2"
	if err := unstructured.SetNestedSlice(changed.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	res, err := a.Apply(t.Context(), Set{Name: "immutable", Objects: []*unstructured.Unstructured{changed}})
	if err != nil {
		t.Fatal(err)
	}
	sameRefs(t, "created", res.Created, refs(job))
	if now := c.fetch(t, RefOf(job)); now == nil || now.GetUID() == uid {
		t.Errorf("Job not recreated (uid %s before, object now %v)", uid, now)
	}

	// A claim is never recreated: its data would go with it.
	if _, err := a.Apply(t.Context(), Set{Name: "immutable-volume", Objects: []*unstructured.Unstructured{pvc(t, "fast")}}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Apply(t.Context(), Set{Name: "immutable-volume", Objects: []*unstructured.Unstructured{pvc(t, "slow")}})
	if err == nil || !strings.Contains(err.Error(), "PersistentVolumeClaim default/data") || !strings.Contains(err.Error(), "addon immutable-volume") {
		t.Fatalf("immutable claim change: %v, want an error naming the addon and the claim", err)
	}
}
