package infra

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindServer is a control-plane or worker server.
const KindServer Kind = "server"

// ServerSpec is a control-plane or worker server.
type ServerSpec struct {
	Role               string       `json:"role"` // control-plane or worker
	Pool               string       `json:"pool"`
	Index              int          `json:"index"` // 1-based index within the pool
	Type               string       `json:"type"`
	Location           string       `json:"location"`
	Arch               string       `json:"arch"`           // amd64 or arm64: which Talos snapshot to boot
	PlacementGroup     string       `json:"placementGroup"` // placement group name; "" for none
	Subnet             netip.Prefix `json:"subnet"`
	PrivateIP          netip.Addr   `json:"privateIP"` // pinned address; invalid for "assigned by Hetzner"
	Firewall           string       `json:"firewall"`  // firewall name, or "" when ExternalFirewallID is used
	ExternalFirewallID int64        `json:"externalFirewallID"`
	SSHKey             string       `json:"sshKey"`
	PublicIPv4         bool         `json:"publicIPv4"`
	PublicIPv6         bool         `json:"publicIPv6"`
	Backups            bool         `json:"backups"`
	DeleteProtection   bool         `json:"deleteProtection"`
	RDNSIPv4           string       `json:"rdnsIPv4"` // reverse DNS template; "" for none
	RDNSIPv6           string       `json:"rdnsIPv6"`

	// Observed only.
	ActualPrivateIP netip.Addr            `json:"actualPrivateIP"`
	Image           int64                 `json:"image"`
	PublicIPv4Addr  netip.Addr            `json:"publicIPv4Addr"`
	PublicIPv6Addr  netip.Addr            `json:"publicIPv6Addr"` // the ::1 address of the server's /64
	PTR             map[netip.Addr]string `json:"ptr,omitempty"`  // reverse DNS per public address
	Status          string                `json:"status"`
}

// serverKind: type and location cannot change in place (that needs a rolling
// replacement), and a bootstrapped cluster's servers are not deleted without
// draining them, which this release does not do.
type serverKind struct{}

func (serverKind) about() kindInfo {
	return kindInfo{kind: KindServer, title: "server", order: 5}
}

func (serverKind) observe(s *State, c *Cloud) { observeAttached(s, c.Servers, serverResource) }

func serverResource(srv *hcloud.Server, subnets []netip.Prefix) *Resource {
	spec := &ServerSpec{
		Role: srv.Labels[layout.LabelRole], Pool: srv.Labels[layout.LabelNodepool],
		Backups: srv.BackupWindow != "", DeleteProtection: srv.Protection.Delete,
		PublicIPv4: !srv.PublicNet.IPv4.IsUnspecified(), PublicIPv6: !srv.PublicNet.IPv6.IsUnspecified(),
		Status: string(srv.Status), PTR: map[netip.Addr]string{},
	}
	if srv.ServerType != nil {
		spec.Type = srv.ServerType.Name
		spec.Arch = string(srv.ServerType.Architecture)
	}
	if srv.Location != nil {
		spec.Location = srv.Location.Name
	}
	if srv.PlacementGroup != nil {
		spec.PlacementGroup = srv.PlacementGroup.Name
	}
	if srv.Image != nil {
		spec.Image = srv.Image.ID
	}
	if a := addrOf(srv.PublicNet.IPv4.IP); a.IsValid() {
		spec.PublicIPv4Addr = a
		spec.PTR[a] = srv.PublicNet.IPv4.DNSPtr
	}
	if n := srv.PublicNet.IPv6.Network; n != nil {
		if a := addrOf(n.IP); a.IsValid() {
			a = a.Next() // the module sets reverse DNS on <net>::1
			spec.PublicIPv6Addr = a
			spec.PTR[a] = srv.PublicNet.IPv6.DNSPtrForIP(net.IP(a.AsSlice()))
		}
	}
	for _, pn := range srv.PrivateNet {
		spec.ActualPrivateIP = addrOf(pn.IP)
		if p := subnetOf(subnets, spec.ActualPrivateIP); p.IsValid() {
			spec.Subnet = p
		}
	}
	return &Resource{Kind: KindServer, Name: srv.Name, ID: srv.ID, Labels: srv.Labels, Protected: srv.Protection.Delete, Server: spec}
}

func (serverKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.Server.GetByName, name, &c.Servers)
}

func (serverKind) compare(c *comparison, d, o *Resource) {
	ds, os := d.Server, o.Server
	if o.Labels[layout.LabelRole] == layout.RoleLeavingControlPlane {
		c.problem("a run that was removing this control plane stopped halfway (it may have left etcd already); lower the pool's count again so that apply finishes the removal, or delete the server (hcloud server delete %s) so that apply creates it anew", o.Name)
	}
	if ds.Type != os.Type {
		c.problem("server type is %s, the cluster file says %s; changing server types needs a rolling replacement, which this release does not do", os.Type, ds.Type)
	}
	if ds.Location != os.Location {
		c.problem("location is %s, the cluster file says %s; servers cannot move", os.Location, ds.Location)
	}
	c.protection(ds.DeleteProtection)
	if ds.Backups != os.Backups {
		c.update("backups", os.Backups, ds.Backups, acting("change backups of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
			if ds.Backups {
				return actionOf(t.api().Server.EnableBackup(ctx, &hcloud.Server{ID: t.id}, ""))
			}
			return actionOf(t.api().Server.DisableBackup(ctx, &hcloud.Server{ID: t.id}))
		}))
	}
	if ds.Subnet.IsValid() && !os.ActualPrivateIP.IsValid() {
		// A run that died between create and attach leaves this behind.
		c.update("network", "not attached", ds.Subnet, acting("attach to network", func(ctx context.Context, t *target) (*hcloud.Action, error) {
			opts := hcloud.ServerAttachToNetworkOpts{Network: &hcloud.Network{ID: t.r.id(Ref{KindNetwork, layout.NetworkName(t.r.plan.Cluster)})}}
			if ds.PrivateIP.IsValid() {
				opts.IP = net.IP(ds.PrivateIP.AsSlice())
			} else {
				opts.IPRange = ipNet(ds.Subnet)
			}
			return actionOf(t.api().Server.AttachToNetwork(ctx, &hcloud.Server{ID: t.id}, opts))
		}))
	}
	c.ptr(ds.RDNSIPv4, os.PublicIPv4Addr, os.PTR, ds.Pool, ds.Role)
	c.ptr(ds.RDNSIPv6, os.PublicIPv6Addr, os.PTR, ds.Pool, ds.Role)
	if stopped(os.Status) {
		// A failed start action, a destroy stopped after its shutdowns, or a
		// hand in the console: a server that is off is no node, so it is not
		// "up to date". Last, so that the other updates reach it while it is
		// off.
		c.updateBecause("start: server is "+os.Status, "power", os.Status, hcloud.ServerStatusRunning,
			acting("start", func(ctx context.Context, t *target) (*hcloud.Action, error) {
				return actionOf(t.api().Server.Poweron(ctx, &hcloud.Server{ID: t.id}))
			}))
	}
}

// stopped says whether a server in status is off or on its way there.
func stopped(status string) bool {
	return status == string(hcloud.ServerStatusOff) || status == string(hcloud.ServerStatusStopping)
}

func (serverKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.Server.Update(ctx, &hcloud.Server{ID: id}, hcloud.ServerUpdateOpts{Labels: labels}))
}

// protect switches rebuild protection with delete protection, as the module does.
func (serverKind) protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error) {
	return actionOf(api.Server.ChangeProtection(ctx, &hcloud.Server{ID: id}, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(on), Rebuild: hcloud.Ptr(on)}))
}

func (serverKind) setPTR(ctx context.Context, api *hcloud.Client, id int64, ip, ptr string) (*hcloud.Action, error) {
	return actionOf(api.Server.ChangeDNSPtr(ctx, &hcloud.Server{ID: id}, ip, hcloud.Ptr(ptr)))
}

// create boots the server from the Talos snapshot of its architecture, with the
// SSH key, firewall and placement group created before it.
func (serverKind) create(ctx context.Context, r *run, d *Resource) error {
	s := d.Server
	image := r.e.Images[s.Arch]
	if image == 0 {
		return fmt.Errorf("no Talos snapshot for %s servers (type %s)", s.Arch, s.Type)
	}
	opts := hcloud.ServerCreateOpts{
		Name: d.Name, ServerType: &hcloud.ServerType{Name: s.Type}, Image: &hcloud.Image{ID: image},
		Location: &hcloud.Location{Name: s.Location}, Labels: d.Labels, StartAfterCreate: hcloud.Ptr(true),
		PublicNet: &hcloud.ServerCreatePublicNet{EnableIPv4: s.PublicIPv4, EnableIPv6: s.PublicIPv6},
	}
	if id := r.id(Ref{KindSSHKey, s.SSHKey}); id != 0 {
		opts.SSHKeys = []*hcloud.SSHKey{{ID: id}}
	}
	fw := s.ExternalFirewallID
	if s.Firewall != "" {
		fw = r.id(Ref{KindFirewall, s.Firewall})
	}
	if fw != 0 {
		opts.Firewalls = []*hcloud.ServerCreateFirewall{{Firewall: hcloud.Firewall{ID: fw}}}
	}
	if s.PlacementGroup != "" {
		id := r.id(Ref{KindPlacementGroup, s.PlacementGroup})
		if id == 0 {
			return fmt.Errorf("placement group %s does not exist", s.PlacementGroup)
		}
		opts.PlacementGroup = &hcloud.PlacementGroup{ID: id}
	}
	return createOne(ctx, r, d, r.api().Server.Create, opts, func(res hcloud.ServerCreateResult) error {
		// The create response predates the actions; attach, protect and set rDNS from it.
		return r.created(ctx, d, res.Server.ID, Cloud{Servers: []*hcloud.Server{res.Server}}, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
	})
}

func (serverKind) placement(d *Resource) string {
	return d.Server.Type + " in " + d.Server.Location
}

// beforeRemove shuts a running server down first (the module's
// shutdown_before_deletion), so that Talos stops cleanly on ACPI.
func (serverKind) beforeRemove(ctx context.Context, r *run, o *Resource) error {
	if o.Server == nil || o.Server.Status != string(hcloud.ServerStatusRunning) {
		return nil
	}
	var a *hcloud.Action
	if err := r.call(ctx, "shut down "+o.Name, func(ctx context.Context) error {
		var err error
		a, err = actionOf(r.api().Server.Shutdown(ctx, &hcloud.Server{ID: o.ID}))
		return err
	}); err != nil {
		return err
	}
	return r.wait(ctx, a)
}

func (serverKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	res, _, err := r.api().Server.DeleteWithResult(ctx, &hcloud.Server{ID: o.ID})
	if err != nil {
		return nil, err
	}
	return res.Action, nil
}

// serverNameRE matches the names hcloud-k8s (and the module) give servers.
var serverNameRE = regexp.MustCompile(`^[a-z0-9-]+-[0-9]+$`)

// deletable: only servers whose labels and name show that hcloud-k8s (or the
// module) made them for one of the cluster file's pools.
func (serverKind) deletable(desired *State, o *Resource) bool {
	role := o.Labels[layout.LabelRole]
	return (role == layout.RoleControlPlane || role == layout.RoleWorker || role == layout.RoleLeavingControlPlane) &&
		o.Labels[layout.LabelNodepool] != "" && strings.HasPrefix(o.Name, desired.Cluster+"-") && serverNameRE.MatchString(o.Name)
}

func (serverKind) deleteReason(p *Plan, o *Resource) string {
	switch {
	case !p.Initialized:
		return "no longer in the cluster file"
	case o.Labels[layout.LabelRole] == layout.RoleWorker:
		return "no longer in the cluster file: cordoned and drained first, then deleted with its Node"
	case o.Labels[layout.LabelRole] == layout.RoleLeavingControlPlane:
		return "a removal that stopped halfway: it leaves etcd (if it has not yet), then it is deleted with its Node"
	}
	return "no longer in the cluster file: cordoned and drained, taken out of the API load balancer, its etcd member leaves, then deleted with its Node"
}

func (serverKind) references(r *Resource) []Ref {
	var out []Ref
	s := r.Server
	if s.Subnet.IsValid() {
		out = append(out, Ref{KindSubnet, s.Subnet.String()})
	}
	if s.PlacementGroup != "" {
		out = append(out, Ref{KindPlacementGroup, s.PlacementGroup})
	}
	if s.Firewall != "" {
		out = append(out, Ref{KindFirewall, s.Firewall})
	}
	if s.SSHKey != "" {
		out = append(out, Ref{KindSSHKey, s.SSHKey})
	}
	return out
}

func (serverKind) createReason(d *Resource) string {
	s := d.Server
	return fmt.Sprintf("%s %d of pool %s (%s, %s)", s.Role, s.Index, s.Pool, s.Type, s.Location)
}

func (serverKind) attributes(r *Resource) map[string]any {
	s := r.Server
	a := map[string]any{"type": s.Type, "location": s.Location, "arch": s.Arch, "placementGroup": s.PlacementGroup, "deleteProtection": s.DeleteProtection}
	if s.Subnet.IsValid() {
		a["subnet"] = s.Subnet.String()
	}
	if s.PrivateIP.IsValid() {
		a["ip"] = s.PrivateIP.String()
	} else if s.ActualPrivateIP.IsValid() {
		a["ip"] = s.ActualPrivateIP.String()
	}
	return a
}

// RetireControlPlane relabels a control plane that apply is removing (role
// RoleLeavingControlPlane): the kube-API load balancer selects control
// planes by label, so this takes the server out of its targets before its
// etcd member leaves, and it tells a later run that the removal has begun.
// The other labels stay, so the server is still provably the cluster's.
func RetireControlPlane(ctx context.Context, client *hetzner.Client, o *Resource) error {
	if o.Labels[layout.LabelRole] == layout.RoleLeavingControlPlane {
		return nil
	}
	labels := maps.Clone(o.Labels)
	labels[layout.LabelRole] = layout.RoleLeavingControlPlane
	if err := client.Retry(ctx, "relabel "+o.Name+" as leaving", func(ctx context.Context) error {
		return serverKind{}.setLabels(ctx, client.API(), o.ID, labels)
	}); err != nil {
		return err
	}
	o.Labels = labels
	return nil
}
