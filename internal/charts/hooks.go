package charts

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Hook is one hook object for one event. A hook of several events (e.g.
// pre-install,pre-upgrade) comes back once for each.
type Hook struct {
	Event  string // "pre-install", "post-install", ...
	Weight int
	// DeletePolicies are the helm.sh/hook-delete-policy values, e.g.
	// "before-hook-creation", "hook-succeeded".
	DeletePolicies []string
	Object         *unstructured.Unstructured
}

// hookEvents is the order of the events. Test hooks are never applied by
// hcloud-k8s, so they are not here and are dropped.
var hookEvents = []release.HookEvent{
	release.HookPreInstall, release.HookPostInstall,
	release.HookPreUpgrade, release.HookPostUpgrade,
	release.HookPreRollback, release.HookPostRollback,
	release.HookPreDelete, release.HookPostDelete,
}

// orderHooks parses the hooks and orders them as Helm runs them: by event,
// then weight, then kind install order, then name.
func orderHooks(hooks []*release.Hook) ([]Hook, error) {
	var out []Hook
	for _, h := range hooks {
		objs, err := parseObjects([]byte(h.Manifest), "hook "+h.Path)
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			continue
		}
		if len(objs) > 1 {
			return nil, fmt.Errorf("hook %s: %d objects in one hook document", h.Path, len(objs))
		}
		var policies []string
		for _, p := range h.DeletePolicies {
			policies = append(policies, string(p))
		}
		for _, ev := range h.Events {
			if !slices.Contains(hookEvents, ev) {
				continue
			}
			out = append(out, Hook{Event: string(ev), Weight: h.Weight, DeletePolicies: policies, Object: objs[0]})
		}
	}
	slices.SortStableFunc(out, func(a, b Hook) int {
		return cmp.Or(
			cmp.Compare(slices.Index(hookEvents, release.HookEvent(a.Event)), slices.Index(hookEvents, release.HookEvent(b.Event))),
			cmp.Compare(a.Weight, b.Weight),
			compareInstallOrder(a.Object, b.Object),
		)
	})
	return out, nil
}

// HooksOf returns the hooks of one event, in order.
func HooksOf(hooks []Hook, event string) []Hook {
	var out []Hook
	for _, h := range hooks {
		if strings.EqualFold(h.Event, event) {
			out = append(out, h)
		}
	}
	return out
}
