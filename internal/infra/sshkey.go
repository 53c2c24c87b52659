package infra

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// KindSSHKey is the cluster's SSH key.
const KindSSHKey Kind = "ssh_key"

// SSHKeySpec is the cluster's SSH key. Talos runs no SSH server, but Hetzner mails a
// root password for servers created without a key; the module sets one for that.
// PublicKey is empty in the desired state: any key of this name and labels will do,
// and a fresh ED25519 key is generated when it is missing.
type SSHKeySpec struct {
	PublicKey string `json:"publicKey"`
}

// sshKeyKind: nothing about the key is compared but its labels (see SSHKeySpec).
type sshKeyKind struct{}

func (sshKeyKind) about() kindInfo {
	return kindInfo{kind: KindSSHKey, title: "SSH key", order: 3, destroyAfter: []Kind{KindServer}}
}

func (sshKeyKind) observe(s *State, c *Cloud) {
	for _, k := range c.SSHKeys {
		s.add(&Resource{Kind: KindSSHKey, Name: k.Name, ID: k.ID, Labels: k.Labels, SSHKey: &SSHKeySpec{PublicKey: k.PublicKey}})
	}
}

func (sshKeyKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.SSHKey.GetByName, name, &c.SSHKeys)
}

func (sshKeyKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.SSHKey.Update(ctx, &hcloud.SSHKey{ID: id}, hcloud.SSHKeyUpdateOpts{Labels: labels}))
}

func (sshKeyKind) create(ctx context.Context, r *run, d *Resource) error {
	pub, err := newSSHPublicKey()
	if err != nil {
		return err
	}
	opts := hcloud.SSHKeyCreateOpts{Name: d.Name, PublicKey: pub, Labels: d.Labels}
	return createOne(ctx, r, d, r.api().SSHKey.Create, opts, func(k *hcloud.SSHKey) error {
		return r.created(ctx, d, k.ID, Cloud{})
	})
}

func (sshKeyKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().SSHKey.Delete(ctx, &hcloud.SSHKey{ID: o.ID}))
}

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
