package infra

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Each step is idempotent: a create whose name is already taken adopts the resource
// if its labels say it belongs to this cluster (an earlier run may have created it
// and died before seeing the answer), and a delete of something already gone is done.

func (r *run) api() *hcloud.Client { return r.e.Client.API() }

// call runs one API write with the client's bounded retries.
func (r *run) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return r.e.Client.Retry(ctx, op, fn)
}

func (r *run) wait(ctx context.Context, actions ...*hcloud.Action) error {
	actions = slices.DeleteFunc(actions, func(a *hcloud.Action) bool { return a == nil })
	if len(actions) == 0 {
		return nil
	}
	return r.e.Client.WaitForActions(ctx, actions...)
}

// isOurs reports whether labels put a resource found by name in this cluster.
func (r *run) isOurs(labels map[string]string) bool {
	return labels[layout.LabelCluster] == r.plan.Cluster
}

// getByName appends the resource called name, if there is one, to dst.
func getByName[T any](ctx context.Context, get func(context.Context, string) (*T, *hcloud.Response, error), name string, dst *[]*T) error {
	v, _, err := get(ctx, name)
	if v != nil {
		*dst = append(*dst, v)
	}
	return err
}

// adopt handles a create that failed because the name is taken: if the resource of
// that name carries this cluster's label, an earlier run created it, so it is taken
// over and brought to its desired attributes; otherwise it belongs to someone else
// and apply stops rather than touch it.
func (r *run) adopt(ctx context.Context, d *Resource) error {
	var cloud Cloud
	var err error
	api := r.api()
	switch d.Kind {
	case KindNetwork:
		err = getByName(ctx, api.Network.GetByName, d.Name, &cloud.Networks)
	case KindFirewall:
		err = getByName(ctx, api.Firewall.GetByName, d.Name, &cloud.Firewalls)
	case KindSSHKey:
		err = getByName(ctx, api.SSHKey.GetByName, d.Name, &cloud.SSHKeys)
	case KindPlacementGroup:
		err = getByName(ctx, api.PlacementGroup.GetByName, d.Name, &cloud.PlacementGroups)
	case KindServer:
		err = getByName(ctx, api.Server.GetByName, d.Name, &cloud.Servers)
	case KindLoadBalancer:
		err = getByName(ctx, api.LoadBalancer.GetByName, d.Name, &cloud.LoadBalancers)
	case KindFloatingIP:
		err = getByName(ctx, api.FloatingIP.GetByName, d.Name, &cloud.FloatingIPs)
	}
	if err != nil {
		return fmt.Errorf("look up the existing %s %s: %w", d.Kind, d.Name, err)
	}
	o := FromCloud(r.plan.Cluster, r.desired.Domain, cloud).Get(d.Ref())
	if o == nil {
		return fmt.Errorf("the name %s is taken by a %s that could not be found", d.Name, d.Kind)
	}
	if !r.isOurs(o.Labels) {
		return fmt.Errorf("a %s named %s already exists but does not carry the label cluster=%s; it belongs to something else, so hcloud-k8s will not touch it: rename or delete it, or pick another cluster name", d.Kind, d.Name, r.plan.Cluster)
	}
	r.setID(d.Ref(), o.ID)
	return r.converge(ctx, d, o)
}

func (r *run) create(ctx context.Context, d *Resource) error {
	switch d.Kind {
	case KindNetwork:
		return r.createNetwork(ctx, d)
	case KindSubnet:
		return r.createSubnet(ctx, d)
	case KindFirewall:
		return r.createFirewall(ctx, d)
	case KindSSHKey:
		return r.createSSHKey(ctx, d)
	case KindPlacementGroup:
		return r.createPlacementGroup(ctx, d)
	case KindServer:
		return r.createServer(ctx, d)
	case KindLoadBalancer:
		return r.createLoadBalancer(ctx, d)
	case KindFloatingIP:
		return r.createFloatingIP(ctx, d)
	}
	return fmt.Errorf("creating %s is not supported", d.Kind)
}

// converge brings an existing resource (just created, or adopted) to its desired
// attributes with the same in-place updates a plan would make.
func (r *run) converge(ctx context.Context, d, o *Resource) error {
	scratch := &Plan{Cluster: r.plan.Cluster}
	ch := compare(r.desired, d, o, scratch)
	if len(scratch.Problems) > 0 {
		return errors.New(strings.Join(scratch.Problems, "\n  "))
	}
	if ch.Action == ActionNoop {
		return nil
	}
	return r.update(ctx, &ch)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func (r *run) createNetwork(ctx context.Context, d *Resource) error {
	// Subnets planned for this network go into the create request: one call
	// instead of one add_subnet action each.
	opts := hcloud.NetworkCreateOpts{Name: d.Name, IPRange: ipNet(d.Network.IPRange), Labels: d.Labels, ExposeRoutesToVSwitch: d.Network.ExposeRoutesToVSwitch}
	var subnets []Ref
	for _, c := range r.plan.Changes {
		if c.Action == ActionCreate && c.Desired.Subnet != nil && c.Desired.Subnet.Network == d.Name {
			s := c.Desired.Subnet
			opts.Subnets = append(opts.Subnets, hcloud.NetworkSubnet{Type: hcloud.NetworkSubnetTypeCloud, IPRange: ipNet(s.IPRange), NetworkZone: hcloud.NetworkZone(s.NetworkZone)})
			subnets = append(subnets, c.Ref)
		}
	}
	var n *hcloud.Network
	err := r.call(ctx, "create network "+d.Name, func(ctx context.Context) error {
		var err error
		n, _, err = r.api().Network.Create(ctx, opts)
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), n.ID)
	r.mu.Lock()
	for _, s := range subnets {
		r.withNetwork[s] = true
	}
	r.mu.Unlock()
	return r.converge(ctx, d, FromCloud(r.plan.Cluster, r.desired.Domain, Cloud{Networks: []*hcloud.Network{n}}).Get(d.Ref()))
}

func (r *run) createSubnet(ctx context.Context, d *Resource) error {
	if r.createdWithNetwork(d.Ref()) {
		return nil
	}
	netID := r.id(Ref{KindNetwork, d.Subnet.Network})
	if netID == 0 {
		return fmt.Errorf("network %s does not exist", d.Subnet.Network)
	}
	s := d.Subnet
	var a *hcloud.Action
	err := r.call(ctx, "add subnet "+d.Name, func(ctx context.Context) error {
		var err error
		a, _, err = r.api().Network.AddSubnet(ctx, &hcloud.Network{ID: netID}, hcloud.NetworkAddSubnetOpts{Subnet: hcloud.NetworkSubnet{
			Type: hcloud.NetworkSubnetTypeCloud, IPRange: ipNet(s.IPRange), NetworkZone: hcloud.NetworkZone(s.NetworkZone),
		}})
		return err
	})
	if err != nil {
		return err
	}
	return r.wait(ctx, a)
}

func hcloudRules(rules []FirewallRule) []hcloud.FirewallRule {
	out := make([]hcloud.FirewallRule, 0, len(rules))
	for _, fr := range rules {
		rule := hcloud.FirewallRule{Direction: hcloud.FirewallRuleDirection(fr.Direction), Protocol: hcloud.FirewallRuleProtocol(fr.Protocol)}
		if fr.Port != "" {
			rule.Port = hcloud.Ptr(fr.Port)
		}
		if fr.Description != "" {
			rule.Description = hcloud.Ptr(fr.Description)
		}
		for _, s := range fr.SourceIPs {
			if p, err := netip.ParsePrefix(s); err == nil {
				rule.SourceIPs = append(rule.SourceIPs, *ipNet(p))
			}
		}
		for _, s := range fr.DestinationIPs {
			if p, err := netip.ParsePrefix(s); err == nil {
				rule.DestinationIPs = append(rule.DestinationIPs, *ipNet(p))
			}
		}
		out = append(out, rule)
	}
	return out
}

func (r *run) createFirewall(ctx context.Context, d *Resource) error {
	var res hcloud.FirewallCreateResult
	err := r.call(ctx, "create firewall "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = r.api().Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: d.Name, Labels: d.Labels, Rules: hcloudRules(d.Firewall.Rules)})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), res.Firewall.ID)
	return r.wait(ctx, res.Actions...)
}

func (r *run) createSSHKey(ctx context.Context, d *Resource) error {
	pub, err := newSSHPublicKey()
	if err != nil {
		return err
	}
	var k *hcloud.SSHKey
	err = r.call(ctx, "create SSH key "+d.Name, func(ctx context.Context) error {
		var err error
		k, _, err = r.api().SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: d.Name, PublicKey: pub, Labels: d.Labels})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), k.ID)
	return nil
}

func (r *run) createPlacementGroup(ctx context.Context, d *Resource) error {
	var res hcloud.PlacementGroupCreateResult
	err := r.call(ctx, "create placement group "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = r.api().PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: d.Name, Labels: d.Labels, Type: hcloud.PlacementGroupType(d.PlacementGroup.Type)})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), res.PlacementGroup.ID)
	return r.wait(ctx, res.Action)
}

func (r *run) createServer(ctx context.Context, d *Resource) error {
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
	var res hcloud.ServerCreateResult
	err := r.call(ctx, "create server "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = r.api().Server.Create(ctx, opts)
		return err
	})
	switch hetzner.Classify(err) {
	case hetzner.ClassUniqueness:
		return r.adopt(ctx, d)
	case hetzner.ClassUnavailable:
		return fmt.Errorf("Hetzner has no capacity for server type %s in %s right now (%w); try another location or type in the cluster file, or retry later", s.Type, s.Location, err)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), res.Server.ID)
	if err := r.wait(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...); err != nil {
		return err
	}
	// The create response predates the actions; attach, protect and set rDNS from it.
	return r.converge(ctx, d, serverResource(res.Server, nil))
}

func (r *run) createLoadBalancer(ctx context.Context, d *Resource) error {
	l := d.LoadBalancer
	opts := hcloud.LoadBalancerCreateOpts{
		Name: d.Name, LoadBalancerType: &hcloud.LoadBalancerType{Name: l.Type},
		Algorithm: &hcloud.LoadBalancerAlgorithm{Type: hcloud.LoadBalancerAlgorithmType(l.Algorithm)},
		Location:  &hcloud.Location{Name: l.Location}, Labels: d.Labels, PublicInterface: hcloud.Ptr(l.PublicInterface),
	}
	if !l.ServicesManagedByCCM {
		for _, svc := range l.Services {
			opts.Services = append(opts.Services, createService(svc))
		}
		// Targets come after the network attachment: Hetzner refuses private-IP
		// targets on a load balancer that is not in a network yet, and the
		// attachment needs its fixed address, which create cannot take.
	}
	var res hcloud.LoadBalancerCreateResult
	err := r.call(ctx, "create load balancer "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = r.api().LoadBalancer.Create(ctx, opts)
		return err
	})
	switch hetzner.Classify(err) {
	case hetzner.ClassUniqueness:
		return r.adopt(ctx, d)
	case hetzner.ClassUnavailable:
		return fmt.Errorf("Hetzner cannot create load balancer type %s in %s right now (%w)", l.Type, l.Location, err)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), res.LoadBalancer.ID)
	if err := r.wait(ctx, res.Action); err != nil {
		return err
	}
	return r.converge(ctx, d, loadBalancerResource(res.LoadBalancer, nil))
}

func createService(svc LBService) hcloud.LoadBalancerCreateOptsService {
	hc := svc.HealthCheck
	out := hcloud.LoadBalancerCreateOptsService{
		Protocol: hcloud.LoadBalancerServiceProtocol(svc.Protocol), ListenPort: hcloud.Ptr(svc.ListenPort),
		DestinationPort: hcloud.Ptr(svc.DestinationPort), Proxyprotocol: hcloud.Ptr(svc.ProxyProtocol),
		HealthCheck: &hcloud.LoadBalancerCreateOptsServiceHealthCheck{
			Protocol: hcloud.LoadBalancerServiceProtocol(hc.Protocol), Port: hcloud.Ptr(hc.Port),
			Interval: hcloud.Ptr(time.Duration(hc.Interval) * time.Second), Timeout: hcloud.Ptr(time.Duration(hc.Timeout) * time.Second),
			Retries: hcloud.Ptr(hc.Retries),
		},
	}
	if h := hc.HTTP; h != nil {
		out.HealthCheck.HTTP = &hcloud.LoadBalancerCreateOptsServiceHealthCheckHTTP{Path: hcloud.Ptr(h.Path), Response: hcloud.Ptr(h.Response), TLS: hcloud.Ptr(h.TLS), StatusCodes: h.StatusCodes}
	}
	return out
}

func (r *run) createFloatingIP(ctx context.Context, d *Resource) error {
	f := d.FloatingIP
	var res hcloud.FloatingIPCreateResult
	err := r.call(ctx, "create floating IP "+d.Name, func(ctx context.Context) error {
		var err error
		res, _, err = r.api().FloatingIP.Create(ctx, hcloud.FloatingIPCreateOpts{
			Type: hcloud.FloatingIPTypeIPv4, HomeLocation: &hcloud.Location{Name: f.HomeLocation},
			Description: hcloud.Ptr(f.Description), Name: hcloud.Ptr(d.Name), Labels: d.Labels,
		})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return r.adopt(ctx, d)
	}
	if err != nil {
		return err
	}
	r.setID(d.Ref(), res.FloatingIP.ID)
	if err := r.wait(ctx, res.Action); err != nil {
		return err
	}
	return r.converge(ctx, d, FromCloud(r.plan.Cluster, r.desired.Domain, Cloud{FloatingIPs: []*hcloud.FloatingIP{res.FloatingIP}}).Get(d.Ref()))
}

// update applies in-place changes; their actions are waited for together.
func (r *run) update(ctx context.Context, c *Change) error {
	d, o := c.Desired, c.Observed
	id := o.ID
	if id == 0 {
		id = r.id(c.Ref)
	}
	var actions []*hcloud.Action
	// Hetzner locks a resource while one of its actions runs, so each action is
	// waited for before the next change: asking earlier only earns "locked".
	act := func(op string, fn func(ctx context.Context) (*hcloud.Action, error)) error {
		err := r.call(ctx, op+" "+d.Name, func(ctx context.Context) error {
			a, err := fn(ctx)
			if err == nil {
				err = r.wait(ctx, a)
			}
			return err
		})
		// An earlier, interrupted run may have started the same change (an attach
		// still running when it was killed): the state it wanted is there.
		if hetzner.Classify(err) == hetzner.ClassAlreadyApplied {
			return nil
		}
		return err
	}
	api := r.api()
	for _, u := range c.Updates {
		var err error
		switch {
		case u.Field == "labels":
			err = r.call(ctx, "update labels of "+d.Name, func(ctx context.Context) error { return r.updateLabels(ctx, d, id) })
		case u.Field == "protection":
			err = act("change protection of", func(ctx context.Context) (*hcloud.Action, error) {
				return r.changeProtection(ctx, d.Kind, id, desiredProtection(d))
			})
		case u.Field == "rules":
			err = r.call(ctx, "set rules of "+d.Name, func(ctx context.Context) error {
				as, _, err := api.Firewall.SetRules(ctx, &hcloud.Firewall{ID: id}, hcloud.FirewallSetRulesOpts{Rules: hcloudRules(d.Firewall.Rules)})
				actions = append(actions, as...)
				return err
			})
		case u.Field == "backups":
			err = act("change backups of", func(ctx context.Context) (*hcloud.Action, error) {
				if d.Server.Backups {
					a, _, err := api.Server.EnableBackup(ctx, &hcloud.Server{ID: id}, "")
					return a, err
				}
				a, _, err := api.Server.DisableBackup(ctx, &hcloud.Server{ID: id})
				return a, err
			})
		case strings.HasPrefix(u.Field, "dns_ptr "):
			ip := strings.TrimPrefix(u.Field, "dns_ptr ")
			err = act("set reverse DNS of", func(ctx context.Context) (*hcloud.Action, error) { return r.changePTR(ctx, d.Kind, id, ip, u.To) })
		case u.Field == "network" && d.Kind == KindServer:
			err = act("attach to network", func(ctx context.Context) (*hcloud.Action, error) {
				opts := hcloud.ServerAttachToNetworkOpts{Network: &hcloud.Network{ID: r.id(Ref{KindNetwork, layout.NetworkName(r.plan.Cluster)})}}
				if d.Server.PrivateIP.IsValid() {
					opts.IP = net.IP(d.Server.PrivateIP.AsSlice())
				} else {
					opts.IPRange = ipNet(d.Server.Subnet)
				}
				a, _, err := api.Server.AttachToNetwork(ctx, &hcloud.Server{ID: id}, opts)
				return a, err
			})
		case u.Field == "network" && d.Kind == KindLoadBalancer:
			if o.LoadBalancer.PrivateIP.IsValid() {
				return fmt.Errorf("is attached to the network at %s, the layout needs %s; detach it or delete the load balancer to have it re-created", o.LoadBalancer.PrivateIP, d.LoadBalancer.PrivateIP)
			}
			err = act("attach to network", func(ctx context.Context) (*hcloud.Action, error) {
				a, _, err := api.LoadBalancer.AttachToNetwork(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerAttachToNetworkOpts{
					Network: &hcloud.Network{ID: r.id(Ref{KindNetwork, d.LoadBalancer.Network})}, IP: net.IP(d.LoadBalancer.PrivateIP.AsSlice()),
				})
				return a, err
			})
		case u.Field == "expose_routes_to_vswitch":
			err = r.call(ctx, "update network "+d.Name, func(ctx context.Context) error {
				_, _, err := api.Network.Update(ctx, &hcloud.Network{ID: id}, hcloud.NetworkUpdateOpts{ExposeRoutesToVSwitch: hcloud.Ptr(d.Network.ExposeRoutesToVSwitch)})
				return err
			})
		case u.Field == "description":
			err = r.call(ctx, "update floating IP "+d.Name, func(ctx context.Context) error {
				_, _, err := api.FloatingIP.Update(ctx, &hcloud.FloatingIP{ID: id}, hcloud.FloatingIPUpdateOpts{Description: d.FloatingIP.Description})
				return err
			})
		case u.Field == "type":
			err = act("change type of", func(ctx context.Context) (*hcloud.Action, error) {
				a, _, err := api.LoadBalancer.ChangeType(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerChangeTypeOpts{LoadBalancerType: &hcloud.LoadBalancerType{Name: d.LoadBalancer.Type}})
				return a, err
			})
		case u.Field == "algorithm":
			err = act("change algorithm of", func(ctx context.Context) (*hcloud.Action, error) {
				a, _, err := api.LoadBalancer.ChangeAlgorithm(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerChangeAlgorithmOpts{Type: hcloud.LoadBalancerAlgorithmType(d.LoadBalancer.Algorithm)})
				return a, err
			})
		case u.Field == "public_interface":
			err = act("change public interface of", func(ctx context.Context) (*hcloud.Action, error) {
				if d.LoadBalancer.PublicInterface {
					a, _, err := api.LoadBalancer.EnablePublicInterface(ctx, &hcloud.LoadBalancer{ID: id})
					return a, err
				}
				a, _, err := api.LoadBalancer.DisablePublicInterface(ctx, &hcloud.LoadBalancer{ID: id})
				return a, err
			})
		case u.Field == "services":
			err = r.syncServices(ctx, id, d.LoadBalancer.Services, o.LoadBalancer.Services, &actions)
		case u.Field == "targets":
			err = r.syncTargets(ctx, id, d.LoadBalancer.Targets, o.LoadBalancer.Targets, &actions)
		default:
			err = fmt.Errorf("updating %s is not supported", u.Field)
		}
		if err != nil {
			return err
		}
	}
	return r.wait(ctx, actions...)
}

func desiredProtection(d *Resource) bool {
	switch {
	case d.Network != nil:
		return d.Network.DeleteProtection
	case d.Server != nil:
		return d.Server.DeleteProtection
	case d.LoadBalancer != nil:
		return d.LoadBalancer.DeleteProtection
	case d.FloatingIP != nil:
		return d.FloatingIP.DeleteProtection
	}
	return false
}

func (r *run) updateLabels(ctx context.Context, d *Resource, id int64) error {
	api := r.api()
	var err error
	switch d.Kind {
	case KindNetwork:
		_, _, err = api.Network.Update(ctx, &hcloud.Network{ID: id}, hcloud.NetworkUpdateOpts{Labels: d.Labels})
	case KindFirewall:
		_, _, err = api.Firewall.Update(ctx, &hcloud.Firewall{ID: id}, hcloud.FirewallUpdateOpts{Labels: d.Labels})
	case KindSSHKey:
		_, _, err = api.SSHKey.Update(ctx, &hcloud.SSHKey{ID: id}, hcloud.SSHKeyUpdateOpts{Labels: d.Labels})
	case KindPlacementGroup:
		_, _, err = api.PlacementGroup.Update(ctx, &hcloud.PlacementGroup{ID: id}, hcloud.PlacementGroupUpdateOpts{Labels: d.Labels})
	case KindServer:
		_, _, err = api.Server.Update(ctx, &hcloud.Server{ID: id}, hcloud.ServerUpdateOpts{Labels: d.Labels})
	case KindLoadBalancer:
		_, _, err = api.LoadBalancer.Update(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerUpdateOpts{Labels: d.Labels})
	case KindFloatingIP:
		_, _, err = api.FloatingIP.Update(ctx, &hcloud.FloatingIP{ID: id}, hcloud.FloatingIPUpdateOpts{Labels: d.Labels})
	default:
		err = fmt.Errorf("cannot update labels of a %s", d.Kind)
	}
	return err
}

func (r *run) changeProtection(ctx context.Context, kind Kind, id int64, on bool) (*hcloud.Action, error) {
	api := r.api()
	var a *hcloud.Action
	var err error
	switch kind {
	case KindNetwork:
		a, _, err = api.Network.ChangeProtection(ctx, &hcloud.Network{ID: id}, hcloud.NetworkChangeProtectionOpts{Delete: hcloud.Ptr(on)})
	case KindServer:
		a, _, err = api.Server.ChangeProtection(ctx, &hcloud.Server{ID: id}, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(on), Rebuild: hcloud.Ptr(on)})
	case KindLoadBalancer:
		a, _, err = api.LoadBalancer.ChangeProtection(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerChangeProtectionOpts{Delete: hcloud.Ptr(on)})
	case KindFloatingIP:
		a, _, err = api.FloatingIP.ChangeProtection(ctx, &hcloud.FloatingIP{ID: id}, hcloud.FloatingIPChangeProtectionOpts{Delete: hcloud.Ptr(on)})
	case KindVolume:
		a, _, err = api.Volume.ChangeProtection(ctx, &hcloud.Volume{ID: id}, hcloud.VolumeChangeProtectionOpts{Delete: hcloud.Ptr(on)})
	default:
		err = fmt.Errorf("a %s has no protection", kind)
	}
	return a, err
}

func (r *run) changePTR(ctx context.Context, kind Kind, id int64, ip, ptr string) (*hcloud.Action, error) {
	api := r.api()
	var a *hcloud.Action
	var err error
	switch kind {
	case KindServer:
		a, _, err = api.Server.ChangeDNSPtr(ctx, &hcloud.Server{ID: id}, ip, hcloud.Ptr(ptr))
	case KindLoadBalancer:
		a, _, err = api.LoadBalancer.ChangeDNSPtr(ctx, &hcloud.LoadBalancer{ID: id}, ip, hcloud.Ptr(ptr))
	default:
		err = fmt.Errorf("reverse DNS of a %s is not supported", kind)
	}
	return a, err
}

func (r *run) syncServices(ctx context.Context, id int64, want, have []LBService, actions *[]*hcloud.Action) error {
	api := r.api()
	lb := &hcloud.LoadBalancer{ID: id}
	haveByPort := map[int]LBService{}
	for _, s := range have {
		haveByPort[s.ListenPort] = s
	}
	wantPorts := map[int]bool{}
	for _, s := range want {
		wantPorts[s.ListenPort] = true
		h, exists := haveByPort[s.ListenPort]
		if exists && servicesEqual(h, s) {
			continue
		}
		if exists {
			// Replacing is simpler than translating every field into update options.
			if err := r.call(ctx, fmt.Sprintf("delete service %d", s.ListenPort), func(ctx context.Context) error {
				a, _, err := api.LoadBalancer.DeleteService(ctx, lb, s.ListenPort)
				if err == nil {
					err = r.wait(ctx, a)
				}
				return err
			}); err != nil {
				return err
			}
		}
		cs := createService(s)
		if err := r.call(ctx, fmt.Sprintf("add service %d", s.ListenPort), func(ctx context.Context) error {
			a, _, err := api.LoadBalancer.AddService(ctx, lb, hcloud.LoadBalancerAddServiceOpts{
				Protocol: cs.Protocol, ListenPort: cs.ListenPort, DestinationPort: cs.DestinationPort, Proxyprotocol: cs.Proxyprotocol,
				HealthCheck: &hcloud.LoadBalancerAddServiceOptsHealthCheck{
					Protocol: cs.HealthCheck.Protocol, Port: cs.HealthCheck.Port, Interval: cs.HealthCheck.Interval,
					Timeout: cs.HealthCheck.Timeout, Retries: cs.HealthCheck.Retries, HTTP: addServiceHTTP(cs.HealthCheck.HTTP),
				},
			})
			if err == nil {
				*actions = append(*actions, a)
			}
			return err
		}); err != nil {
			return err
		}
	}
	for port := range haveByPort {
		if wantPorts[port] {
			continue
		}
		if err := r.call(ctx, fmt.Sprintf("delete service %d", port), func(ctx context.Context) error {
			a, _, err := api.LoadBalancer.DeleteService(ctx, lb, port)
			if err == nil {
				*actions = append(*actions, a)
			}
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func addServiceHTTP(h *hcloud.LoadBalancerCreateOptsServiceHealthCheckHTTP) *hcloud.LoadBalancerAddServiceOptsHealthCheckHTTP {
	if h == nil {
		return nil
	}
	return &hcloud.LoadBalancerAddServiceOptsHealthCheckHTTP{Domain: h.Domain, Path: h.Path, Response: h.Response, StatusCodes: h.StatusCodes, TLS: h.TLS}
}

func (r *run) syncTargets(ctx context.Context, id int64, want, have []LBTarget, actions *[]*hcloud.Action) error {
	api := r.api()
	lb := &hcloud.LoadBalancer{ID: id}
	for _, t := range want {
		if slices.Contains(have, t) {
			continue
		}
		if err := r.call(ctx, "add target "+t.LabelSelector, func(ctx context.Context) error {
			a, _, err := api.LoadBalancer.AddLabelSelectorTarget(ctx, lb, hcloud.LoadBalancerAddLabelSelectorTargetOpts{Selector: t.LabelSelector, UsePrivateIP: hcloud.Ptr(t.UsePrivateIP)})
			if err == nil {
				*actions = append(*actions, a)
			}
			return err
		}); err != nil {
			return err
		}
	}
	for _, t := range have {
		if slices.Contains(want, t) {
			continue
		}
		if err := r.call(ctx, "remove target "+t.LabelSelector, func(ctx context.Context) error {
			a, _, err := api.LoadBalancer.RemoveLabelSelectorTarget(ctx, lb, t.LabelSelector)
			if err == nil {
				*actions = append(*actions, a)
			}
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// delete removes one resource: protection off first (the plan only deletes what this
// cluster owns), then the delete; already gone counts as done.
func (r *run) delete(ctx context.Context, o *Resource) error {
	err := r.deleteOnce(ctx, o)
	if hetzner.Classify(err) == hetzner.ClassNotFound {
		return nil
	}
	return err
}

func (r *run) deleteOnce(ctx context.Context, o *Resource) error {
	api := r.api()
	if o.Protected {
		var a *hcloud.Action
		if err := r.call(ctx, "remove delete protection of "+o.Name, func(ctx context.Context) error {
			var err error
			a, err = r.changeProtection(ctx, o.Kind, o.ID, false)
			return err
		}); err != nil {
			return err
		}
		if err := r.wait(ctx, a); err != nil {
			return err
		}
	}
	switch o.Kind {
	case KindServer:
		srv := &hcloud.Server{ID: o.ID}
		if o.Server != nil && o.Server.Status == string(hcloud.ServerStatusRunning) {
			// shutdown_before_deletion: let Talos stop cleanly (ACPI), as the module does.
			var a *hcloud.Action
			if err := r.call(ctx, "shut down "+o.Name, func(ctx context.Context) error {
				var err error
				a, _, err = api.Server.Shutdown(ctx, srv)
				return err
			}); err != nil {
				return err
			}
			if err := r.wait(ctx, a); err != nil {
				return err
			}
		}
		return r.call(ctx, "delete server "+o.Name, func(ctx context.Context) error {
			res, _, err := api.Server.DeleteWithResult(ctx, srv)
			if err == nil {
				err = r.wait(ctx, res.Action)
			}
			return err
		})
	case KindPlacementGroup:
		return r.call(ctx, "delete placement group "+o.Name, func(ctx context.Context) error {
			_, err := api.PlacementGroup.Delete(ctx, &hcloud.PlacementGroup{ID: o.ID})
			return err
		})
	case KindSubnet:
		netID := r.id(Ref{KindNetwork, o.Subnet.Network})
		return r.call(ctx, "delete subnet "+o.Name, func(ctx context.Context) error {
			a, _, err := api.Network.DeleteSubnet(ctx, &hcloud.Network{ID: netID}, hcloud.NetworkDeleteSubnetOpts{Subnet: hcloud.NetworkSubnet{IPRange: ipNet(o.Subnet.IPRange)}})
			if err == nil {
				err = r.wait(ctx, a)
			}
			return err
		})
	case KindLoadBalancer:
		return r.call(ctx, "delete load balancer "+o.Name, func(ctx context.Context) error {
			_, err := api.LoadBalancer.Delete(ctx, &hcloud.LoadBalancer{ID: o.ID})
			return err
		})
	case KindFloatingIP:
		return r.call(ctx, "delete floating IP "+o.Name, func(ctx context.Context) error {
			_, err := api.FloatingIP.Delete(ctx, &hcloud.FloatingIP{ID: o.ID})
			return err
		})
	case KindFirewall:
		return r.call(ctx, "delete firewall "+o.Name, func(ctx context.Context) error {
			_, err := api.Firewall.Delete(ctx, &hcloud.Firewall{ID: o.ID})
			return err
		})
	case KindSSHKey:
		return r.call(ctx, "delete SSH key "+o.Name, func(ctx context.Context) error {
			_, err := api.SSHKey.Delete(ctx, &hcloud.SSHKey{ID: o.ID})
			return err
		})
	case KindNetwork:
		return r.call(ctx, "delete network "+o.Name, func(ctx context.Context) error {
			_, err := api.Network.Delete(ctx, &hcloud.Network{ID: o.ID})
			return err
		})
	case KindVolume:
		if o.Volume != nil && o.Volume.Server != 0 {
			if err := r.call(ctx, "detach volume "+o.Name, func(ctx context.Context) error {
				a, _, err := api.Volume.Detach(ctx, &hcloud.Volume{ID: o.ID})
				if err == nil {
					err = r.wait(ctx, a)
				}
				return err
			}); err != nil && hetzner.Classify(err) != hetzner.ClassNotFound {
				return err
			}
		}
		return r.call(ctx, "delete volume "+o.Name, func(ctx context.Context) error {
			_, err := api.Volume.Delete(ctx, &hcloud.Volume{ID: o.ID})
			return err
		})
	case KindCertificate:
		return r.call(ctx, "delete certificate "+o.Name, func(ctx context.Context) error {
			_, err := api.Certificate.Delete(ctx, &hcloud.Certificate{ID: o.ID})
			return err
		})
	}
	return fmt.Errorf("deleting a %s is not supported", o.Kind)
}
