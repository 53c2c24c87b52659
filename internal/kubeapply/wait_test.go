package kubeapply

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func daemonSet(t *testing.T, namespace, name string) *unstructured.Unstructured {
	o := deployment(t, namespace, name)
	o.SetKind("DaemonSet")
	unstructured.RemoveNestedField(o.Object, "spec", "replicas")
	return o
}

func plainJob(t *testing.T, namespace, name string) *unstructured.Unstructured {
	o := jobHook(t, namespace, name, "")
	o.SetAnnotations(nil)
	return o
}

// setStatus writes status through the status subresource, standing in for
// the controllers this world does not run.
func (c *cluster) setStatus(t *testing.T, ref Ref, status map[string]any) {
	t.Helper()
	o := c.fetch(t, ref)
	status["observedGeneration"] = o.GetGeneration()
	o.Object["status"] = status
	if _, err := c.dynamic.Resource(resource(ref)).Namespace(ref.Namespace).UpdateStatus(t.Context(), o, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("status of %s: %v", ref, err)
	}
}

func TestWaitNamesWhatIsNotReady(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	const ns = "default"
	set := Set{Name: "ready", Namespace: ns,
		CRDs:    []*unstructured.Unstructured{crd(t, "ready.example.test")},
		Objects: []*unstructured.Unstructured{deployment(t, ns, "ready-web"), daemonSet(t, ns, "ready-agent"), plainJob(t, ns, "ready-job")},
	}
	res, err := a.Apply(t.Context(), set)
	if err != nil {
		t.Fatal(err)
	}
	deploy, ds, job := RefOf(set.Objects[0]), RefOf(set.Objects[1]), RefOf(set.Objects[2])

	// No controller has acted: only the CRD is ready.
	var seen []Progress
	err = a.Wait(t.Context(), res.Applied(), WaitOptions{Timeout: 300 * time.Millisecond, Progress: func(p Progress) { seen = append(seen, p) }})
	var nre *NotReadyError
	if !errors.As(err, &nre) || nre.Failed {
		t.Fatalf("Wait before any status: %v, want a timeout NotReadyError", err)
	}
	var pending []Ref
	for _, s := range nre.Pending {
		pending = append(pending, s.Ref)
	}
	sameRefs(t, "not ready", pending, []Ref{deploy, ds, job})
	for _, want := range []string{deploy.String(), ds.String(), job.String(), "Job not complete"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if len(seen) == 0 || seen[0].Ready != 1 || seen[0].Total != 4 {
		t.Errorf("progress %+v, want a first report of 1 of 4 ready", seen)
	}

	c.setStatus(t, deploy, map[string]any{
		"replicas": int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
		},
	})
	c.setStatus(t, ds, map[string]any{
		"desiredNumberScheduled": int64(1), "currentNumberScheduled": int64(1), "updatedNumberScheduled": int64(1),
		"numberAvailable": int64(1), "numberReady": int64(1), "numberMisscheduled": int64(0),
	})
	c.finishJob(t, ns, "ready-job", true)
	seen = nil
	if err := a.Wait(t.Context(), res.Applied(), WaitOptions{Timeout: 30 * time.Second, Progress: func(p Progress) { seen = append(seen, p) }}); err != nil {
		t.Fatal(err)
	}
	if last := seen[len(seen)-1]; last.Ready != 4 || len(last.Pending) != 0 {
		t.Errorf("last progress %+v, want 4 of 4 ready", last)
	}
}

func TestWaitFailsFastOnFailedJob(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	job := plainJob(t, "default", "doomed-job")
	if _, err := a.Apply(t.Context(), Set{Name: "doomed", Objects: []*unstructured.Unstructured{job}}); err != nil {
		t.Fatal(err)
	}
	c.finishJob(t, "default", "doomed-job", false)
	err := a.Wait(t.Context(), refs(job), WaitOptions{Timeout: time.Minute})
	var nre *NotReadyError
	if !errors.As(err, &nre) || !nre.Failed || !strings.Contains(err.Error(), RefOf(job).String()) {
		t.Fatalf("Wait on a failed Job: %v, want a failed NotReadyError naming it", err)
	}
}
