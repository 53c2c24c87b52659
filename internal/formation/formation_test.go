package formation

import (
	"net/netip"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
)

const talosKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster:
    server: https://10.0.64.126:6443
    certificate-authority-data: Y2E=
users:
- name: admin@demo
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: admin@demo
  context: {cluster: demo, user: admin@demo}
current-context: admin@demo
`

// Talos writes the internal endpoint (the private VIP); the kubeconfig users get
// must point at the external URL, with everything else unchanged.
func TestRewriteServer(t *testing.T) {
	out, err := rewriteServer([]byte(talosKubeconfig), "https://203.0.113.10:6443")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Clusters["demo"]
	if cl.Server != "https://203.0.113.10:6443" || string(cl.CertificateAuthorityData) != "ca" {
		t.Errorf("cluster = %+v", cl)
	}
	if u := cfg.AuthInfos["admin@demo"]; string(u.ClientCertificateData) != "cert" || cfg.CurrentContext != "admin@demo" {
		t.Errorf("user or context changed: %+v %s", u, cfg.CurrentContext)
	}
	if _, err := rewriteServer([]byte("not: [yaml"), "https://x"); err == nil || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("bad kubeconfig: %v", err)
	}
}

// The primary is the control plane with the smallest name, as the module's
// sort(keys(...))[0]: demo-control-10 sorts before demo-control-2.
func TestPrimaryNode(t *testing.T) {
	nodes := []Node{
		{Name: "demo-worker-1", Role: talos.RoleWorker},
		{Name: "demo-control-2", Role: talos.RoleControlPlane},
		{Name: "demo-control-10", Role: talos.RoleControlPlane, PublicIPv4: netip.MustParseAddr("127.0.1.9")},
	}
	if got, _ := Primary(nodes); got.Name != "demo-control-10" {
		t.Errorf("primary = %s, want demo-control-10", got.Name)
	}
}
