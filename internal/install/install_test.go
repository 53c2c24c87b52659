package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld/chartrepo"
)

// mirrorDir is a directory mirror holding the world's charts (all of them,
// or the ones named).
func mirrorDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if len(names) == 0 {
		if err := chartrepo.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	archives, err := chartrepo.Archives(names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range archives {
		if err := os.WriteFile(filepath.Join(dir, a.FileName()), a.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chartrepo.WriteManifests(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func prepare(t *testing.T, mirror string, mutate func(*config.Cluster)) (*Plan, error) {
	t.Helper()
	c := configtest.Load(t, configtest.Demo(), mutate)
	f, err := charts.NewFetcher(charts.Options{CacheDir: t.TempDir(), Mirror: mirror})
	if err != nil {
		t.Fatal(err)
	}
	in := addons.Inputs{HCloudToken: "token", NetworkID: 7, CSIEncryptionPassphrase: strings.Repeat("ab", 32)}
	return Prepare(context.Background(), Options{Cluster: c, Inputs: in, Fetcher: f})
}

func TestPrepareRendersEveryEnabledAddon(t *testing.T) {
	p, err := prepare(t, mirrorDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Unit{}
	for _, u := range p.Units {
		byName[u.Addon] = u
	}
	for _, a := range addons.Registry() {
		if _, ok := byName[a.Name]; !ok {
			t.Errorf("no unit for addon %s", a.Name)
		}
	}
	cilium := byName["cilium"]
	if !cilium.Enabled || cilium.Phase != addons.PhaseEarly || cilium.Chart != "cilium@1.19.6" || cilium.Set.Version != "1.19.6" {
		t.Errorf("cilium unit: %+v", cilium)
	}
	if len(cilium.Set.CRDs) == 0 || len(cilium.Set.Objects) < 300 {
		t.Errorf("cilium rendered %d CRDs and %d objects; want its crds/ and several hundred objects", len(cilium.Set.CRDs), len(cilium.Set.Objects))
	}
	if s := byName["hcloud-secret"]; len(s.Set.Objects) != 1 || s.Set.Objects[0].GetName() != "hcloud" {
		t.Errorf("hcloud-secret unit: %+v", s.Set.Objects)
	}
	// The CRD bundles, downloaded through the mirror.
	if g := byName["gateway-api-crds"]; !g.Enabled || g.Phase != addons.PhaseEarly || len(g.Set.Objects) < 5 || g.Set.Objects[0].GetKind() != "CustomResourceDefinition" {
		t.Errorf("gateway-api-crds unit: enabled %v, %d objects", g.Enabled, len(g.Set.Objects))
	}
	if l := byName["longhorn"]; l.Enabled || len(l.Set.Objects) != 0 {
		t.Errorf("longhorn is off by default but rendered %d objects", len(l.Set.Objects))
	}
	// Hooks stay in the set, as objects with their annotations, once each.
	seen := map[string]int{}
	for _, o := range byName["metrics-server"].Set.Objects {
		seen[o.GetKind()+"/"+o.GetName()]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("metrics-server: %s is in the set %d times", k, n)
		}
	}
}

// Each failure names the addon, the chart and its version, and happens
// before anything is applied: Prepare touches no cluster.
func TestPrepareFailuresNameTheChart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mirror func(t *testing.T) string
		mutate func(*config.Cluster)
		is     error
		want   string
	}{
		{"a value the schema refuses", func(t *testing.T) string { return mirrorDir(t) },
			func(c *config.Cluster) { c.Addons.HcloudCCM.Values = map[string]any{"kind": "Pod"} },
			charts.ErrInvalidValues, "addon hcloud-ccm: chart "},
		{"a version that does not exist", func(t *testing.T) string { return mirrorDir(t) },
			func(c *config.Cluster) { c.Addons.Cilium.Chart.Version = "9.9.9" },
			charts.ErrNotFound, "cilium@9.9.9"},
		{"an unreachable repository", func(*testing.T) string { return "http://127.0.0.1:1/charts" },
			nil, charts.ErrUnreachable, "addon prometheus-operator-crds: manifest https://github.com/prometheus-operator/"},
		{"a mirror without the chart", func(t *testing.T) string { return mirrorDir(t, "cilium", "talos-cloud-controller-manager") },
			nil, charts.ErrNotFound, "hcloud-cloud-controller-manager@1.35.0"},
		{"a mirror without the manifest", func(t *testing.T) string { return mirrorDir(t) },
			func(c *config.Cluster) { c.CRDs.GatewayAPI.Version = "v0.0.1" },
			charts.ErrNotFound, "addon gateway-api-crds: manifest https://github.com/kubernetes-sigs/gateway-api/releases/download/v0.0.1/standard-install.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prepare(t, tc.mirror(t), tc.mutate)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %v naming %q", err, tc.is, tc.want)
			}
		})
	}
}
