package hetzner

import (
	"context"
	"errors"
	"sync"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// listPageSize is the API maximum; it keeps a small project at one request
// per kind.
const listPageSize = 50

// Inventory is what exists in the project under one label selector. Hetzner
// is the state: this is how every command learns what a cluster has.
type Inventory struct {
	Selector        string
	Servers         []*hcloud.Server
	Networks        []*hcloud.Network
	Firewalls       []*hcloud.Firewall
	LoadBalancers   []*hcloud.LoadBalancer
	PlacementGroups []*hcloud.PlacementGroup
	FloatingIPs     []*hcloud.FloatingIP
	SSHKeys         []*hcloud.SSHKey
	Certificates    []*hcloud.Certificate
	Volumes         []*hcloud.Volume
	Snapshots       []*hcloud.Image // images of type snapshot
}

// Len returns the number of resources in the inventory.
func (inv *Inventory) Len() int {
	return len(inv.Servers) + len(inv.Networks) + len(inv.Firewalls) + len(inv.LoadBalancers) +
		len(inv.PlacementGroups) + len(inv.FloatingIPs) + len(inv.SSHKeys) + len(inv.Certificates) +
		len(inv.Volumes) + len(inv.Snapshots)
}

// Inventory lists every resource kind matching selector, with exactly one
// label-selector list call per kind (more only if a kind spans several
// pages), the kinds in parallel. It is all or nothing: if any kind cannot be
// listed it returns an error rather than a partial inventory, because
// "could not tell" must never be mistaken for "does not exist".
//
// An empty selector is refused: it would match the whole project, and the
// result feeds destroy.
func (c *Client) Inventory(ctx context.Context, selector string) (*Inventory, error) {
	if selector == "" {
		return nil, errors.New("inventory: refusing to list without a label selector")
	}
	lo := hcloud.ListOpts{LabelSelector: selector, PerPage: listPageSize}
	inv := &Inventory{Selector: selector}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	list := func(kind string, fn func(ctx context.Context) error) {
		wg.Go(func() {
			if err := c.Retry(ctx, "list "+kind+" with label selector "+selector, fn); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	list("servers", func(ctx context.Context) (err error) {
		inv.Servers, err = c.api.Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: lo})
		return err
	})
	list("networks", func(ctx context.Context) (err error) {
		inv.Networks, err = c.api.Network.AllWithOpts(ctx, hcloud.NetworkListOpts{ListOpts: lo})
		return err
	})
	list("firewalls", func(ctx context.Context) (err error) {
		inv.Firewalls, err = c.api.Firewall.AllWithOpts(ctx, hcloud.FirewallListOpts{ListOpts: lo})
		return err
	})
	list("load balancers", func(ctx context.Context) (err error) {
		inv.LoadBalancers, err = c.api.LoadBalancer.AllWithOpts(ctx, hcloud.LoadBalancerListOpts{ListOpts: lo})
		return err
	})
	list("placement groups", func(ctx context.Context) (err error) {
		inv.PlacementGroups, err = c.api.PlacementGroup.AllWithOpts(ctx, hcloud.PlacementGroupListOpts{ListOpts: lo})
		return err
	})
	list("floating IPs", func(ctx context.Context) (err error) {
		inv.FloatingIPs, err = c.api.FloatingIP.AllWithOpts(ctx, hcloud.FloatingIPListOpts{ListOpts: lo})
		return err
	})
	list("SSH keys", func(ctx context.Context) (err error) {
		inv.SSHKeys, err = c.api.SSHKey.AllWithOpts(ctx, hcloud.SSHKeyListOpts{ListOpts: lo})
		return err
	})
	list("certificates", func(ctx context.Context) (err error) {
		inv.Certificates, err = c.api.Certificate.AllWithOpts(ctx, hcloud.CertificateListOpts{ListOpts: lo})
		return err
	})
	list("volumes", func(ctx context.Context) (err error) {
		inv.Volumes, err = c.api.Volume.AllWithOpts(ctx, hcloud.VolumeListOpts{ListOpts: lo})
		return err
	})
	list("snapshots", func(ctx context.Context) (err error) {
		inv.Snapshots, err = c.listSnapshots(ctx, lo)
		return err
	})
	wg.Wait()
	if err := Join(errs...); err != nil {
		return nil, err
	}
	return inv, nil
}

// ListSnapshots returns the images of type snapshot matching selector (all
// snapshots of the project if it is empty), e.g. to find a reusable Talos
// image by "os=talos,talos_version=v1.11.5".
func (c *Client) ListSnapshots(ctx context.Context, selector string) ([]*hcloud.Image, error) {
	op := "list snapshots"
	if selector != "" {
		op += " with label selector " + selector
	}
	var images []*hcloud.Image
	err := c.Retry(ctx, op, func(ctx context.Context) (err error) {
		images, err = c.listSnapshots(ctx, hcloud.ListOpts{LabelSelector: selector, PerPage: listPageSize})
		return err
	})
	return images, err
}

func (c *Client) listSnapshots(ctx context.Context, lo hcloud.ListOpts) ([]*hcloud.Image, error) {
	return c.api.Image.AllWithOpts(ctx, hcloud.ImageListOpts{ListOpts: lo, Type: []hcloud.ImageType{hcloud.ImageTypeSnapshot}})
}
