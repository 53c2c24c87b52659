package install

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// SecretsFile is the file in the state directory that keeps the addons'
// generated secrets. They are made once and reused, because changing them
// would break what already uses them: encrypted volumes cannot be opened
// with another passphrase, and nodes with different IPsec keys cannot talk.
const SecretsFile = "addon-secrets.json"

// Secrets are the generated secrets of the addons.
type Secrets struct {
	// CSIEncryptionPassphrase is hex of 32 random bytes, as the module's.
	CSIEncryptionPassphrase string `json:"csiEncryptionPassphrase,omitempty"`
	// IPsecKeyID is the key ID IPsecKey was made for; a new ID in the
	// cluster file makes a new key (Cilium's key rotation).
	IPsecKeyID int    `json:"ipsecKeyID,omitempty"`
	IPsecKey   string `json:"ipsecKey,omitempty"` // hex
}

// EnsureSecrets reads the state directory's addon secrets, generates the
// ones the cluster needs and does not have yet, writes them back (mode
// 0600) if anything was generated, and fills them into in.
func EnsureSecrets(stateDir string, c *config.Cluster, in *addons.Inputs) error {
	path := filepath.Join(stateDir, SecretsFile)
	s, err := readSecrets(path)
	if err != nil {
		return err
	}
	changed := false
	if s.CSIEncryptionPassphrase == "" && c.Addons.HcloudCSI.EncryptionPassphrase == "" {
		if s.CSIEncryptionPassphrase, err = randomHex(32); err != nil {
			return err
		}
		changed = true
	}
	if addons.CiliumIPsecEnabled(c) {
		id := c.Addons.Cilium.Encryption.IPsec.KeyID
		key, _ := hex.DecodeString(s.IPsecKey)
		if s.IPsecKeyID != id || len(key) != addons.CiliumIPsecKeyLen(c) {
			if s.IPsecKey, err = randomHex(addons.CiliumIPsecKeyLen(c)); err != nil {
				return err
			}
			s.IPsecKeyID, changed = id, true
		}
	}
	if changed {
		if err := writeSecrets(path, s); err != nil {
			return err
		}
	}
	in.CSIEncryptionPassphrase = s.CSIEncryptionPassphrase
	if s.IPsecKey != "" && addons.CiliumIPsecEnabled(c) {
		in.IPsecKey, _ = hex.DecodeString(s.IPsecKey)
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate addon secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func readSecrets(path string) (Secrets, error) {
	var s Secrets
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read addon secrets: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return s, fmt.Errorf("addon secrets %s are readable by other users and could not be restricted: %w", path, err)
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("addon secrets %s: %w (restore the file from a backup: the volumes encrypted with its passphrase need it)", path, err)
	}
	return s, nil
}

// writeSecrets replaces the file atomically, so a crash leaves the old or
// the new secrets, never half of them.
func writeSecrets(path string, s Secrets) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".addon-secrets-*.json")
	if err != nil {
		return fmt.Errorf("write addon secrets: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(append(data, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write addon secrets: %w", err)
	}
	return nil
}
