package infra

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// newSSHPublicKey returns a fresh ED25519 public key in authorized_keys format, as
// the module's generated tls_private_key. Talos runs no SSH server and the private
// key is never used, so it is not kept anywhere.
func newSSHPublicKey() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate SSH key: %w", err)
	}
	// RFC 8709 wire format: string "ssh-ed25519", string key.
	const algo = "ssh-ed25519"
	blob := make([]byte, 0, 4+len(algo)+4+len(pub))
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(algo)))
	blob = append(blob, algo...)
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(pub)))
	blob = append(blob, pub...)
	return algo + " " + base64.StdEncoding.EncodeToString(blob), nil
}
