package kubeapply

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Phase is a Helm hook's helm.sh/hook value.
type Phase string

// The phases Apply runs. Install phases run while the addon has never been
// applied completely, upgrade phases on every later apply that changes
// something. The others (delete, rollback, test) are never run: see
// docs/kubeapply.md.
const (
	PreInstall  Phase = "pre-install"
	PostInstall Phase = "post-install"
	PreUpgrade  Phase = "pre-upgrade"
	PostUpgrade Phase = "post-upgrade"
	PreDelete   Phase = "pre-delete"
	PostDelete  Phase = "post-delete"
	Test        Phase = "test"
)

// DeletePolicy is a Helm hook's helm.sh/hook-delete-policy value.
type DeletePolicy string

const (
	// BeforeHookCreation deletes the previous run's object before the hook
	// runs again. Helm applies it when a hook names no policy.
	BeforeHookCreation DeletePolicy = "before-hook-creation"
	// HookSucceeded deletes the object once the hook finished successfully.
	HookSucceeded DeletePolicy = "hook-succeeded"
	// HookFailed deletes the object when the hook failed.
	HookFailed DeletePolicy = "hook-failed"
)

// Helm's hook annotations.
const (
	AnnotationHook         = "helm.sh/hook"
	AnnotationHookWeight   = "helm.sh/hook-weight"
	AnnotationDeletePolicy = "helm.sh/hook-delete-policy"
)

// Hook is one Helm hook object.
type Hook struct {
	Phases         []Phase
	Weight         int
	DeletePolicies []DeletePolicy
	Object         *unstructured.Unstructured
}

// ParseHook reads obj's Helm hook annotations. ok is false when obj is no
// hook (no helm.sh/hook annotation).
func ParseHook(obj *unstructured.Unstructured) (h Hook, ok bool, err error) {
	ann := obj.GetAnnotations()
	phases, found := ann[AnnotationHook]
	if !found {
		return Hook{}, false, nil
	}
	h.Object = obj
	for _, p := range splitList(phases) {
		h.Phases = append(h.Phases, Phase(p))
	}
	if w := strings.TrimSpace(ann[AnnotationHookWeight]); w != "" {
		if h.Weight, err = strconv.Atoi(w); err != nil {
			return Hook{}, true, fmt.Errorf("%s: %s %q is no integer", RefOf(obj), AnnotationHookWeight, w)
		}
	}
	for _, p := range splitList(ann[AnnotationDeletePolicy]) {
		h.DeletePolicies = append(h.DeletePolicies, DeletePolicy(p))
	}
	return h, true, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (h Hook) has(p Phase) bool { return slices.Contains(h.Phases, p) }

// isTest reports a test hook; "test-success" is Helm 2's name for it.
func (h Hook) isTest() bool { return h.has(Test) || h.has("test-success") }

// runs reports whether Apply ever runs the hook.
func (h Hook) runs() bool {
	return h.has(PreInstall) || h.has(PostInstall) || h.has(PreUpgrade) || h.has(PostUpgrade)
}

// deletes reports whether the hook has policy p, taking Helm's default
// (before-hook-creation when none is given) into account.
func (h Hook) deletes(p DeletePolicy) bool {
	if len(h.DeletePolicies) == 0 {
		return p == BeforeHookCreation
	}
	return slices.Contains(h.DeletePolicies, p)
}

// hooksFor returns the hooks of phase p in the order Helm runs them: by
// weight, then by kind in install order, then by name.
func hooksFor(hooks []Hook, p Phase) []Hook {
	var out []Hook
	for _, h := range hooks {
		if h.has(p) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b Hook) int {
		if c := cmp.Compare(a.Weight, b.Weight); c != 0 {
			return c
		}
		ak, bk := a.Object.GroupVersionKind().GroupKind(), b.Object.GroupVersionKind().GroupKind()
		switch {
		case ssa.IsLessThan(ak, bk):
			return -1
		case ssa.IsLessThan(bk, ak):
			return 1
		}
		return cmp.Compare(a.Object.GetName(), b.Object.GetName())
	})
	return out
}
