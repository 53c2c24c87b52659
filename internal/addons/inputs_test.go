package addons

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
)

func TestSecretDataIsBase64(t *testing.T) {
	s := secret("x", "ns", map[string]string{"token": "test-token"})
	if got := s["data"].(map[string]any)["token"]; got != base64.StdEncoding.EncodeToString([]byte("test-token")) {
		t.Errorf("data.token = %v, want base64 of test-token", got)
	}
	if _, ok := s["stringData"]; ok {
		t.Error("secret uses stringData")
	}
}

// Missing or wrong inputs are errors naming the addon and what is missing,
// never silently empty Secrets.
func TestMissingInputs(t *testing.T) {
	ipsec := func(c *config.Cluster) { c.Addons.Cilium.Encryption.Type = "ipsec" }
	autoscaler := func(c *config.Cluster) {
		c.Addons.ClusterAutoscaler.Enabled = true
		c.AutoscalerNodepools = []config.AutoscalerPool{{Nodepool: config.Nodepool{Name: "other", Location: "fsn1", Type: "cpx32"}, Max: 1}}
	}
	cases := []struct {
		addon  string
		mutate func(*config.Cluster)
		in     func(*Inputs)
		want   []string
	}{
		{"hcloud-secret", nil, func(in *Inputs) { in.HCloudToken = "" }, []string{"hcloud-secret", "HCloudToken"}},
		{"hcloud-secret", nil, func(in *Inputs) { in.NetworkID = 0 }, []string{"NetworkID"}},
		{"hcloud-csi", nil, func(in *Inputs) { in.CSIEncryptionPassphrase = "" }, []string{"addons.hcloudCSI.encryptionPassphrase"}},
		{"cilium", ipsec, func(in *Inputs) { in.IPsecKey = in.IPsecKey[:32] }, []string{"addons.cilium.encryption.ipsec.keySize", "needs 36"}},
		{"cluster-autoscaler", autoscaler, func(*Inputs) {}, []string{"autoscalerNodepools[0] (other)"}},
	}
	for _, tc := range cases {
		c := configtest.Load(t, configtest.Demo(), tc.mutate)
		in := testInputs()
		tc.in(&in)
		a, _ := Lookup(tc.addon)
		_, err := a.Render(c, in)
		if err == nil {
			t.Errorf("%s: no error", tc.addon)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.addon, err, w)
			}
		}
	}
}

func TestTalosBackupHcloudURL(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.Backup.S3.HcloudURL = "https://my-bucket.fsn1.your-objectstorage.com"
		c.Backup.AgeX25519PublicKey = "age1example"
	})
	objs := render(t, "talos-backup", c).Objects
	spec := objs[2]["spec"].(map[string]any)
	if spec["suspend"] != false {
		t.Errorf("suspend = %v, want false with a bucket", spec["suspend"])
	}
	pod := spec["jobTemplate"].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	env := map[string]any{}
	for _, e := range pod["containers"].([]any)[0].(map[string]any)["env"].([]any) {
		e := e.(map[string]any)
		env[e["name"].(string)] = e["value"]
	}
	want := map[string]string{
		"BUCKET": "my-bucket", "AWS_REGION": "fsn1", "CUSTOM_S3_ENDPOINT": "https://fsn1.your-objectstorage.com",
		"AGE_X25519_PUBLIC_KEY": "age1example", "DISABLE_ENCRYPTION": "false",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %v, want %s", k, env[k], v)
		}
	}
}
