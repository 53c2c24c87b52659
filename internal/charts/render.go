package charts

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
)

// RenderOptions describe the cluster a chart is rendered for.
type RenderOptions struct {
	// KubeVersion is the cluster's Kubernetes version, e.g. "v1.35.0":
	// .Capabilities.KubeVersion and the chart's kubeVersion constraint
	// see it.
	KubeVersion string
	// APIVersions the cluster will serve beyond the built-in Kubernetes
	// ones, which are always there: "group/version" or
	// "group/version/Kind", e.g. "monitoring.coreos.com/v1/ServiceMonitor"
	// once the Prometheus operator's CRDs are installed. APIVersionsOf
	// turns CRDs into this form.
	APIVersions []string
}

// Rendered is a chart's output, parsed and in a stable order.
type Rendered struct {
	// CRDs are the crds/ files of the chart and of its enabled subcharts,
	// and any CustomResourceDefinition among the templates, by name: they
	// must be established before the objects that use them.
	CRDs []*unstructured.Unstructured
	// Hooks are in the order Helm runs them; test hooks are dropped, and
	// with Release.NoHooks there are none.
	Hooks []Hook
	// Objects are the ordinary objects in Helm's install order.
	Objects []*unstructured.Unstructured
}

// Render renders c as release rel with values, for the cluster o, the way
// `helm template` does: client-only, so lookup finds nothing and no cluster
// is contacted. The values are checked against the chart's (and its
// subcharts') values.schema.json and the cluster's version against the
// chart's kubeVersion. Namespaces are left as the templates wrote them.
func Render(ctx context.Context, c *Chart, rel Release, values map[string]any, o RenderOptions) (*Rendered, error) {
	r, err := render(ctx, c.Archive, rel, values, o)
	if err != nil {
		return nil, c.Ref.errorf("render as release %s in namespace %s: %w", rel.Name, rel.Namespace, err)
	}
	return r, nil
}

func render(ctx context.Context, archive []byte, rel Release, values map[string]any, o RenderOptions) (*Rendered, error) {
	// Helm refuses such a name at install; so do we, before rendering.
	if err := chartutil.ValidateReleaseName(rel.Name); err != nil {
		return nil, err
	}
	chrt, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArchive, err)
	}
	caps, err := capabilities(o)
	if err != nil {
		return nil, err
	}
	if kv := chrt.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("%w: the chart requires kubeVersion %s, the cluster runs %s", ErrKubeVersion, kv, caps.KubeVersion.Version)
	}

	// What follows is Helm's install in client-only mode (pkg/action in
	// helm.sh/helm/v4), without the release storage and kube client it
	// brings along.
	// Helm writes into the map it is given (defaults, imported subchart
	// values); merging with nothing is a deep copy, so the caller's stays its.
	vals := addons.MergeValues(values, nil)
	// Drops disabled subcharts (conditions, tags) and imports values.
	if err := chartutil.ProcessDependencies(chrt, vals); err != nil {
		return nil, fmt.Errorf("chart dependencies: %w", err)
	}
	top, err := util.ToRenderValuesWithSchemaValidation(chrt, vals, common.ReleaseOptions{
		Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true,
	}, caps, true)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	// Validated here rather than by the call above so that the failure can
	// be told apart from others.
	if coalesced, ok := top["Values"].(common.Values); ok {
		if err := util.ValidateAgainstSchema(chrt, coalesced); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalidValues, oneLine(err.Error()))
		}
	}
	// The zero Engine has no cluster: lookup returns an empty map.
	var e engine.Engine
	files, err := e.RenderWithContext(ctx, chrt, top)
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "/NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, caps.APIVersions, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}

	out := &Rendered{}
	// After ProcessDependencies the chart's dependencies are only the
	// enabled subcharts, so a disabled subchart's CRDs are left out, as
	// Helm does.
	for _, crd := range chrt.CRDObjects() {
		objs, err := parseObjects(crd.File.Data, crd.Filename)
		if err != nil {
			return nil, err
		}
		out.CRDs = append(out.CRDs, objs...)
	}
	for _, m := range manifests {
		objs, err := parseObjects([]byte(m.Content), m.Name)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if isCRD(obj) {
				out.CRDs = append(out.CRDs, obj)
			} else {
				out.Objects = append(out.Objects, obj)
			}
		}
	}
	sortByName(out.CRDs)
	sortInstallOrder(out.Objects)
	if !rel.NoHooks {
		if out.Hooks, err = orderHooks(hooks); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// oneLine folds Helm's schema report ("chart:\n- at 'path': problem\n...",
// a plain string with no error inside to keep) into one line of an error
// message: "chart: at 'path': problem; at ...".
func oneLine(report string) string {
	var b strings.Builder
	prev := ""
	for _, line := range strings.Split(report, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(prev, ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
		prev = line
	}
	return b.String()
}
