package kubeapply

import (
	"encoding/json"
	"slices"
	"testing"
)

// These tests need no API server.

func TestParseHook(t *testing.T) {
	o := configMap(t, "ns", "h", "x")
	if _, ok, err := ParseHook(o); ok || err != nil {
		t.Fatalf("plain object taken as hook: %v %v", ok, err)
	}
	o.SetAnnotations(map[string]string{AnnotationHook: " pre-install, post-upgrade ", AnnotationHookWeight: "-3", AnnotationDeletePolicy: "hook-succeeded"})
	h, ok, err := ParseHook(o)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if !slices.Equal(h.Phases, []Phase{PreInstall, PostUpgrade}) || h.Weight != -3 || !h.deletes(HookSucceeded) || h.deletes(BeforeHookCreation) {
		t.Errorf("parsed %+v", h)
	}
	if !(Hook{}).deletes(BeforeHookCreation) {
		t.Error("a hook without policy is not deleted before it is created again, unlike Helm")
	}
	o.SetAnnotations(map[string]string{AnnotationHook: "pre-install", AnnotationHookWeight: "heavy"})
	if _, _, err := ParseHook(o); err == nil {
		t.Error("non-numeric weight accepted")
	}
}

func TestHooksForOrder(t *testing.T) {
	mk := func(kind, name string, weight int, phases ...Phase) Hook {
		o := configMap(t, "ns", name, "x")
		o.SetKind(kind)
		return Hook{Phases: phases, Weight: weight, Object: o}
	}
	hooks := []Hook{
		mk("Job", "b", 0, PreInstall),
		mk("ConfigMap", "z", 0, PreInstall),
		mk("Job", "a", 0, PreInstall),
		mk("Job", "first", -5, PreInstall, PreUpgrade),
		mk("Job", "upgrade-only", -9, PreUpgrade),
		mk("Job", "post", -9, PostInstall),
	}
	var got []string
	for _, h := range hooksFor(hooks, PreInstall) {
		got = append(got, h.Object.GetName())
	}
	// Weight, then kind in install order (ConfigMaps before Jobs), then name.
	if want := []string{"first", "z", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("pre-install order %v, want %v", got, want)
	}
}

func TestInventoryEncoding(t *testing.T) {
	refs := newRefSet(Ref{Kind: "ConfigMap", Namespace: "a", Name: "x"}, Ref{Group: "apps", Kind: "Deployment", Namespace: "a", Name: "y"}).sorted()
	var back []Ref
	if err := json.Unmarshal([]byte(encodeRefs(refs)), &back); err != nil || !slices.Equal(back, refs) {
		t.Fatalf("round trip %v -> %v (%v)", refs, back, err)
	}
	if err := json.Unmarshal([]byte(encodeRefs(nil)), &back); err != nil || len(back) != 0 {
		t.Fatalf("empty inventory: %v %v", back, err)
	}
	a := newRefSet(refs...)
	b := newRefSet(refs[0], Ref{Kind: "Secret", Name: "s", Namespace: "a"})
	if got := a.union(b); len(got) != 3 {
		t.Errorf("union %v", got.sorted())
	}
	if got := a.minus(b).sorted(); !slices.Equal(got, refs[1:]) {
		t.Errorf("minus %v", got)
	}
}

func TestReadinessRules(t *testing.T) {
	job := plainJob(t, "ns", "j")
	if st, _ := readiness(job); st != pending {
		t.Errorf("new Job: %v, want pending", st)
	}
	job.Object["status"] = map[string]any{"startTime": "2026-01-01T00:00:00Z", "active": int64(1)}
	if st, _ := readiness(job); st != pending {
		t.Errorf("running Job: %v, want pending (kstatus alone would say current)", st)
	}
	job.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}}
	if st, _ := readiness(job); st != ready {
		t.Errorf("complete Job: %v, want ready", st)
	}
	pod := obj(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nstatus: {phase: Failed}\n")
	if st, _ := hookReadiness(pod); st != failed {
		t.Errorf("failed hook Pod: %v, want failed", st)
	}
	if st, _ := hookReadiness(configMap(t, "ns", "c", "x")); st != ready {
		t.Errorf("ConfigMap hook: %v, want ready once created", st)
	}
}
