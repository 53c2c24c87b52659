package charts

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// capabilities is what .Capabilities holds when rendering for o.
func capabilities(o RenderOptions) (*common.Capabilities, error) {
	kv, err := common.ParseKubeVersion(o.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", o.KubeVersion, err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	caps.APIVersions = apiVersions(caps.APIVersions, builtinKinds(scheme.Scheme), o.APIVersions)
	return caps, nil
}

// apiVersions is the set a cluster's discovery would give Helm: every
// "group/version" and every "group/version/Kind". Helm's default set for
// client-only rendering has only the former for the built-in APIs; the
// kinds are added so that a chart asking for, say,
// "policy/v1/PodDisruptionBudget" renders as it would against the cluster.
// A "group/version/Kind" the caller gives brings its "group/version".
func apiVersions(sets ...[]string) common.VersionSet {
	var all []string
	for _, set := range sets {
		for _, v := range set {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			all = append(all, v)
			if gv, ok := groupVersionOf(v); ok {
				all = append(all, gv)
			}
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// groupVersionOf returns "group/version" of "group/version/Kind"; a
// core-group "v1/Kind" is "v1". ok is false when v has no kind.
func groupVersionOf(v string) (string, bool) {
	parts := strings.Split(v, "/")
	last := parts[len(parts)-1]
	if len(parts) < 2 || last == "" || last[0] < 'A' || last[0] > 'Z' {
		return "", false
	}
	return strings.Join(parts[:len(parts)-1], "/"), true
}

// builtinKinds lists "group/version/Kind" for the object types of s:
// those with metadata of their own, which leaves out lists and request
// options, as discovery does.
func builtinKinds(s *runtime.Scheme) []string {
	objectMeta := reflect.TypeFor[metav1.ObjectMeta]()
	var out []string
	for gvk, t := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || t.Kind() != reflect.Struct {
			continue
		}
		if f, ok := t.FieldByName("ObjectMeta"); !ok || f.Type != objectMeta {
			continue
		}
		out = append(out, gvk.GroupVersion().String()+"/"+gvk.Kind)
	}
	return out
}

// APIVersionsOf returns what the CRDs make the cluster serve, in the form
// RenderOptions.APIVersions takes: "group/version" and
// "group/version/Kind" for every served version. A caller renders a chart
// that probes for another addon's API with that addon's CRDs passed here.
func APIVersionsOf(crds []*unstructured.Unstructured) []string {
	var out []string
	for _, crd := range crds {
		if !isCRD(crd) {
			continue
		}
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			name, _ := m["name"].(string)
			if served, ok := m["served"].(bool); name == "" || (ok && !served) {
				continue
			}
			gv := group + "/" + name
			out = append(out, gv, gv+"/"+kind)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
