package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

var (
	rfc1918 = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	networkZones = []string{"eu-central", "us-east", "us-west", "ap-southeast"}
)

func (s *Server) networkByID(c *call) (*network, error) {
	id, err := c.pathID("id", "network")
	if err != nil {
		return nil, err
	}
	n, ok := s.st.networks[id]
	if !ok {
		return nil, errNotFound("network", id)
	}
	return n, nil
}

// changeableNetwork refuses concurrent network changes with conflict (409),
// which hcloud-go retries, instead of locked.
func (s *Server) changeableNetwork(c *call) (*network, error) {
	n, err := s.networkByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("network", n.ID) {
		return nil, errConflict("network %d is being changed by another action, please retry", n.ID)
	}
	return n, nil
}

func parseNetworkRange(field, raw string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(raw)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return netip.Prefix{}, errInvalidField(field, "%q is not a valid IPv4 network in CIDR notation", raw)
	}
	if !slices.ContainsFunc(rfc1918, func(r netip.Prefix) bool { return r.Bits() <= p.Bits() && r.Contains(p.Addr()) }) {
		return netip.Prefix{}, errInvalidField(field, "must be one of the private IPv4 ranges of RFC 1918")
	}
	return p, nil
}

func (s *Server) newSubnet(n *network, in schema.NetworkSubnet, others []*subnet) (*subnet, error) {
	if in.Type != "cloud" && in.Type != "server" && in.Type != "vswitch" {
		return nil, errInvalidField("subnets.type", "must be cloud, server or vswitch")
	}
	if !slices.Contains(networkZones, in.NetworkZone) {
		return nil, errInvalidField("subnets.network_zone", "network zone %q not found", in.NetworkZone)
	}
	if in.Type == "vswitch" && in.VSwitchID == 0 {
		return nil, errInvalidField("subnets.vswitch_id", "is required for vswitch subnets")
	}
	var p netip.Prefix
	if in.IPRange == "" {
		p = freeSubnet(n, others)
		if !p.IsValid() {
			return nil, errUnprocessable("no_subnet_available", "no free /24 left in network %d", n.ID)
		}
	} else {
		var err error
		if p, err = netip.ParsePrefix(in.IPRange); err != nil || p.Masked() != p || !p.Addr().Is4() {
			return nil, errInvalidField("subnets.ip_range", "%q is not a valid IPv4 network", in.IPRange)
		}
	}
	if p.Bits() < n.ipRange.Bits() || !n.ipRange.Contains(p.Addr()) || p.Bits() > 30 {
		return nil, errInvalidField("subnets.ip_range", "subnet %s must lie inside network range %s", p, n.ipRange)
	}
	for _, o := range others {
		if o.prefix.Overlaps(p) {
			return nil, errInvalidField("subnets.ip_range", "subnet %s overlaps with subnet %s", p, o.prefix)
		}
	}
	return &subnet{typ: in.Type, zone: in.NetworkZone, prefix: p, gateway: n.gateway(), vswitchID: in.VSwitchID}, nil
}

// freeSubnet returns the first /24 of n that overlaps no existing subnet.
func freeSubnet(n *network, others []*subnet) netip.Prefix {
	if n.ipRange.Bits() > 24 {
		return netip.Prefix{}
	}
	for a := n.ipRange.Addr(); n.ipRange.Contains(a); {
		p := netip.PrefixFrom(a, 24)
		if !slices.ContainsFunc(others, func(o *subnet) bool { return o.prefix.Overlaps(p) }) {
			return p
		}
		b := a.As4()
		b[2]++
		if b[2] == 0 {
			b[1]++
		}
		if b[1] == 0 && b[2] == 0 {
			break
		}
		a = netip.AddrFrom4(b)
	}
	return netip.Prefix{}
}

func validateRoute(n *network, r schema.NetworkRoute) error {
	dst, err := netip.ParsePrefix(r.Destination)
	if err != nil || !dst.Addr().Is4() {
		return errInvalidField("destination", "%q is not a valid IPv4 network", r.Destination)
	}
	gw, err := netip.ParseAddr(r.Gateway)
	if err != nil || !n.ipRange.Contains(gw) || gw == n.gateway() {
		return errInvalidField("gateway", "gateway %q must be an address inside %s other than the network gateway", r.Gateway, n.ipRange)
	}
	return nil
}

func (s *Server) listNetworks(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, sortedValues(s.st.networks), nil)
	return http.StatusOK, listBody("networks", renderAll(page, s.renderNetwork), meta), nil
}

func (s *Server) getNetwork(_ context.Context, c *call) (int, any, error) {
	n, err := s.networkByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.NetworkGetResponse{Network: s.renderNetwork(n)}, nil
}

func (s *Server) createNetwork(_ context.Context, c *call) (int, any, error) {
	var req schema.NetworkCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	if nameTaken(s.st.networks, req.Name, 0) {
		return 0, nil, errUniqueness("name", "network name %q is already used", req.Name)
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	p, err := parseNetworkRange("ip_range", req.IPRange)
	if err != nil {
		return 0, nil, err
	}
	if p.Bits() > 24 {
		return 0, nil, errInvalidField("ip_range", "must be at least a /24")
	}
	n := &network{resource: resource{Name: req.Name, Created: s.clock.Now(), Labels: labels}, ipRange: p, expose: req.ExposeRoutesToVSwitch}
	for _, in := range req.Subnets {
		if in.IPRange == "" {
			return 0, nil, errInvalidField("subnets.ip_range", "is required")
		}
		sn, err := s.newSubnet(n, in, n.subnets)
		if err != nil {
			return 0, nil, err
		}
		n.subnets = append(n.subnets, sn)
	}
	for _, r := range req.Routes {
		if err := validateRoute(n, r); err != nil {
			return 0, nil, err
		}
		n.routes = append(n.routes, r)
	}
	n.ID = s.st.nextID("network")
	s.st.networks[n.ID] = n
	return http.StatusCreated, schema.NetworkCreateResponse{Network: s.renderNetwork(n)}, nil
}

func (s *Server) updateNetwork(_ context.Context, c *call) (int, any, error) {
	n, err := s.networkByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != n.Name {
		if nameTaken(s.st.networks, req.Name, n.ID) {
			return 0, nil, errUniqueness("name", "network name %q is already used", req.Name)
		}
		n.Name = req.Name
	}
	if req.Labels != nil {
		if n.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	if req.ExposeRoutesToVSwitch != nil {
		n.expose = *req.ExposeRoutesToVSwitch
	}
	return http.StatusOK, schema.NetworkUpdateResponse{Network: s.renderNetwork(n)}, nil
}

// deleteNetwork follows the API documentation: attached servers and load
// balancers are detached automatically.
func (s *Server) deleteNetwork(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	if n.protection {
		return 0, nil, errProtected("network", n.ID)
	}
	if s.opts.NetworkDeleteRequiresDetach {
		if m := s.renderNetwork(n); len(m.Servers)+len(m.LoadBalancers) > 0 {
			return 0, nil, errUnprocessable("resource_in_use", "network %d still has attached servers or load balancers", n.ID)
		}
	}
	for _, sv := range s.st.servers {
		sv.privateNets = slices.DeleteFunc(sv.privateNets, func(p *serverNet) bool { return p.network == n })
	}
	for _, lb := range s.st.loadBalancers {
		lb.privateNets = slices.DeleteFunc(lb.privateNets, func(p *lbNet) bool { return p.network == n })
	}
	delete(s.st.networks, n.ID)
	return http.StatusNoContent, nil, nil
}

// networkAction starts a network change that holds the network (others get conflict).
func (s *Server) networkAction(n *network, command string, onSuccess func(time.Time)) (int, any, error) {
	a := s.startAction(actionSpec{
		command: command, duration: s.latency.NetworkChange,
		resources: []resKey{key("network", n.ID)},
		locks:     []resKey{key("network", n.ID)},
		onSuccess: onSuccess,
	})
	return http.StatusCreated, map[string]any{"action": s.renderAction(a)}, nil
}

func (s *Server) networkAddSubnet(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkActionAddSubnetRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	sn, err := s.newSubnet(n, schema.NetworkSubnet{Type: req.Type, IPRange: req.IPRange, NetworkZone: req.NetworkZone, VSwitchID: req.VSwitchID}, n.subnets)
	if err != nil {
		return 0, nil, err
	}
	n.subnets = append(n.subnets, sn)
	return s.networkAction(n, "add_subnet", nil)
}

// networkDeleteSubnet refuses while members use the subnet and, like the
// real API, for a while after the last member left (service_error).
func (s *Server) networkDeleteSubnet(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkActionDeleteSubnetRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(n.subnets, func(sn *subnet) bool { return sn.prefix.String() == req.IPRange })
	if i < 0 {
		return 0, nil, errInvalidField("ip_range", "subnet %q not found in network %d", req.IPRange, n.ID)
	}
	sn := n.subnets[i]
	if s.subnetInUse(n, sn) || s.clock.Now().Before(sn.releasedAt.Add(s.latency.SubnetRelease)) {
		return 0, nil, errf(http.StatusServiceUnavailable, "service_error", "cannot remove subnet because servers are attached to it")
	}
	n.subnets = slices.Delete(n.subnets, i, i+1)
	return s.networkAction(n, "delete_subnet", nil)
}

func (s *Server) subnetInUse(n *network, sn *subnet) bool {
	for _, sv := range s.st.servers {
		for _, p := range sv.privateNets {
			if p.network == n && sn.prefix.Contains(p.ip) {
				return true
			}
		}
	}
	for _, lb := range s.st.loadBalancers {
		for _, p := range lb.privateNets {
			if p.network == n && sn.prefix.Contains(p.ip) {
				return true
			}
		}
	}
	return false
}

func (s *Server) networkAddRoute(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkRoute
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := validateRoute(n, req); err != nil {
		return 0, nil, err
	}
	if slices.Contains(n.routes, req) {
		return 0, nil, errInvalidField("destination", "route to %s via %s already exists", req.Destination, req.Gateway)
	}
	n.routes = append(n.routes, req)
	return s.networkAction(n, "add_route", nil)
}

func (s *Server) networkDeleteRoute(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkRoute
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	i := slices.Index(n.routes, req)
	if i < 0 {
		return 0, nil, errInvalidField("destination", "route to %s via %s not found", req.Destination, req.Gateway)
	}
	n.routes = slices.Delete(n.routes, i, i+1)
	return s.networkAction(n, "delete_route", nil)
}

func (s *Server) networkChangeIPRange(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkActionChangeIPRangeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	p, err := parseNetworkRange("ip_range", req.IPRange)
	if err != nil {
		return 0, nil, err
	}
	if p.Bits() > n.ipRange.Bits() || !p.Contains(n.ipRange.Addr()) {
		return 0, nil, errInvalidField("ip_range", "the network range can only be extended (%s does not contain %s)", p, n.ipRange)
	}
	n.ipRange = p
	return s.networkAction(n, "change_ip_range", nil)
}

func (s *Server) networkChangeProtection(_ context.Context, c *call) (int, any, error) {
	n, err := s.changeableNetwork(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.NetworkActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Delete != nil {
		n.protection = *req.Delete
	}
	return s.networkAction(n, "change_protection", nil)
}

func (s *Server) renderNetwork(n *network) schema.Network {
	out := schema.Network{
		ID: n.ID, Name: n.Name, Created: n.Created, IPRange: n.ipRange.String(),
		Subnets: []schema.NetworkSubnet{}, Routes: nonNil(n.routes), Servers: []int64{}, LoadBalancers: []int64{},
		Protection: schema.NetworkProtection{Delete: n.protection}, Labels: cloneLabels(n.Labels), ExposeRoutesToVSwitch: n.expose,
	}
	for _, sn := range n.subnets {
		ns := schema.NetworkSubnet{Type: sn.typ, IPRange: sn.prefix.String(), NetworkZone: sn.zone, VSwitchID: sn.vswitchID}
		if sn.typ != "vswitch" {
			ns.Gateway = sn.gateway.String()
		}
		out.Subnets = append(out.Subnets, ns)
	}
	for _, sv := range sortedValues(s.st.servers) {
		if slices.ContainsFunc(sv.privateNets, func(p *serverNet) bool { return p.network == n && !p.pending }) {
			out.Servers = append(out.Servers, sv.ID)
		}
	}
	for _, lb := range sortedValues(s.st.loadBalancers) {
		if slices.ContainsFunc(lb.privateNets, func(p *lbNet) bool { return p.network == n }) {
			out.LoadBalancers = append(out.LoadBalancers, lb.ID)
		}
	}
	return out
}
