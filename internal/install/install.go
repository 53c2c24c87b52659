package install

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
)

// Options are what Prepare needs.
type Options struct {
	Cluster *config.Cluster
	Inputs  addons.Inputs
	// Fetcher fetches the charts (through its cache and mirror).
	Fetcher *charts.Fetcher
	// Progress receives a line per addon and the waits' progress; nil
	// discards them.
	Progress io.Writer
}

// Unit is one rendered addon: what Apply gives kubeapply.
type Unit struct {
	Addon   string
	Phase   addons.Phase
	Enabled bool
	// Chart is the chart's name@version, "" for addons of plain objects.
	Chart string
	Set   kubeapply.Set
}

// Plan is every addon of the registry, rendered (enabled ones) or to be
// deleted (disabled ones), in registry order.
type Plan struct {
	Units    []Unit
	progress io.Writer
}

// Prepare renders every enabled addon. Nothing is applied: an error here
// leaves the cluster as it was.
func Prepare(ctx context.Context, o Options) (*Plan, error) {
	p := &Plan{progress: o.Progress}
	if p.progress == nil {
		p.progress = io.Discard
	}
	var apis []string
	for _, a := range addons.Registry() {
		u := Unit{Addon: a.Name, Phase: a.Phase, Enabled: a.Enabled(o.Cluster)}
		if !u.Enabled {
			p.Units = append(p.Units, u)
			continue
		}
		r, err := a.Render(o.Cluster, o.Inputs)
		if err != nil {
			return nil, fmt.Errorf("addon %w", err)
		}
		set, err := renderSet(ctx, o, r, apis)
		if err != nil {
			return nil, err
		}
		// A later chart that probes for this addon's APIs (a ServiceMonitor
		// once the Prometheus operator's CRDs are in) sees them, as it
		// would in the cluster.
		apis = append(apis, charts.APIVersionsOf(append(slices.Clone(set.CRDs), set.Objects...))...)
		u.Set = set
		if r.Chart != nil {
			u.Chart = r.Chart.Name + "@" + r.Chart.Version
		}
		p.Units = append(p.Units, u)
	}
	return p, nil
}

// renderSet turns one addon's result into a kubeapply set: its plain objects,
// the manifests it names (downloaded) and, for a chart addon, the chart rendered with its values, in the
// module's order.
func renderSet(ctx context.Context, o Options, r addons.Result, apis []string) (kubeapply.Set, error) {
	set := kubeapply.Set{Name: r.Name}
	plain, err := toUnstructured(r.Name, r.Objects)
	if err != nil {
		return set, err
	}
	for _, url := range r.Manifests {
		objs, err := o.Fetcher.FetchManifest(ctx, r.Name, url)
		if err != nil {
			return set, err
		}
		plain = append(plain, objs...)
	}
	if r.Chart == nil {
		set.Objects = plain
		return set, nil
	}
	ref, rel, err := charts.ForAddon(r)
	if err != nil {
		return set, err
	}
	ch, err := o.Fetcher.Fetch(ctx, ref)
	if err != nil {
		return set, err
	}
	out, err := charts.Render(ctx, ch, rel, r.Values, charts.RenderOptions{
		KubeVersion: o.Cluster.Kubernetes.Version, APIVersions: apis,
	})
	if err != nil {
		return set, err
	}
	set.Namespace, set.Version, set.CRDs = rel.Namespace, r.Chart.Version, out.CRDs
	rendered := append(slices.Clone(out.Objects), hookObjects(out.Hooks)...)
	if r.ObjectsAfterChart {
		set.Objects = append(rendered, plain...)
	} else {
		set.Objects = append(plain, rendered...)
	}
	return set, nil
}

// hookObjects are the hook objects, each once: charts lists a hook of
// several events once per event, kubeapply reads the events from the
// object's annotations.
func hookObjects(hooks []charts.Hook) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	seen := map[kubeapply.Ref]bool{}
	for _, h := range hooks {
		ref := kubeapply.RefOf(h.Object)
		if !seen[ref] {
			seen[ref] = true
			out = append(out, h.Object)
		}
	}
	return out
}

func toUnstructured(addon string, objs []addons.Object) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for i, o := range objs {
		// Through JSON: the addons build objects with Go types (int,
		// []string, map[string]string) that unstructured objects cannot
		// hold; numbers come back as int64, as from a YAML manifest.
		data, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("addon %s: object %d: %w", addon, i, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("addon %s: object %d: %w", addon, i, err)
		}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("addon %s: object %d has no kind or name", addon, i)
		}
		out = append(out, u)
	}
	return out, nil
}

// WaitOptions pace Apply's wait for readiness.
type WaitOptions struct {
	// Timeout bounds the wait for one phase's addons. Required.
	Timeout time.Duration
	// Interval between checks; 0 is kubeapply's default.
	Interval time.Duration
}

// Report is what Apply did to one addon.
type Report struct {
	Addon string `json:"addon"`
	Chart string `json:"chart,omitempty"`
	// Action is "applied" or "deleted".
	Action     string   `json:"action"`
	Created    []string `json:"created,omitempty"`
	Configured []string `json:"configured,omitempty"`
	Pruned     []string `json:"pruned,omitempty"`
	Unchanged  int      `json:"unchanged"`
}

// Changed reports whether the addon's objects changed.
func (r Report) Changed() bool { return len(r.Created)+len(r.Configured)+len(r.Pruned) > 0 }

// Apply applies the phase's enabled addons in order, deletes its disabled
// ones that were applied before, and waits until everything it applied is
// ready. It stops at the first addon that fails, naming it.
func (p *Plan) Apply(ctx context.Context, a *kubeapply.Applier, phase addons.Phase, wo WaitOptions) ([]Report, error) {
	var reports []Report
	var refs []kubeapply.Ref
	owner := map[kubeapply.Ref]string{}
	for _, u := range p.Units {
		if u.Phase != phase {
			continue
		}
		if !u.Enabled {
			res, err := a.Delete(ctx, u.Addon)
			if err != nil {
				return reports, fmt.Errorf("delete addon %s, which is switched off: %w", u.Addon, err)
			}
			if len(res.Pruned) > 0 {
				fmt.Fprintf(p.progress, "  %s: switched off, deleted %d objects\n", u.Addon, len(res.Pruned))
				reports = append(reports, report(u, "deleted", res))
			}
			continue
		}
		res, err := a.Apply(ctx, u.Set)
		if err != nil {
			return reports, fmt.Errorf("apply addon %s%s: %w", u.Addon, chartSuffix(u), err)
		}
		r := report(u, "applied", res)
		reports = append(reports, r)
		fmt.Fprintf(p.progress, "  %s%s: %s\n", u.Addon, chartSuffix(u), summary(r))
		for _, ref := range res.Applied() {
			refs = append(refs, ref)
			owner[ref] = u.Addon
		}
	}
	if len(refs) == 0 {
		return reports, nil
	}
	return reports, waitReady(ctx, a, p.progress, refs, owner, wo)
}

func chartSuffix(u Unit) string {
	if u.Chart == "" {
		return ""
	}
	return " (" + u.Chart + ")"
}

func report(u Unit, action string, res kubeapply.Result) Report {
	names := func(refs []kubeapply.Ref) []string {
		out := make([]string, len(refs))
		for i, r := range refs {
			out[i] = r.String()
		}
		return out
	}
	return Report{
		Addon: u.Addon, Chart: u.Chart, Action: action,
		Created: names(res.Created), Configured: names(res.Configured), Pruned: names(res.Pruned),
		Unchanged: len(res.Unchanged),
	}
}

func summary(r Report) string {
	if !r.Changed() {
		return fmt.Sprintf("unchanged (%d objects)", r.Unchanged)
	}
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{len(r.Created), "created"}, {len(r.Configured), "configured"}, {len(r.Pruned), "pruned"}, {r.Unchanged, "unchanged"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	return strings.Join(parts, ", ")
}

// waitReady waits for refs, printing a line whenever the number of ready
// objects changes and naming, per addon, what it still waits for.
func waitReady(ctx context.Context, a *kubeapply.Applier, w io.Writer, refs []kubeapply.Ref, owner map[kubeapply.Ref]string, wo WaitOptions) error {
	err := a.Wait(ctx, refs, kubeapply.WaitOptions{
		Timeout: wo.Timeout, Interval: wo.Interval,
		Progress: func(pr kubeapply.Progress) {
			if len(pr.Pending) == 0 {
				fmt.Fprintf(w, "  %d of %d objects ready\n", pr.Ready, pr.Total)
				return
			}
			first := pr.Pending[0]
			fmt.Fprintf(w, "  %d of %d objects ready; waiting for %s: %s\n", pr.Ready, pr.Total, owner[first.Ref], first)
		},
	})
	var nr *kubeapply.NotReadyError
	if errors.As(err, &nr) {
		return notReady(nr, owner, wo.Timeout)
	}
	return err
}

// notReady names, per addon, the objects that did not become ready.
func notReady(nr *kubeapply.NotReadyError, owner map[kubeapply.Ref]string, timeout time.Duration) error {
	by := map[string][]string{}
	var order []string
	for _, s := range nr.Pending {
		a := owner[s.Ref]
		if _, ok := by[a]; !ok {
			order = append(order, a)
		}
		by[a] = append(by[a], s.String())
	}
	var parts []string
	for _, a := range order {
		parts = append(parts, a+": "+strings.Join(by[a], ", "))
	}
	what := fmt.Sprintf("not ready after %s", timeout)
	if nr.Failed {
		what = "failed"
	}
	return fmt.Errorf("addons %s: %s", what, strings.Join(parts, "; "))
}
