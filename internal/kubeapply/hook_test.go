package kubeapply

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

func hookConfigMap(t *testing.T, namespace, name, phases string, weight int, policy string) *unstructured.Unstructured {
	o := configMap(t, namespace, name, "hook")
	ann := map[string]string{AnnotationHook: phases, AnnotationHookWeight: fmt.Sprint(weight)}
	if policy != "" {
		ann[AnnotationDeletePolicy] = policy
	}
	o.SetAnnotations(ann)
	return o
}

// configMapEvents watches the ConfigMaps of one namespace. Events on one
// resource arrive in the order etcd wrote them, which is what the hook
// tests assert on.
type configMapEvents struct {
	t *testing.T
	c *cluster
	w watch.Interface
}

func (c *cluster) watchConfigMaps(t *testing.T, namespace string) *configMapEvents {
	w, err := c.kube.CoreV1().ConfigMaps(namespace).Watch(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return &configMapEvents{t: t, c: c, w: w}
}

// until writes a marker ConfigMap and returns the events before its own, as
// "ADDED name" lines: everything written since the last call, with no sleep
// spent guessing when nothing more will come.
func (e *configMapEvents) until(namespace string) []string {
	e.t.Helper()
	m := configMap(e.t, namespace, "", "m")
	m.SetGenerateName("marker-")
	created, err := e.c.dynamic.Resource(resource(Ref{Kind: "ConfigMap"})).Namespace(namespace).Create(e.t.Context(), m, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	marker := created.GetName()
	var got []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-e.w.ResultChan():
			if !ok {
				e.t.Fatal("ConfigMap watch closed")
			}
			m, ok := ev.Object.(metav1.Object)
			if !ok {
				e.t.Fatalf("watch event %s: %v", ev.Type, ev.Object)
			}
			if m.GetName() == marker {
				return got
			}
			got = append(got, string(ev.Type)+" "+m.GetName())
		case <-timeout:
			e.t.Fatalf("marker %s not seen; events so far %v", marker, got)
		}
	}
}

func TestHooksRunInHelmOrder(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	const ns = "default"
	// The namespace is an existing one, so the watch can start before the
	// first apply; the ConfigMap names carry the addon's name to keep them
	// apart from other tests'.
	events := c.watchConfigMaps(t, ns)
	set := func(value string) Set {
		return Set{Name: "hooks", Namespace: ns, Objects: []*unstructured.Unstructured{
			hookConfigMap(t, "", "hooks-post", "post-install", 0, ""),
			configMap(t, "", "hooks-main", value),
			hookConfigMap(t, "", "hooks-pre-late", "pre-install", 5, ""),
			hookConfigMap(t, "", "hooks-migrate", "pre-install,pre-upgrade", 0, "hook-succeeded"),
			hookConfigMap(t, "", "hooks-pre-early", "pre-install", -1, "before-hook-creation"),
		}}
	}
	res, err := a.Apply(t.Context(), set("1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ADDED hooks-pre-early", "ADDED hooks-migrate", "DELETED hooks-migrate", "ADDED hooks-pre-late",
		"ADDED hooks-main", "ADDED hooks-post",
	}
	if got := events.until(ns); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("install: events\n %v\nwant\n %v", got, want)
	}
	if len(res.SkippedHooks) != 0 {
		t.Errorf("install skipped hooks %v", res.SkippedHooks)
	}

	// Nothing changed: no hook runs, nothing is written.
	res, err = a.Apply(t.Context(), set("1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := events.until(ns); len(got) != 0 {
		t.Errorf("no-op apply wrote %v", got)
	}
	if res.Changed() || len(res.SkippedHooks) != 4 {
		t.Errorf("no-op apply: %+v", res)
	}

	// A change is an upgrade: only the upgrade hook runs, before the change.
	if _, err := a.Apply(t.Context(), set("2")); err != nil {
		t.Fatal(err)
	}
	want = []string{"ADDED hooks-migrate", "DELETED hooks-migrate", "MODIFIED hooks-main"}
	if got := events.until(ns); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("upgrade: events\n %v\nwant\n %v", got, want)
	}

	// Hooks are in the inventory, so switching the addon off removes them.
	if _, err := a.Delete(t.Context(), "hooks"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hooks-pre-early", "hooks-pre-late", "hooks-main", "hooks-post"} {
		if !c.gone(t, Ref{Kind: "ConfigMap", Namespace: ns, Name: name}) {
			t.Errorf("%s left after Delete", name)
		}
	}
}

func jobHook(t *testing.T, namespace, name, policy string) *unstructured.Unstructured {
	o := obj(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  namespace: %s
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-delete-policy: %s
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example.test/job:1
`, name, namespace, policy))
	return o
}

// finishJob writes the status the job controller would write when the Job
// ends (this world runs no controller-manager).
func (c *cluster) finishJob(t *testing.T, namespace, name string, succeeded bool) {
	t.Helper()
	job, err := c.kube.BatchV1().Jobs(namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	job.Status.StartTime = &now
	if succeeded {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &now
		job.Status.Conditions = append(job.Status.Conditions,
			jobCondition("SuccessCriteriaMet", now), jobCondition("Complete", now))
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = append(job.Status.Conditions,
			jobCondition("FailureTarget", now), jobCondition("Failed", now))
	}
	if _, err := c.kube.BatchV1().Jobs(namespace).UpdateStatus(t.Context(), job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// applyUntilJob starts applying set and returns once the hook Job exists:
// the apply is then waiting for the Job to finish. The channel receives
// Apply's error.
func (c *cluster) applyUntilJob(t *testing.T, a *Applier, set Set, namespace, job string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := a.Apply(t.Context(), set); done <- err }()
	testwait.Eventually(t, 30*time.Second, "hook Job created", func() error {
		_, err := c.kube.BatchV1().Jobs(namespace).Get(t.Context(), job, metav1.GetOptions{})
		return err
	})
	return done
}

func TestJobHookIsWaitedFor(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	const ns = "default"
	main := configMap(t, ns, "jobhook-main", "1")
	set := Set{Name: "jobhook", Objects: []*unstructured.Unstructured{jobHook(t, ns, "jobhook-migrate", "hook-succeeded"), main}}
	done := c.applyUntilJob(t, a, set, ns, "jobhook-migrate")
	if c.fetch(t, RefOf(main)) != nil {
		t.Fatal("main object applied while the pre-install Job runs")
	}
	c.finishJob(t, ns, "jobhook-migrate", true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.fetch(t, RefOf(main)) == nil {
		t.Error("main object missing after the hook completed")
	}
	if !c.gone(t, Ref{Group: "batch", Kind: "Job", Namespace: ns, Name: "jobhook-migrate"}) {
		t.Error("hook-succeeded Job not deleted")
	}
}

func TestFailedJobHookStopsApply(t *testing.T) {
	c := testCluster(t)
	a := c.applier(t)
	const ns = "default"
	main := configMap(t, ns, "failhook-main", "1")
	set := Set{Name: "failhook", Objects: []*unstructured.Unstructured{jobHook(t, ns, "failhook-migrate", "hook-failed"), main}}
	done := c.applyUntilJob(t, a, set, ns, "failhook-migrate")
	c.finishJob(t, ns, "failhook-migrate", false)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "addon failhook") || !strings.Contains(err.Error(), "Job.batch default/failhook-migrate") {
		t.Fatalf("apply error %v, want one naming the addon and the Job", err)
	}
	if c.fetch(t, RefOf(main)) != nil {
		t.Error("main object applied although its pre-install hook failed")
	}
	if !c.gone(t, Ref{Group: "batch", Kind: "Job", Namespace: ns, Name: "failhook-migrate"}) {
		t.Error("hook-failed Job not deleted")
	}
	sameRefs(t, "inventory", c.inventoryRefs(t, "failhook"), refs(set.Objects...))
}
