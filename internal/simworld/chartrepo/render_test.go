package chartrepo

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// everything switches on what the addons can switch on: every optional
// addon, Hubble with relay and UI, the Gateway API, ServiceMonitors, IPsec,
// ingress pools, and autoscaler pools.
func everything(c *config.Cluster) {
	a := &c.Addons
	a.CertManager.Enabled = true
	a.CertManagerWebhookHetzner.Enabled = true
	a.Longhorn.Enabled = true
	a.IngressNginx.Enabled = true
	a.IngressNginx.DeprecationIgnored = true
	a.IngressNginx.Kind = "DaemonSet"
	a.ClusterAutoscaler.Enabled = true
	c.AutoscalerNodepools = []config.AutoscalerPool{{Nodepool: config.Nodepool{Name: "auto", Location: "nbg1", Type: "cpx32"}, Max: 3}}
	a.Cilium.Hubble = config.CiliumHubble{Enabled: true, RelayEnabled: true, UIEnabled: true}
	a.Cilium.GatewayAPI.Enabled = true
	a.Cilium.ServiceMonitorEnabled = true
	a.Cilium.Encryption.Type = "ipsec"
	a.Cilium.EgressGatewayEnabled = true
}

// clusterAPIs is what the cluster serves once the CRDs hcloud-k8s installs
// before the charts are there: the Gateway API and Prometheus operator
// bundles, and cert-manager's (rendered from our chart).
func clusterAPIs(t *testing.T, f *charts.Fetcher, c *config.Cluster) []string {
	t.Helper()
	apis := []string{
		"gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1/GatewayClass", "gateway.networking.k8s.io/v1/Gateway",
		"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PodMonitor",
	}
	cc := cluster(t, func(c *config.Cluster) { c.Addons.CertManager.Enabled = true })
	cm := renderAddon(t, f, c, result(t, chartResults(t, cc), "cert-manager"), nil)
	return append(apis, charts.APIVersionsOf(cm.CRDs)...)
}

// Every chart renders with what internal/addons gives it, for the default
// cluster and with every switch on, through each kind of mirror.
func TestEveryAddonRenders(t *testing.T) {
	repo := startRepo(t, Options{})
	dir := t.TempDir()
	if err := WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, mirror string
		mutate       func(*config.Cluster)
		want         int
	}{
		{"default/http", repo.HTTPURL(), nil, 5},
		{"everything/oci", repo.OCIURL(), everything, 10},
		{"everything/dir", dir, everything, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fetcher(t, tc.mirror)
			c := cluster(t, tc.mutate)
			rs := chartResults(t, c)
			if len(rs) != tc.want {
				t.Fatalf("%d chart addons enabled, want %d", len(rs), tc.want)
			}
			apis := clusterAPIs(t, f, c)
			for _, r := range rs {
				out, err := tryRenderAddon(f, c, r, apis)
				if err != nil {
					t.Errorf("%s: %v", r.Name, err)
					continue
				}
				if len(out.Objects) == 0 {
					t.Errorf("%s rendered no objects", r.Name)
				}
				for _, h := range out.Hooks {
					if strings.Contains(h.Event, "test") {
						t.Errorf("%s: test hook %s kept", r.Name, h.Object.GetName())
					}
				}
			}
		})
	}
}

func render(t *testing.T, addon string, mutate func(*config.Cluster)) *charts.Rendered {
	t.Helper()
	f := fetcher(t, startRepo(t, Options{}).HTTPURL())
	c := cluster(t, mutate)
	return renderAddon(t, f, c, result(t, chartResults(t, c), addon), clusterAPIs(t, f, c))
}

func str(t *testing.T, o *unstructured.Unstructured, path ...string) string {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), strings.Join(path, "."), err)
	}
	s, _ := v.(string)
	if b, ok := v.(bool); ok {
		s = map[bool]string{true: "true", false: "false"}[b]
	}
	return s
}

func slice(t *testing.T, o *unstructured.Unstructured, path ...string) []any {
	t.Helper()
	v, _, err := unstructured.NestedSlice(o.Object, path...)
	if err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), strings.Join(path, "."), err)
	}
	return v
}

func wantLabels(t *testing.T, o *unstructured.Unstructured, want map[string]string, path ...string) {
	t.Helper()
	got, _, _ := unstructured.NestedStringMap(o.Object, path...)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s/%s %s: label %s=%q, want %q (labels %v)", o.GetKind(), o.GetName(), strings.Join(path, "."), k, got[k], v, got)
		}
	}
}

// containerEnv maps a pod template's first container's env by name.
func containerEnv(t *testing.T, o *unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	cs := slice(t, o, "spec", "template", "spec", "containers")
	out := map[string]map[string]any{}
	for _, e := range cs[0].(map[string]any)["env"].([]any) {
		m := e.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func TestSchemaRejectsAWrongType(t *testing.T) {
	f := fetcher(t, startRepo(t, Options{}).HTTPURL())
	c := cluster(t, nil)
	rs := chartResults(t, c)
	for _, tc := range []struct {
		addon string
		bad   map[string]any
	}{
		{"hcloud-ccm", map[string]any{"kind": 3}},
		{"hcloud-csi", map[string]any{"controller": map[string]any{"replicaCount": "two"}}},
		{"cilium", map[string]any{"operator": map[string]any{"replicas": "two"}}},
		// The subchart's own schema.
		{"cilium", map[string]any{"hubble": map[string]any{"enabled": true, "relay": map[string]any{"enabled": "yes"}}}},
	} {
		r := result(t, rs, tc.addon)
		r.Values = addons.MergeValues(r.Values, tc.bad)
		_, err := tryRenderAddon(f, c, r, nil)
		if !errors.Is(err, charts.ErrInvalidValues) {
			t.Errorf("%s with %v: error %v, want ErrInvalidValues", tc.addon, tc.bad, err)
		}
	}
}

func TestKubeVersionConstraint(t *testing.T) {
	f := fetcher(t, startRepo(t, Options{}).HTTPURL())
	c := cluster(t, func(c *config.Cluster) { c.Kubernetes.Version = "v1.29.4" })
	_, err := tryRenderAddon(f, c, result(t, chartResults(t, c), "cilium"), nil)
	if !errors.Is(err, charts.ErrKubeVersion) {
		t.Errorf("cilium on 1.29: error %v, want ErrKubeVersion", err)
	}
}
