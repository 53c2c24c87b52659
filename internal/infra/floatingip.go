package infra

import (
	"context"
	"net/netip"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindFloatingIP is the control plane's public VIP.
const KindFloatingIP Kind = "floating_ip"

// FloatingIPSpec is the control plane's public VIP.
type FloatingIPSpec struct {
	HomeLocation     string `json:"homeLocation"`
	Description      string `json:"description"`
	DeleteProtection bool   `json:"deleteProtection"`
	// Observed only.
	IP netip.Addr `json:"ip"`
}

// floatingIPKind: a floating IP cannot move to another home location.
type floatingIPKind struct{}

func (floatingIPKind) about() kindInfo {
	return kindInfo{kind: KindFloatingIP, title: "floating IP", order: 7}
}

func (floatingIPKind) observe(s *State, c *Cloud) {
	for _, f := range c.FloatingIPs {
		spec := &FloatingIPSpec{Description: f.Description, DeleteProtection: f.Protection.Delete, IP: addrOf(f.IP)}
		if f.HomeLocation != nil {
			spec.HomeLocation = f.HomeLocation.Name
		}
		s.add(&Resource{Kind: KindFloatingIP, Name: f.Name, ID: f.ID, Labels: f.Labels, Protected: f.Protection.Delete, FloatingIP: spec})
	}
}

func (floatingIPKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.FloatingIP.GetByName, name, &c.FloatingIPs)
}

func (floatingIPKind) compare(c *comparison, d, o *Resource) {
	if d.FloatingIP.HomeLocation != o.FloatingIP.HomeLocation {
		c.problem("home location is %s, the cluster file needs %s; floating IPs cannot move, delete it to have it re-created", o.FloatingIP.HomeLocation, d.FloatingIP.HomeLocation)
	}
	c.protection(d.FloatingIP.DeleteProtection)
	if want := d.FloatingIP.Description; want != o.FloatingIP.Description {
		c.update("description", o.FloatingIP.Description, want, plain("update floating IP", func(ctx context.Context, t *target) error {
			return errOf(t.api().FloatingIP.Update(ctx, &hcloud.FloatingIP{ID: t.id}, hcloud.FloatingIPUpdateOpts{Description: want}))
		}))
	}
}

func (floatingIPKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.FloatingIP.Update(ctx, &hcloud.FloatingIP{ID: id}, hcloud.FloatingIPUpdateOpts{Labels: labels}))
}

func (floatingIPKind) protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error) {
	return actionOf(api.FloatingIP.ChangeProtection(ctx, &hcloud.FloatingIP{ID: id}, hcloud.FloatingIPChangeProtectionOpts{Delete: hcloud.Ptr(on)}))
}

func (floatingIPKind) create(ctx context.Context, r *run, d *Resource) error {
	f := d.FloatingIP
	opts := hcloud.FloatingIPCreateOpts{
		Type: hcloud.FloatingIPTypeIPv4, HomeLocation: &hcloud.Location{Name: f.HomeLocation},
		Description: hcloud.Ptr(f.Description), Name: hcloud.Ptr(d.Name), Labels: d.Labels,
	}
	return createOne(ctx, r, d, r.api().FloatingIP.Create, opts, func(res hcloud.FloatingIPCreateResult) error {
		return r.created(ctx, d, res.FloatingIP.ID, Cloud{FloatingIPs: []*hcloud.FloatingIP{res.FloatingIP}}, res.Action)
	})
}

func (floatingIPKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().FloatingIP.Delete(ctx, &hcloud.FloatingIP{ID: o.ID}))
}

// deletable: only the control plane's VIP, by its layout name.
func (floatingIPKind) deletable(desired *State, o *Resource) bool {
	return o.Name == layout.FloatingIPName(desired.Cluster)
}

func (floatingIPKind) attributes(r *Resource) map[string]any {
	return map[string]any{"homeLocation": r.FloatingIP.HomeLocation}
}
