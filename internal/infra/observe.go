package infra

import (
	"context"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Cloud is what Observe found in Hetzner Cloud: every resource labelled
// cluster=<name>, one list call per kind, plus an external network the cluster
// file names by ID. It is the inventory itself, so that a kind the inventory lists
// needs no second list here.
type Cloud = hetzner.Inventory

// Observe reads what exists of the cluster: one label-selector list call per kind
// (cluster=<name>), plus one GET for an existing network named by ID. It fails
// rather than return a partial picture: "could not tell" is never "does not exist".
func Observe(ctx context.Context, client *hetzner.Client, c *config.Cluster) (*State, error) {
	inv, err := client.Inventory(ctx, layout.ClusterSelector(c.Cluster.Name))
	if err != nil {
		return nil, fmt.Errorf("read cluster %s from Hetzner: %w", c.Cluster.Name, err)
	}
	cloud := CloudFromInventory(inv)
	if id := c.Network.ExistingNetworkID; id != 0 {
		var n *hcloud.Network
		err := client.Retry(ctx, fmt.Sprintf("get network %d", id), func(ctx context.Context) error {
			var err error
			n, _, err = client.API().Network.GetByID(ctx, id)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read existing network %d (network.existingNetworkID): %w", id, err)
		}
		if n != nil {
			cloud.Networks = append(cloud.Networks, n)
		}
	}
	return FromCloud(c.Cluster.Name, c.Cluster.Domain, cloud), nil
}

// CloudFromInventory returns a copy of an inventory for FromCloud, so that adding
// to it (an external network) leaves the inventory as it was listed.
func CloudFromInventory(inv *hetzner.Inventory) Cloud {
	return *inv
}

// FromCloud converts the cloud's objects into the model Diff compares, each kind
// as its table says, in plan order. It is pure.
func FromCloud(cluster, domain string, c Cloud) *State {
	s := newState(cluster, domain)
	for _, k := range kinds.ordered {
		k.observe(s, &c)
	}
	return s
}
