package talos

import (
	"bytes"
	"fmt"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// UserDataLimit is the most user_data Hetzner Cloud accepts for a server.
const UserDataLimit = 32 * 1024

// UserData is the boot-time user_data of cloud servers (docs/terraform-parity.md,
// "Boot-time user data"):
// for private access, the private network's LinkConfig and DHCPv4Config, so
// that a server in maintenance mode is reachable on its private IP; for
// public access nothing (nil): servers boot without user data and receive
// their configuration over the public IP.
func UserData(c *config.Cluster) ([]byte, error) {
	if c.Cluster.Access != "private" {
		return nil, nil
	}
	n, err := c.Layout()
	if err != nil {
		return nil, fmt.Errorf("network layout: %w", err)
	}
	f := facts{net: n, privateLinkName: "eth0"}
	if c.Talos.PublicIPv4Enabled || c.Talos.PublicIPv6Enabled {
		f.privateLinkName = "eth1"
	}
	var docs [][]byte
	for _, p := range privateLinkPatches(c, f) {
		b, err := encodePatch(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, b)
	}
	// Terraform: join("\n---\n", [for p in patches : yamlencode(p)]).
	out := bytes.Join(docs, []byte("\n---\n"))
	if err := CheckUserDataSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckUserDataSize reports whether data fits Hetzner's user_data limit.
func CheckUserDataSize(data []byte) error {
	if len(data) > UserDataLimit {
		return fmt.Errorf("user_data is %d bytes, more than Hetzner's limit of %d bytes", len(data), UserDataLimit)
	}
	return nil
}
