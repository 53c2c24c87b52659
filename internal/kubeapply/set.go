package kubeapply

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Set is everything one addon renders, applied and pruned as a unit.
type Set struct {
	// Name is the addon's name (a DNS label, e.g. "cilium"). It names the
	// inventory and the label every applied object carries.
	Name string
	// Namespace is given to namespaced objects that have none, as Helm does
	// with the release namespace. Cluster-scoped objects lose theirs.
	Namespace string
	// CRDs are applied first and must be Established before anything else.
	// A CustomResourceDefinition found among Objects is treated the same.
	CRDs []*unstructured.Unstructured
	// Objects are the addon's manifests. An object annotated helm.sh/hook is
	// taken as a hook (see ParseHook), whatever its kind.
	Objects []*unstructured.Unstructured
	// Hooks are Helm hooks already separated by the renderer.
	Hooks []Hook
	// Version is what the set was rendered from (a chart version), recorded
	// in the inventory for status; "" for sets of plain objects.
	Version string
}

// Label is set on every object Apply writes, naming the addon it belongs
// to. Pruning and Delete only remove objects that still carry the addon's
// value, so an object another addon took over is never removed by the
// first one.
const (
	labelDomain = "hcloud-k8s.io"
	Label       = labelDomain + "/addon"
)
