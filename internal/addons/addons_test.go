package addons

import (
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
)

// testInputs are the caller-supplied inputs every golden file assumes.
func testInputs() Inputs {
	key := make([]byte, 36) // 256-bit key + 4-byte salt
	for i := range key {
		key[i] = byte(i)
	}
	return Inputs{
		HCloudToken: "test-token", NetworkID: 4711, FirewallID: 42, SSHKeyID: 7,
		ImageSelectors:          ImageSelectors{AMD64: "os=talos,arch=amd64", ARM64: "os=talos,arch=arm64"},
		AutoscalerWorkerConfigs: map[string]string{"auto": "talos config of auto", "pinned": "talos config of pinned"},
		CSIEncryptionPassphrase: "generated-passphrase",
		IPsecKey:                key,
	}
}

func oneControlPlane(f configtest.File) configtest.File {
	f.ControlPlane.Count = 1
	return f
}

func render(t *testing.T, name string, c *config.Cluster) Result {
	t.Helper()
	a, ok := Lookup(name)
	if !ok {
		t.Fatalf("no addon %s", name)
	}
	r, err := a.Render(c, testInputs())
	if err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return r
}

func TestGolden(t *testing.T) {
	demo := configtest.Demo()
	noWorkers := oneControlPlane(configtest.Demo())
	noWorkers.Workers = nil
	oneWorker := configtest.Demo()
	oneWorker.Workers[0].Count = 1
	acknowledged := func(c *config.Cluster) {
		c.Addons.CertManager.Enabled = true
		c.Addons.IngressNginx.Enabled = true
		c.Addons.IngressNginx.DeprecationIgnored = true
	}
	cases := []struct {
		addon, golden string
		file          configtest.File
		mutate        func(c *config.Cluster)
	}{
		{"hcloud-secret", "demo", demo, nil},
		{"cilium", "demo", demo, nil},
		{"cilium", "one-control-plane", oneControlPlane(demo), nil},
		{"cilium", "ipsec", demo, func(c *config.Cluster) { c.Addons.Cilium.Encryption.Type = "ipsec" }},
		{"cilium", "encryption-off", demo, func(c *config.Cluster) { c.Addons.Cilium.Encryption.Enabled = false }},
		{"cilium", "no-kube-proxy-replacement", demo, func(c *config.Cluster) { c.Addons.Cilium.KubeProxyReplacementEnabled = false }},
		{"talos-ccm", "demo", demo, nil},
		{"hcloud-ccm", "demo", demo, nil},
		{"hcloud-csi", "demo", demo, nil},
		{"hcloud-csi", "one-control-plane", oneControlPlane(demo), nil},
		{"hcloud-csi", "passphrase-and-params", demo, func(c *config.Cluster) {
			c.Addons.HcloudCSI.EncryptionPassphrase = "from-the-cluster-file"
			c.Addons.HcloudCSI.VolumeExtraLabels = map[string]string{"team": "storage"}
			c.Addons.HcloudCSI.StorageClasses = []config.StorageClass{{
				Name: "hcloud-volumes-encrypted", Encrypted: true, ReclaimPolicy: "Retain", DefaultStorageClass: true,
				ExtraParameters: map[string]string{"fsType": "xfs"},
			}}
		}},
		{"talos-backup", "demo", demo, nil},
		{"longhorn", "demo", demo, func(c *config.Cluster) { c.Addons.Longhorn.Enabled = true }},
		{"metrics-server", "demo", demo, nil},
		{"metrics-server", "one-worker", oneWorker, nil},
		{"metrics-server", "no-workers-one-control-plane", noWorkers, nil},
		{"cert-manager", "demo", demo, func(c *config.Cluster) { c.Addons.CertManager.Enabled = true }},
		{"cert-manager", "with-ingress-nginx", demo, acknowledged},
		{"cert-manager-webhook-hetzner", "demo", demo, nil},
		{"cert-manager-webhook-hetzner", "one-control-plane", oneControlPlane(demo), nil},
		{"ingress-nginx", "demo", demo, acknowledged},
		{"ingress-nginx", "pools-daemonset-local", demo, func(c *config.Cluster) {
			acknowledged(c)
			c.Addons.IngressNginx.Kind = "DaemonSet"
			c.Addons.IngressNginx.ServiceExternalTrafficPolicy = "Local"
			c.Addons.IngressNginx.Config = map[string]string{"use-forwarded-headers": "true"}
			c.IngressLoadBalancer.Pools = []config.IngressPool{{Name: "eu", Location: "fsn1", Count: 1}}
		}},
		{"cluster-autoscaler", "demo", demo, func(c *config.Cluster) {
			c.Addons.ClusterAutoscaler.Enabled = true
			c.AutoscalerNodepools = []config.AutoscalerPool{
				{Nodepool: config.Nodepool{Name: "auto", Location: "nbg1", Type: "cpx32",
					Labels: map[string]string{"role": "batch"}, Taints: []string{"dedicated=batch:NoSchedule"}}, Max: 3},
				{Nodepool: config.Nodepool{Name: "pinned", Location: "fsn1", Type: "cax21"}, Subnet: "10.0.65.0/25", Min: 1, Max: 2},
			}
		}},
		{"user-manifests", "demo", demo, func(c *config.Cluster) {
			c.Talos.ExtraInlineManifests = []config.InlineManifest{
				{Name: "apps", Contents: "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: apps}\ndata: {mode: fast}\n"},
				{Name: "sa", Contents: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: apps}\n"},
			}
		}},
		{"kube-rbac", "demo", demo, func(c *config.Cluster) {
			c.Addons.RBAC.Roles = []config.Role{{Name: "pod-reader", Namespace: "apps", Rules: []config.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list", "watch"}}}}}
			c.Addons.RBAC.ClusterRoles = []config.ClusterRole{{Name: "node-viewer", Rules: []config.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list"}},
				{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"nodes"}, Verbs: []string{"get"}}}}}
		}},
		{"kube-oidc-rbac", "demo", demo, func(c *config.Cluster) {
			c.Addons.OIDC.Enabled = true
			c.Addons.OIDC.GroupMappings = []config.OIDCGroupMapping{
				{Group: "admins", ClusterRoles: []string{"cluster-admin", "view"}},
				{Group: "devs", ClusterRoles: []string{"view"}, Roles: []config.NamespacedRef{{Name: "pod-reader", Namespace: "apps"}}},
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.addon+"/"+tc.golden, func(t *testing.T) {
			c := configtest.Load(t, tc.file, tc.mutate)
			checkGolden(t, render(t, tc.addon, c), tc.addon+"/"+tc.golden+".yaml")
		})
	}
}

func TestIngressNginxRefusedWithoutAcknowledgement(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.Addons.CertManager.Enabled = true
		c.Addons.IngressNginx.Enabled = true
	})
	a, _ := Lookup("ingress-nginx")
	_, err := a.Render(c, testInputs())
	if err == nil || !strings.Contains(err.Error(), "addons.ingressNginx.deprecationIgnored") {
		t.Fatalf("want an error naming addons.ingressNginx.deprecationIgnored, got %v", err)
	}
	if _, err := RenderEnabled(c, testInputs()); err == nil {
		t.Fatal("RenderEnabled accepted ingress-nginx without the acknowledgement")
	}
}

func TestUserValuesOverrideDefaults(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.Addons.Cilium.Values = map[string]any{
			"operator": map[string]any{"replicas": 3},
			"hubble":   map[string]any{"enabled": true},
			"extra":    "kept",
		}
	})
	v := render(t, "cilium", c).Values
	op := v["operator"].(map[string]any)
	if op["replicas"] != 3 {
		t.Errorf("operator.replicas = %v, want the user's 3", op["replicas"])
	}
	if op["nodeSelector"] == nil {
		t.Error("operator.nodeSelector lost: the merge must be deep")
	}
	h := v["hubble"].(map[string]any)
	if h["enabled"] != true || h["peerService"] == nil {
		t.Errorf("hubble = %v, want enabled from the user and peerService from the module", h)
	}
	if v["extra"] != "kept" {
		t.Errorf("extra = %v, want the user's key added", v["extra"])
	}
}

func TestDisabledAddonNotRendered(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.Addons.HcloudCSI.Enabled = false
		c.Addons.MetricsServer.Enabled = false
	})
	rs, err := RenderEnabled(c, testInputs())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	// The demo's defaults: no Longhorn, cert-manager, ingress-nginx,
	// autoscaler, user manifests, RBAC or OIDC.
	want := "prometheus-operator-crds gateway-api-crds hcloud-secret cilium talos-ccm hcloud-ccm talos-backup"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
}

func TestRegistryOrderAndPhases(t *testing.T) {
	want := []struct {
		name  string
		phase Phase
	}{
		{"prometheus-operator-crds", PhaseEarly}, {"gateway-api-crds", PhaseEarly},
		{"hcloud-secret", PhaseEarly}, {"cilium", PhaseEarly}, {"talos-ccm", PhaseEarly}, {"hcloud-ccm", PhaseEarly},
		{"hcloud-csi", PhaseLate}, {"talos-backup", PhaseLate}, {"longhorn", PhaseLate}, {"metrics-server", PhaseLate},
		{"cert-manager", PhaseLate}, {"cert-manager-webhook-hetzner", PhaseLate}, {"ingress-nginx", PhaseLate},
		{"cluster-autoscaler", PhaseLate}, {"user-manifests", PhaseLate}, {"remote-manifests", PhaseLate}, {"kube-rbac", PhaseLate}, {"kube-oidc-rbac", PhaseLate},
	}
	reg := Registry()
	if len(reg) != len(want) {
		t.Fatalf("registry has %d addons, want %d", len(reg), len(want))
	}
	for i, w := range want {
		if reg[i].Name != w.name || reg[i].Phase != w.phase {
			t.Errorf("registry[%d] = %s (%s), want %s (%s)", i, reg[i].Name, reg[i].Phase, w.name, w.phase)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), nil)
	a, err := RenderEnabled(c, testInputs())
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderEnabled(c, testInputs())
	if err != nil {
		t.Fatal(err)
	}
	var d []string
	diff("", normaliseAll(t, a), normaliseAll(t, b), &d)
	if len(d) > 0 {
		t.Errorf("two renders differ: %v", d)
	}
}

func normaliseAll(t *testing.T, rs []Result) any {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = normalise(t, r)
	}
	return out
}

// Every chart addon merges its own addons.<key>.values last, over a default.
func TestEveryChartAddonMergesUserValues(t *testing.T) {
	for _, a := range Registry() {
		if a.chart == nil {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
				c.Addons.IngressNginx.DeprecationIgnored = true
				a.chart(c).Values = map[string]any{"fromUser": "yes", "nodeSelector": map[string]any{"pinned": "by-user"}}
			})
			r := render(t, a.Name, c)
			if r.Values["fromUser"] != "yes" {
				t.Errorf("fromUser = %v, want the user's value", r.Values["fromUser"])
			}
			ns, _ := r.Values["nodeSelector"].(map[string]any)
			if ns["pinned"] != "by-user" {
				t.Errorf("nodeSelector = %v, want the user's key merged in", ns)
			}
		})
	}
}

// The CRD bundles and the user's remote manifests are the module's URLs
// (talos_config_control_plane.tf), now downloaded by hcloud-k8s.
func TestRemoteManifestURLs(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.CRDs.GatewayAPI.ReleaseChannel = "experimental"
		c.Talos.ExtraRemoteManifests = []string{"https://example.com/a.yaml"}
	})
	for name, want := range map[string]string{
		"prometheus-operator-crds": "https://github.com/prometheus-operator/prometheus-operator/releases/download/v0.93.1/stripped-down-crds.yaml",
		"gateway-api-crds":         "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1/experimental-install.yaml",
		"remote-manifests":         "https://example.com/a.yaml",
	} {
		a, _ := Lookup(name)
		r, err := a.Render(c, testInputs())
		if err != nil {
			t.Fatal(err)
		}
		if !a.Enabled(c) || len(r.Manifests) != 1 || r.Manifests[0] != want {
			t.Errorf("%s: enabled %v, manifests %v; want %s", name, a.Enabled(c), r.Manifests, want)
		}
	}
}
