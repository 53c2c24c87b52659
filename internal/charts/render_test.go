package charts

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var demoRelease = Release{Name: "rel", Namespace: "demo-ns"}

func demoChart(t *testing.T) *Chart {
	t.Helper()
	return &Chart{Ref: Ref{Addon: "demo-addon", Repository: "https://charts.example.com", Name: "demo", Version: "1.2.3"}, Archive: demo(t, "1.2.3")}
}

func renderDemo(t *testing.T, values map[string]any, o RenderOptions) *Rendered {
	t.Helper()
	r, err := Render(context.Background(), demoChart(t), demoRelease, values, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ids lists objects as Kind/name, in their order.
func ids(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func find(t *testing.T, objs []*unstructured.Unstructured, id string) *unstructured.Unstructured {
	t.Helper()
	i := slices.Index(ids(objs), id)
	if i < 0 {
		t.Fatalf("no %s among %v", id, ids(objs))
	}
	return objs[i]
}

func TestRenderObjectsInInstallOrder(t *testing.T) {
	r := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	want := []string{
		// Within a kind by namespace, then name: rel-sub has none.
		"PodDisruptionBudget/rel-demo", "ConfigMap/rel-sub", "ConfigMap/rel-demo",
		"Service/rel-demo", "Deployment/rel-demo", "Widget/rel-demo",
	}
	if got := ids(r.Objects); !slices.Equal(got, want) {
		t.Errorf("objects %v, want %v", got, want)
	}
	again := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	if !reflect.DeepEqual(r, again) {
		t.Error("a second render differs from the first")
	}

	cm := find(t, r.Objects, "ConfigMap/rel-demo")
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data["kubeVersion"] != "v1.35.2" || data["existing"] != "absent" {
		t.Errorf("configmap data %v: want the cluster's version and lookup finding nothing", data)
	}
	if cm.GetNamespace() != "demo-ns" {
		t.Errorf("configmap namespace %q, want the release's", cm.GetNamespace())
	}
}

// Values reach the subchart, and its condition can switch it off, taking
// its objects and CRDs along.
func TestRenderSubchart(t *testing.T) {
	r := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	sub := find(t, r.Objects, "ConfigMap/rel-sub")
	if g, _, _ := unstructured.NestedString(sub.Object, "data", "greeting"); g != "hello from the parent" {
		t.Errorf("subchart greeting %q, want the parent's value", g)
	}
	off := renderDemo(t, map[string]any{"sub": map[string]any{"enabled": false}}, RenderOptions{KubeVersion: "v1.35.2"})
	if slices.Contains(ids(off.Objects), "ConfigMap/rel-sub") {
		t.Error("disabled subchart still rendered")
	}
	if got := ids(off.CRDs); !slices.Equal(got, []string{"CustomResourceDefinition/widgets.demo.example.com"}) {
		t.Errorf("CRDs with the subchart off: %v", got)
	}
}

func TestRenderSeparatesCRDsAndHooks(t *testing.T) {
	r := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	if got, want := ids(r.CRDs), []string{"CustomResourceDefinition/gadgets.sub.example.com", "CustomResourceDefinition/widgets.demo.example.com"}; !slices.Equal(got, want) {
		t.Errorf("CRDs %v, want %v", got, want)
	}
	type hook struct {
		event, id string
		weight    int
		policies  []string
	}
	var got []hook
	for _, h := range r.Hooks {
		got = append(got, hook{h.Event, h.Object.GetKind() + "/" + h.Object.GetName(), h.Weight, h.DeletePolicies})
	}
	policies := []string{"before-hook-creation", "hook-succeeded"}
	want := []hook{
		{"pre-install", "ConfigMap/rel-demo-migrate-config", -1, nil},
		{"pre-install", "Job/rel-demo-migrate", 5, policies},
		{"post-install", "Pod/rel-demo-announce", 0, nil},
		{"pre-upgrade", "Job/rel-demo-migrate", 5, policies},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hooks\n %v\nwant\n %v", got, want)
	}
	for _, id := range ids(r.Objects) {
		if id == "Job/rel-demo-migrate" || id == "Pod/rel-demo-test" || id == "Pod/rel-demo-announce" {
			t.Errorf("hook %s among the objects", id)
		}
	}
	if n := len(HooksOf(r.Hooks, "pre-install")); n != 2 {
		t.Errorf("%d pre-install hooks, want 2", n)
	}

	none, err := Render(context.Background(), demoChart(t), Release{Name: "rel", Namespace: "demo-ns", NoHooks: true}, nil, RenderOptions{KubeVersion: "v1.35.2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.Hooks) != 0 || !slices.Equal(ids(none.Objects), ids(r.Objects)) {
		t.Errorf("NoHooks: hooks %v, objects %v", none.Hooks, ids(none.Objects))
	}
}

// A chart that probes for the Prometheus operator's API renders its
// ServiceMonitor only when the cluster will serve it, and the built-in
// kinds are there as a cluster's discovery would list them.
func TestRenderAPIVersions(t *testing.T) {
	without := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	with := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2", APIVersions: []string{"monitoring.coreos.com/v1/ServiceMonitor"}})
	if slices.Contains(ids(without.Objects), "ServiceMonitor/rel-demo") {
		t.Error("ServiceMonitor rendered without its API")
	}
	if !slices.Contains(ids(with.Objects), "ServiceMonitor/rel-demo") {
		t.Errorf("no ServiceMonitor with its API: %v", ids(with.Objects))
	}
	if !slices.Contains(ids(without.Objects), "PodDisruptionBudget/rel-demo") {
		t.Error("policy/v1/PodDisruptionBudget is not among the built-in API versions")
	}

	caps, err := capabilities(RenderOptions{KubeVersion: "1.35.2", APIVersions: []string{"monitoring.coreos.com/v1/ServiceMonitor"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v1/ConfigMap", "apps/v1/Deployment", "apiextensions.k8s.io/v1/CustomResourceDefinition", "monitoring.coreos.com/v1"} {
		if !caps.APIVersions.Has(v) {
			t.Errorf("API versions lack %s", v)
		}
	}
	for _, v := range []string{"v1/ConfigMapList", "v1/DeleteOptions", "apps/v1/WatchEvent"} {
		if caps.APIVersions.Has(v) {
			t.Errorf("API versions have %s, which no cluster serves as a resource", v)
		}
	}
}

func TestAPIVersionsOfCRDs(t *testing.T) {
	r := renderDemo(t, nil, RenderOptions{KubeVersion: "v1.35.2"})
	want := []string{
		"demo.example.com/v1", "demo.example.com/v1/Widget",
		"sub.example.com/v1", "sub.example.com/v1/Gadget",
		"sub.example.com/v1beta1", "sub.example.com/v1beta1/Gadget",
	}
	if got := APIVersionsOf(r.CRDs); !slices.Equal(got, want) {
		t.Errorf("APIVersionsOf %v, want %v", got, want)
	}
}

func TestRenderSchemaRejectsUnknownKey(t *testing.T) {
	c := demoChart(t)
	_, err := Render(context.Background(), c, demoRelease, map[string]any{"replicaz": 3}, RenderOptions{KubeVersion: "v1.35.2"})
	wantError(t, err, ErrInvalidValues, c.Ref, "replicaz")

	_, err = Render(context.Background(), c, demoRelease, map[string]any{"monitoring": map[string]any{"enabled": "yes"}}, RenderOptions{KubeVersion: "v1.35.2"})
	wantError(t, err, ErrInvalidValues, c.Ref, "/monitoring/enabled")

	// The subchart's own schema holds too.
	_, err = Render(context.Background(), c, demoRelease, map[string]any{"sub": map[string]any{"greeting": 5}}, RenderOptions{KubeVersion: "v1.35.2"})
	wantError(t, err, ErrInvalidValues, c.Ref, "sub: at '/greeting'")
}

func TestRenderKubeVersionConstraint(t *testing.T) {
	c := demoChart(t)
	_, err := Render(context.Background(), c, demoRelease, nil, RenderOptions{KubeVersion: "v1.29.9"})
	wantError(t, err, ErrKubeVersion, c.Ref, ">=1.30.0-0", "v1.29.9")

	_, err = Render(context.Background(), c, demoRelease, nil, RenderOptions{KubeVersion: "not a version"})
	if err == nil {
		t.Error("a malformed Kubernetes version was accepted")
	}
}

func TestRenderRefusesBadReleaseName(t *testing.T) {
	c := demoChart(t)
	if _, err := Render(context.Background(), c, Release{Name: "Not_A_Name", Namespace: "x"}, nil, RenderOptions{KubeVersion: "v1.35.2"}); err == nil {
		t.Error("release name Not_A_Name accepted")
	}
}

func TestRenderLeavesCallerValuesAlone(t *testing.T) {
	values := map[string]any{"sub": map[string]any{"greeting": "mine"}}
	renderDemo(t, values, RenderOptions{KubeVersion: "v1.35.2"})
	want := map[string]any{"sub": map[string]any{"greeting": "mine"}}
	if !reflect.DeepEqual(values, want) {
		t.Errorf("values became %v", values)
	}
}

func TestForAddon(t *testing.T) {
	// Built from the registry's own types, so a change there shows here.
	ref, rel, err := ForAddon(addonsResult())
	if err != nil {
		t.Fatal(err)
	}
	if ref.String() != "oci://ghcr.io/siderolabs/charts/talos-cloud-controller-manager@0.5.5" || ref.Addon != "talos-ccm" {
		t.Errorf("ref %+v", ref)
	}
	if rel != (Release{Name: "talos-cloud-controller-manager", Namespace: "kube-system"}) {
		t.Errorf("release %+v", rel)
	}
}
