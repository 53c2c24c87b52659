package chartrepo

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

const ks = "kube-system"

func TestCiliumContract(t *testing.T) {
	r := render(t, "cilium", nil)
	// The scale the world is exercised with (docs/simulated-world-charts.md).
	if n := len(r.CRDs) + len(r.Objects); n <= 300 {
		t.Errorf("%d CRDs and objects, want more than 300", n)
	}
	if len(r.CRDs) != 22 {
		t.Errorf("%d CRDs from crds/, want 22", len(r.CRDs))
	}
	if len(r.Hooks) != 0 {
		t.Errorf("hooks %v: the test hook must be dropped", r.Hooks)
	}
	ds := find(t, r.Objects, "DaemonSet/"+ks+"/cilium")
	wantLabels(t, ds, map[string]string{"k8s-app": "cilium"}, "spec", "template", "metadata", "labels")
	if str(t, ds, "spec", "template", "spec", "hostNetwork") != "true" {
		t.Error("agent not on the host network")
	}
	if p := str(t, ds, "spec", "template", "spec", "priorityClassName"); p != "system-node-critical" {
		t.Errorf("agent priority class %q", p)
	}
	if tol := slice(t, ds, "spec", "template", "spec", "tolerations"); len(tol) != 1 || tol[0].(map[string]any)["operator"] != "Exists" {
		t.Errorf("agent tolerations %v, want operator: Exists", tol)
	}
	env := containerEnv(t, ds)
	if env["KUBERNETES_SERVICE_HOST"]["value"] != "127.0.0.1" || env["KUBERNETES_SERVICE_PORT"]["value"] != "7445" {
		t.Errorf("agent API server env %v, want KubePrism", env)
	}

	op := find(t, r.Objects, "Deployment/"+ks+"/cilium-operator")
	wantLabels(t, op, map[string]string{"io.cilium/app": "operator", "name": "cilium-operator", "app.kubernetes.io/name": "cilium-operator"},
		"spec", "template", "metadata", "labels")
	if n, _, _ := unstructured.NestedInt64(op.Object, "spec", "replicas"); n != 2 {
		t.Errorf("operator replicas %d, want 2 for three control planes", n)
	}
	// The chart's kubernetes.io/os default stays beside the addon's key.
	if sel, _, _ := unstructured.NestedStringMap(op.Object, "spec", "template", "spec", "nodeSelector"); !hasKey(sel, "node-role.kubernetes.io/control-plane") {
		t.Errorf("operator node selector %v", sel)
	}
	if tsc := slice(t, op, "spec", "template", "spec", "topologySpreadConstraints"); len(tsc) != 2 {
		t.Errorf("operator spread %v, want the two of the addon", tsc)
	}
	pdb := find(t, r.Objects, "PodDisruptionBudget/"+ks+"/cilium-operator")
	if v, _, _ := unstructured.NestedInt64(pdb.Object, "spec", "maxUnavailable"); v != 1 {
		t.Errorf("operator PDB %v", pdb.Object["spec"])
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "minAvailable"); ok {
		t.Error("operator PDB has minAvailable, which the addon nulls")
	}
	cm := find(t, r.Objects, "ConfigMap/"+ks+"/cilium-config")
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for k, v := range map[string]string{
		"ipam": "kubernetes", "routing-mode": "native", "ipv4-native-routing-cidr": "10.0.0.0/16",
		"kube-proxy-replacement": "true", "enable-wireguard": "true", "enable-ipsec": "false",
		"enable-hubble": "false", "bpf-lb-acceleration": "best-effort",
	} {
		if data[k] != v {
			t.Errorf("cilium-config %s=%q, want %q", k, data[k], v)
		}
	}
	for _, id := range []string{"ClusterRole//cilium", "ClusterRoleBinding//cilium-operator", "ServiceAccount/" + ks + "/cilium"} {
		find(t, r.Objects, id)
	}
	for _, id := range []string{"Deployment/" + ks + "/hubble-relay", "Service/" + ks + "/hubble-peer", "GatewayClass//cilium", "ServiceMonitor/" + ks + "/cilium-agent"} {
		if has(r.Objects, id) {
			t.Errorf("%s rendered although off", id)
		}
	}
}

func TestCiliumSwitches(t *testing.T) {
	r := render(t, "cilium", everything)
	for _, id := range []string{
		"Deployment/" + ks + "/hubble-relay", "Deployment/" + ks + "/hubble-ui", "Service/" + ks + "/hubble-peer",
		"GatewayClass//cilium", "Namespace//cilium-secrets",
		"ServiceMonitor/" + ks + "/cilium-agent", "ServiceMonitor/" + ks + "/cilium-operator",
	} {
		find(t, r.Objects, id)
	}
	ds := find(t, r.Objects, "DaemonSet/"+ks+"/cilium")
	var secret string
	for _, v := range slice(t, ds, "spec", "template", "spec", "volumes") {
		if s, ok := v.(map[string]any)["secret"].(map[string]any); ok {
			secret, _ = s["secretName"].(string)
		}
	}
	if secret != "cilium-ipsec-keys" {
		t.Errorf("agent mounts secret %q, want the IPsec keys", secret)
	}
}

// A ServiceMonitor is only rendered for a cluster that serves the API:
// asked for without it (and without trustCRDsExist), the chart refuses.
func TestCiliumProbesForServiceMonitors(t *testing.T) {
	f := fetcher(t, startRepo(t, Options{}).HTTPURL())
	c := cluster(t, func(c *config.Cluster) { c.Addons.Cilium.ServiceMonitorEnabled = true })
	res := result(t, chartResults(t, c), "cilium")
	res.Values["prometheus"].(map[string]any)["serviceMonitor"].(map[string]any)["trustCRDsExist"] = false
	if _, err := tryRenderAddon(f, c, res, nil); err == nil || !strings.Contains(err.Error(), "monitoring.coreos.com/v1") {
		t.Errorf("error %v, want the missing API named", err)
	}
	r, err := tryRenderAddon(f, c, res, []string{"monitoring.coreos.com/v1/ServiceMonitor"})
	if err != nil {
		t.Fatal(err)
	}
	find(t, r.Objects, "ServiceMonitor/"+ks+"/cilium-agent")
}

func TestHcloudCCMContract(t *testing.T) {
	r := render(t, "hcloud-ccm", nil)
	const name = "hcloud-cloud-controller-manager"
	ds := find(t, r.Objects, "DaemonSet/"+ks+"/"+name)
	wantLabels(t, ds, map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}, "spec", "template", "metadata", "labels")
	pod := ds.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	if pod["hostNetwork"] != true {
		t.Error("CCM not on the host network with networking")
	}
	if sel := pod["nodeSelector"].(map[string]any); len(sel) != 1 || sel["node-role.kubernetes.io/control-plane"] != "" {
		t.Errorf("node selector %v", sel)
	}
	var taints []string
	for _, tol := range pod["tolerations"].([]any) {
		taints = append(taints, tol.(map[string]any)["key"].(string))
	}
	for _, k := range []string{"node.cloudprovider.kubernetes.io/uninitialized", "node-role.kubernetes.io/control-plane", "node.kubernetes.io/not-ready"} {
		if !slices.Contains(taints, k) {
			t.Errorf("no toleration of %s among %v", k, taints)
		}
	}
	env := containerEnv(t, ds)
	for v, key := range map[string]string{"HCLOUD_TOKEN": "token", "HCLOUD_NETWORK": "network"} {
		ref, _, _ := unstructured.NestedStringMap(env[v], "valueFrom", "secretKeyRef")
		if ref["name"] != "hcloud" || ref["key"] != key {
			t.Errorf("%s from %v, want Secret hcloud key %s", v, ref, key)
		}
	}
	// Every entry of the addon's env, as given.
	values := result(t, chartResults(t, cluster(t, nil)), "hcloud-ccm").Values["env"].(map[string]any)
	for k, v := range values {
		if env[k]["value"] != v.(map[string]any)["value"] {
			t.Errorf("env %s=%v, want %v", k, env[k], v)
		}
	}
	cmd := slice(t, ds, "spec", "template", "spec", "containers")[0].(map[string]any)["command"].([]any)
	for _, want := range []string{"--allocate-node-cidrs=true", "--cluster-cidr=10.0.128.0/17", "--cloud-provider=hcloud"} {
		if !slices.Contains(cmd, any(want)) {
			t.Errorf("command %v lacks %s", cmd, want)
		}
	}
	find(t, r.Objects, "ServiceAccount/"+ks+"/"+name)
	crb := find(t, r.Objects, "ClusterRoleBinding//system:"+name+":restricted")
	if str(t, crb, "roleRef", "name") != "system:"+name {
		t.Errorf("binding to %v", crb.Object["roleRef"])
	}
}

func TestHcloudCSIContract(t *testing.T) {
	r := render(t, "hcloud-csi", nil)
	ctl := find(t, r.Objects, "Deployment/"+ks+"/hcloud-csi-controller")
	wantLabels(t, ctl, map[string]string{"app.kubernetes.io/name": "hcloud-csi", "app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "hcloud-csi"},
		"spec", "template", "metadata", "labels")
	node := find(t, r.Objects, "DaemonSet/"+ks+"/hcloud-csi-node")
	wantLabels(t, node, map[string]string{"app.kubernetes.io/name": "hcloud-csi", "app.kubernetes.io/component": "node"}, "spec", "template", "metadata", "labels")
	drv := find(t, r.Objects, "CSIDriver//csi.hetzner.cloud")
	if str(t, drv, "spec", "attachRequired") != "true" || str(t, drv, "spec", "podInfoOnMount") != "true" {
		t.Errorf("CSIDriver spec %v", drv.Object["spec"])
	}
	enc := find(t, r.Objects, "StorageClass//hcloud-volumes-encrypted")
	if str(t, enc, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class") != "true" {
		t.Error("the encrypted class is not the default")
	}
	if str(t, enc, "parameters", "csi.storage.k8s.io/node-publish-secret-name") != "hcloud-csi-secret" {
		t.Errorf("encrypted class parameters %v", enc.Object["parameters"])
	}
	plain := find(t, r.Objects, "StorageClass//hcloud-volumes")
	if _, ok := plain.Object["parameters"]; ok {
		t.Errorf("plain class has parameters %v", plain.Object["parameters"])
	}
	if n, _, _ := unstructured.NestedInt64(ctl.Object, "spec", "replicas"); n != 2 {
		t.Errorf("controller replicas %d", n)
	}
	pdb := find(t, r.Objects, "PodDisruptionBudget/"+ks+"/hcloud-csi-controller")
	if v, _, _ := unstructured.NestedInt64(pdb.Object, "spec", "maxUnavailable"); v != 1 {
		t.Errorf("controller PDB %v: the addon's \"1\" must render as a number", pdb.Object["spec"])
	}
	find(t, r.Objects, "ClusterRoleBinding//hcloud-csi-controller")
}

func TestTalosCCMAndMetricsServerContract(t *testing.T) {
	r := render(t, "talos-ccm", nil)
	ds := find(t, r.Objects, "DaemonSet/"+ks+"/talos-cloud-controller-manager")
	wantLabels(t, ds, map[string]string{"app.kubernetes.io/name": "talos-cloud-controller-manager"}, "spec", "template", "metadata", "labels")
	args := slice(t, ds, "spec", "template", "spec", "containers")[0].(map[string]any)["args"].([]any)
	if !slices.Contains(args, any("--controllers=node-csr-approval")) {
		t.Errorf("args %v", args)
	}

	m := render(t, "metrics-server", nil)
	for _, id := range []string{
		"Deployment/" + ks + "/metrics-server", "Service/" + ks + "/metrics-server",
		"ClusterRole//system:metrics-server", "RoleBinding/" + ks + "/metrics-server-auth-reader",
		"PodDisruptionBudget/" + ks + "/metrics-server",
	} {
		find(t, m.Objects, id)
	}
	api := find(t, m.Objects, "APIService//v1beta1.metrics.k8s.io")
	if str(t, api, "spec", "service", "name") != "metrics-server" || str(t, api, "spec", "insecureSkipTLSVerify") != "true" {
		t.Errorf("APIService spec %v (lookup finds no CA when rendering client-side)", api.Object["spec"])
	}
	if len(m.Hooks) != 0 {
		t.Errorf("metrics-server hooks %v: its test hook must be dropped", m.Hooks)
	}
}

func TestCertManagerContract(t *testing.T) {
	r := render(t, "cert-manager", func(c *config.Cluster) { c.Addons.CertManager.Enabled = true })
	const ns = "cert-manager"
	if len(r.CRDs) != 6 {
		t.Errorf("%d CRDs, want cert-manager's six from the templates", len(r.CRDs))
	}
	wh := find(t, r.Objects, "Deployment/"+ns+"/cert-manager-webhook")
	wantLabels(t, wh, map[string]string{"app.kubernetes.io/component": "webhook", "app.kubernetes.io/instance": "cert-manager"}, "spec", "template", "metadata", "labels")
	find(t, r.Objects, "ConfigMap/"+ns+"/cert-manager")
	// startupapicheck is off in the addon's values; only our pre-install
	// hook is left, and the test hook is dropped.
	if len(r.Hooks) != 1 || r.Hooks[0].Event != "pre-install" || r.Hooks[0].Object.GetKind() != "Job" {
		t.Fatalf("hooks %v, want the one pre-install Job", r.Hooks)
	}

	f := fetcher(t, startRepo(t, Options{}).HTTPURL())
	c := cluster(t, func(c *config.Cluster) { c.Addons.CertManager.Enabled = true })
	res := result(t, chartResults(t, c), "cert-manager")
	res.Values["startupapicheck"] = map[string]any{"enabled": true}
	on := renderAddon(t, f, c, res, nil)
	post := charts.HooksOf(on.Hooks, "post-install")
	if len(post) != 4 || post[len(post)-1].Object.GetKind() != "Job" || post[0].Weight != -5 {
		t.Errorf("post-install hooks %v, want the check's account, role, binding, then its Job", post)
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
