package addons

import (
	"fmt"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// Phase says when an addon can be installed.
type Phase int

const (
	// PhaseEarly addons are needed for nodes to become Ready and initialised
	// (CNI, cloud controller managers and the Secret they read), so they are
	// installed as soon as the API server answers.
	PhaseEarly Phase = iota
	// PhaseLate addons need Ready nodes to schedule on.
	PhaseLate
)

func (p Phase) String() string {
	if p == PhaseEarly {
		return "early"
	}
	return "late"
}

// Chart is the Helm chart an addon renders and the release it renders as.
type Chart struct {
	Repository string // https:// chart repository or oci:// registry
	Name       string
	Version    string
	Release    string
	Namespace  string
	// NoHooks renders without the chart's hooks (the module's
	// disable_webhooks), for charts whose hooks must not run at install.
	NoHooks bool
}

// Object is a plain Kubernetes object, as the YAML it would be written as.
type Object = map[string]any

// Result is what one addon contributes to the cluster.
type Result struct {
	// Name is the module's inline-manifest name of the addon.
	Name  string
	Phase Phase
	// Chart is nil for addons made only of plain objects.
	Chart *Chart
	// Values are the chart values, the user's values already merged in.
	Values map[string]any
	// Objects are the plain objects, in the module's order.
	Objects []Object
	// Manifests are URLs of manifests to download and apply (the CRD
	// bundles, talos.extraRemoteManifests), after Objects.
	Manifests []string
	// ObjectsAfterChart: the module puts the chart's output before Objects
	// (only the cluster autoscaler, whose config Secret follows the chart).
	ObjectsAfterChart bool
}

// Addon is one entry of the registry.
type Addon struct {
	Name    string
	Phase   Phase
	Enabled func(c *config.Cluster) bool
	// render computes the module's values and objects, without the user's
	// values; Render merges them.
	render func(c *config.Cluster, in Inputs) (Result, error)
	// chart returns the cluster file's entry of a chart addon (its switch,
	// chart pin and user values); nil for addons of plain objects only.
	chart func(c *config.Cluster) *config.Addon
	// key is the cluster-file path of the addon, for error messages.
	key string
}

// Render computes the addon's chart values and objects for c. It does not
// check Enabled: a disabled addon renders as it would if it were enabled,
// except where the module refuses (ingress-nginx without its
// acknowledgement).
func (a Addon) Render(c *config.Cluster, in Inputs) (Result, error) {
	r, err := a.render(c, in)
	if err != nil {
		return Result{}, fmt.Errorf("%s (%s): %w", a.Name, a.key, err)
	}
	r.Name, r.Phase = a.Name, a.Phase
	if r.Chart != nil && a.chart != nil {
		r.Values = MergeValues(r.Values, a.chart(c).Values)
	}
	return r, nil
}

// RenderEnabled renders every enabled addon in the module's order.
func RenderEnabled(c *config.Cluster, in Inputs) ([]Result, error) {
	var out []Result
	for _, a := range Registry() {
		if !a.Enabled(c) {
			continue
		}
		r, err := a.Render(c, in)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// chartFrom turns the cluster file's chart pin into a Chart with the module's
// release name and namespace.
func chartFrom(ch config.Chart, release, namespace string) *Chart {
	return &Chart{Repository: ch.Repository, Name: ch.Name, Version: ch.Version, Release: release, Namespace: namespace}
}

// ChartPin is the chart the cluster file pins for the addon, as
// name@version; "" for addons of plain objects.
func (a Addon) ChartPin(c *config.Cluster) string {
	if a.chart == nil {
		return ""
	}
	ch := a.chart(c).Chart
	return ch.Name + "@" + ch.Version
}
