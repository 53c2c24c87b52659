package chartrepo

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

// startRepo serves every chart for the test's lifetime.
func startRepo(t *testing.T, opts Options) *Repo {
	t.Helper()
	r, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// loopbackOnly is a transport that refuses to dial anything but loopback,
// so that a test fails rather than reaches a real repository.
func loopbackOnly(t *testing.T) *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: simtest.LoopbackDialer(t)}
}

// fetcher is a charts.Fetcher through mirror, with its own cache and no
// credentials of the machine's user.
func fetcher(t *testing.T, mirror string) *charts.Fetcher {
	t.Helper()
	// Helm's registry client falls back to Docker's credentials.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f, err := charts.NewFetcher(charts.Options{
		CacheDir:       t.TempDir(),
		Mirror:         mirror,
		Transport:      loopbackOnly(t),
		RegistryConfig: filepath.Join(t.TempDir(), "registry.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testInputs are what the caller of addons would supply.
func testInputs() addons.Inputs {
	key := make([]byte, 36)
	for i := range key {
		key[i] = byte(i)
	}
	return addons.Inputs{
		HCloudToken: "test-token", NetworkID: 4711, FirewallID: 42, SSHKeyID: 7,
		ImageSelectors:          addons.ImageSelectors{AMD64: "os=talos,arch=amd64", ARM64: "os=talos,arch=arm64"},
		AutoscalerWorkerConfigs: map[string]string{"auto": "talos config of auto"},
		CSIEncryptionPassphrase: "generated-passphrase",
		IPsecKey:                key,
	}
}

// chartResults renders the enabled chart addons of the cluster.
func chartResults(t *testing.T, c *config.Cluster) []addons.Result {
	t.Helper()
	rs, err := addons.RenderEnabled(c, testInputs())
	if err != nil {
		t.Fatal(err)
	}
	var out []addons.Result
	for _, r := range rs {
		if r.Chart != nil {
			out = append(out, r)
		}
	}
	return out
}

func cluster(t *testing.T, mutate func(c *config.Cluster)) *config.Cluster {
	t.Helper()
	return configtest.Load(t, configtest.Demo(), mutate)
}

// renderAddon fetches an addon's chart through f and renders it with the
// addon's values for the cluster's Kubernetes version, with the APIs the
// cluster serves beyond the built-in ones.
func renderAddon(t *testing.T, f *charts.Fetcher, c *config.Cluster, r addons.Result, apis []string) *charts.Rendered {
	t.Helper()
	out, err := tryRenderAddon(f, c, r, apis)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryRenderAddon(f *charts.Fetcher, c *config.Cluster, r addons.Result, apis []string) (*charts.Rendered, error) {
	ref, rel, err := charts.ForAddon(r)
	if err != nil {
		return nil, err
	}
	ch, err := f.Fetch(context.Background(), ref)
	if err != nil {
		return nil, err
	}
	return charts.Render(context.Background(), ch, rel, r.Values, charts.RenderOptions{KubeVersion: c.Kubernetes.Version, APIVersions: apis})
}

// ids lists objects as Kind/namespace/name.
func ids(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// find returns the object Kind/namespace/name, failing the test without it.
func find(t *testing.T, objs []*unstructured.Unstructured, id string) *unstructured.Unstructured {
	t.Helper()
	i := slices.Index(ids(objs), id)
	if i < 0 {
		t.Fatalf("no %s among %v", id, ids(objs))
	}
	return objs[i]
}

func has(objs []*unstructured.Unstructured, id string) bool {
	return slices.Contains(ids(objs), id)
}

func result(t *testing.T, rs []addons.Result, name string) addons.Result {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("addon %s not among the enabled ones", name)
	return addons.Result{}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
