package install

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
)

func TestSecretsAreMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c := configtest.Load(t, configtest.Demo(), nil)
	var first addons.Inputs
	if err := EnsureSecrets(dir, c, &first); err != nil {
		t.Fatal(err)
	}
	if len(first.CSIEncryptionPassphrase) != 64 {
		t.Fatalf("passphrase %d characters, want hex of 32 bytes", len(first.CSIEncryptionPassphrase))
	}
	if first.IPsecKey != nil {
		t.Error("an IPsec key without IPsec encryption")
	}
	fi, err := os.Stat(filepath.Join(dir, SecretsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	var again addons.Inputs
	if err := EnsureSecrets(dir, c, &again); err != nil {
		t.Fatal(err)
	}
	if again.CSIEncryptionPassphrase != first.CSIEncryptionPassphrase {
		t.Error("the passphrase changed on the second run: encrypted volumes would not open")
	}
}

func TestIPsecKeyFollowsKeyID(t *testing.T) {
	dir := t.TempDir()
	ipsec := func(id int) *config.Cluster {
		return configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
			e := &c.Addons.Cilium.Encryption
			e.Enabled, e.Type, e.IPsec.KeyID = true, "ipsec", id
		})
	}
	var a, b, c addons.Inputs
	if err := EnsureSecrets(dir, ipsec(1), &a); err != nil {
		t.Fatal(err)
	}
	if want := addons.CiliumIPsecKeyLen(ipsec(1)); len(a.IPsecKey) != want {
		t.Fatalf("IPsec key %d bytes, want %d", len(a.IPsecKey), want)
	}
	if err := EnsureSecrets(dir, ipsec(1), &b); err != nil {
		t.Fatal(err)
	}
	if string(a.IPsecKey) != string(b.IPsecKey) {
		t.Error("same key ID, new key")
	}
	if err := EnsureSecrets(dir, ipsec(2), &c); err != nil {
		t.Fatal(err)
	}
	if string(a.IPsecKey) == string(c.IPsecKey) {
		t.Error("a new key ID kept the old key: no rotation")
	}
	if c.CSIEncryptionPassphrase != a.CSIEncryptionPassphrase {
		t.Error("rotating the IPsec key changed the CSI passphrase")
	}
}

func TestUnreadableSecretsAreAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SecretsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var in addons.Inputs
	err := EnsureSecrets(dir, configtest.Load(t, configtest.Demo(), nil), &in)
	if err == nil {
		t.Fatal("a corrupt secrets file was silently replaced: the old passphrase would be lost")
	}
}
