package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// newPrimaryIP allocates a loopback IPv4 or a documentation-prefix IPv6 /64.
func (s *Server) newPrimaryIP(typ string, loc *location, name string, autoDelete bool, labels map[string]string) *primaryIP {
	p := &primaryIP{
		resource:   resource{ID: s.st.nextID("primary_ip"), Name: name, Created: s.clock.Now(), Labels: labels},
		typ:        typ,
		loc:        loc,
		autoDelete: autoDelete,
		dnsPtr:     map[string]string{},
	}
	if p.Name == "" {
		p.Name = "primary_ip-" + itoa(p.ID)
	}
	if typ == "ipv4" {
		p.addr = netip.MustParseAddr(s.st.allocPublicIPv4())
		p.dnsPtr[p.ip()] = defaultDNSPtr(p.ip())
	} else {
		p.prefix = s.st.allocPublicIPv6()
		p.addr = p.prefix.Addr()
	}
	s.st.primaryIPs[p.ID] = p
	return p
}

// setDNSPtr sets or (nil) resets the reverse DNS entry of ip.
func setDNSPtr(p *primaryIP, ip netip.Addr, ptr *string) {
	key := ip.String()
	switch {
	case ptr != nil:
		p.dnsPtr[key] = *ptr
	case p.typ == "ipv4":
		p.dnsPtr[key] = defaultDNSPtr(key)
	default:
		delete(p.dnsPtr, key)
	}
}

// requestedPrimaryIP validates a primary IP named in POST /servers public_net.
func (s *Server) requestedPrimaryIP(id int64, typ string, loc *location) (*primaryIP, error) {
	if id == 0 {
		return nil, nil
	}
	p, ok := s.st.primaryIPs[id]
	switch {
	case !ok:
		return nil, errInvalidField("public_net", "primary IP %d not found", id)
	case p.typ != typ:
		return nil, errUnprocessable("primary_ip_version_mismatch", "primary IP %d is %s, not %s", id, p.typ, typ)
	case p.assigneeID != 0:
		return nil, errUnprocessable("primary_ip_assigned", "primary IP %d is already assigned to server %d", id, p.assigneeID)
	case p.loc != loc:
		return nil, errUnprocessable("primary_ip_datacenter_mismatch", "primary IP %d is in %s, the server in %s", id, p.loc.Name, loc.Name)
	}
	return p, nil
}

func (s *Server) primaryIPByID(c *call) (*primaryIP, error) {
	id, err := c.pathID("id", "primary_ip")
	if err != nil {
		return nil, err
	}
	p, ok := s.st.primaryIPs[id]
	if !ok {
		return nil, errNotFound("primary_ip", id)
	}
	return p, nil
}

func (s *Server) mutablePrimaryIP(c *call) (*primaryIP, error) {
	p, err := s.primaryIPByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("primary_ip", p.ID) {
		return nil, errLocked("primary_ip", p.ID)
	}
	return p, nil
}

func (s *Server) listPrimaryIPs(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	ip := c.query("ip")
	page, meta := selectPage(q, sortedValues(s.st.primaryIPs), func(p *primaryIP) bool { return ip == "" || p.ip() == ip })
	return http.StatusOK, listBody("primary_ips", renderAll(page, renderPrimaryIP), meta), nil
}

func (s *Server) getPrimaryIP(_ context.Context, c *call) (int, any, error) {
	p, err := s.primaryIPByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.PrimaryIPGetResponse{PrimaryIP: renderPrimaryIP(p)}, nil
}

// primaryIPCreateRequest adds the deprecated datacenter (ID or name) the API
// still takes but hcloud-go v2.52.0 no longer declares.
type primaryIPCreateRequest struct {
	schema.PrimaryIPCreateRequest
	Datacenter string `json:"datacenter,omitempty"`
}

func (s *Server) createPrimaryIP(_ context.Context, c *call) (int, any, error) {
	var req primaryIPCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Type != "ipv4" && req.Type != "ipv6" {
		return 0, nil, errInvalidField("type", "must be ipv4 or ipv6")
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	if nameTaken(s.st.primaryIPs, req.Name, 0) {
		return 0, nil, errUniqueness("name", "primary IP name %q is already used", req.Name)
	}
	if req.AssigneeType != "" && req.AssigneeType != "server" {
		return 0, nil, errInvalidField("assignee_type", "must be server")
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	var sv *server
	var loc *location
	switch {
	case req.AssigneeID != nil:
		if sv, err = s.assignableServer(*req.AssigneeID, req.Type); err != nil {
			return 0, nil, err
		}
		loc = sv.loc
	case req.Location != "" || req.Datacenter != "":
		if loc, err = s.st.resolvePlace("location", req.Location, req.Datacenter); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errInvalidField("location", "location is required for an unassigned primary IP")
	}
	p := s.newPrimaryIP(req.Type, loc, req.Name, deref(req.AutoDelete), labels)
	resp := schema.PrimaryIPCreateResponse{}
	if sv != nil {
		a := s.assignPrimaryIP(p, sv)
		ra := s.renderAction(a)
		resp.Action = &ra
	}
	resp.PrimaryIP = renderPrimaryIP(p)
	return http.StatusCreated, resp, nil
}

// assignableServer checks the preconditions of assigning a typ primary IP.
func (s *Server) assignableServer(id int64, typ string) (*server, error) {
	sv, ok := s.st.servers[id]
	switch {
	case !ok:
		return nil, errInvalidField("assignee_id", "server %d not found", id)
	case s.st.locked("server", id):
		return nil, errLocked("server", id)
	case sv.status != statusOff:
		return nil, errUnprocessable("server_not_stopped", "server %d must be powered off", id)
	case typ == "ipv4" && sv.pip4 != nil:
		return nil, errUnprocessable("server_has_ipv4", "server %d already has an IPv4", id)
	case typ == "ipv6" && sv.pip6 != nil:
		return nil, errUnprocessable("server_has_ipv6", "server %d already has an IPv6", id)
	}
	return sv, nil
}

func (s *Server) assignPrimaryIP(p *primaryIP, sv *server) *action {
	p.assigneeID = sv.ID
	if p.typ == "ipv4" {
		sv.pip4 = p
	} else {
		sv.pip6 = p
	}
	return s.startAction(actionSpec{
		command: "assign_primary_ip", duration: s.latency.FloatingIPAssign,
		resources: []resKey{key("primary_ip", p.ID), key("server", sv.ID)},
		locks:     []resKey{key("primary_ip", p.ID), key("server", sv.ID)},
	})
}

func (s *Server) updatePrimaryIP(_ context.Context, c *call) (int, any, error) {
	p, err := s.primaryIPByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.PrimaryIPUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != p.Name {
		if nameTaken(s.st.primaryIPs, req.Name, p.ID) {
			return 0, nil, errUniqueness("name", "primary IP name %q is already used", req.Name)
		}
		p.Name = req.Name
	}
	if req.Labels != nil {
		if p.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	if req.AutoDelete != nil {
		p.autoDelete = *req.AutoDelete
	}
	return http.StatusOK, schema.PrimaryIPUpdateResponse{PrimaryIP: renderPrimaryIP(p)}, nil
}

// deletePrimaryIP requires an unassigned IP (API change of 2026-05-01).
func (s *Server) deletePrimaryIP(_ context.Context, c *call) (int, any, error) {
	p, err := s.mutablePrimaryIP(c)
	if err != nil {
		return 0, nil, err
	}
	if p.protection {
		return 0, nil, errProtected("primary_ip", p.ID)
	}
	if p.assigneeID != 0 {
		return 0, nil, errUnprocessable("must_be_unassigned", "primary IP %d is assigned to server %d", p.ID, p.assigneeID)
	}
	delete(s.st.primaryIPs, p.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) primaryIPAssign(_ context.Context, c *call) (int, any, error) {
	p, err := s.mutablePrimaryIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.PrimaryIPActionAssignRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if p.assigneeID != 0 {
		return 0, nil, errUnprocessable("primary_ip_already_assigned", "primary IP %d is assigned to server %d", p.ID, p.assigneeID)
	}
	sv, err := s.assignableServer(req.AssigneeID, p.typ)
	if err != nil {
		return 0, nil, err
	}
	if sv.loc != p.loc {
		return 0, nil, errUnprocessable("primary_ip_datacenter_mismatch", "primary IP %d is in %s, server %d in %s", p.ID, p.loc.Name, sv.ID, sv.loc.Name)
	}
	return http.StatusCreated, schema.PrimaryIPActionAssignResponse{Action: s.renderAction(s.assignPrimaryIP(p, sv))}, nil
}

func (s *Server) primaryIPUnassign(_ context.Context, c *call) (int, any, error) {
	p, err := s.mutablePrimaryIP(c)
	if err != nil {
		return 0, nil, err
	}
	sv, ok := s.st.servers[p.assigneeID]
	if !ok {
		return 0, nil, errInvalidField("assignee_id", "primary IP %d is not assigned", p.ID)
	}
	if sv.status != statusOff {
		return 0, nil, errUnprocessable("server_not_stopped", "server %d must be powered off", sv.ID)
	}
	if p.typ == "ipv4" && slices.ContainsFunc(sortedValues(s.st.loadBalancers), func(lb *loadBalancer) bool {
		return slices.ContainsFunc(lb.targets, func(t *lbTarget) bool { return t.typ == "server" && t.serverID == sv.ID && !t.usePrivateIP })
	}) {
		return 0, nil, errUnprocessable("server_is_load_balancer_target", "server %d is a load balancer target via its public IPv4", sv.ID)
	}
	p.assigneeID = 0
	if sv.pip4 == p {
		sv.pip4 = nil
	}
	if sv.pip6 == p {
		sv.pip6 = nil
	}
	res := []resKey{key("primary_ip", p.ID), key("server", sv.ID)}
	a := s.startAction(actionSpec{command: "unassign_primary_ip", duration: s.latency.FloatingIPAssign, resources: res, locks: res})
	return http.StatusCreated, schema.PrimaryIPActionUnassignResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) primaryIPChangeDNSPtr(_ context.Context, c *call) (int, any, error) {
	p, err := s.mutablePrimaryIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.PrimaryIPActionChangeDNSPtrRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	ip, perr := netip.ParseAddr(req.IP)
	if perr != nil || !p.owns(ip) {
		return 0, nil, errInvalidField("ip", "IP %s does not belong to primary IP %d", req.IP, p.ID)
	}
	a := s.startAction(actionSpec{command: "change_dns_ptr", duration: s.latency.Quick,
		resources: []resKey{key("primary_ip", p.ID)}, locks: []resKey{key("primary_ip", p.ID)},
		onSuccess: func(time.Time) { setDNSPtr(p, ip, req.DNSPtr) }})
	return http.StatusCreated, schema.PrimaryIPActionChangeDNSPtrResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) primaryIPChangeProtection(_ context.Context, c *call) (int, any, error) {
	p, err := s.mutablePrimaryIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.PrimaryIPActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	p.protection = req.Delete
	a := s.startAction(actionSpec{command: "change_protection", duration: s.latency.Quick,
		resources: []resKey{key("primary_ip", p.ID)}, locks: []resKey{key("primary_ip", p.ID)}})
	return http.StatusCreated, schema.PrimaryIPActionChangeProtectionResponse{Action: s.renderAction(a)}, nil
}

func renderPrimaryIP(p *primaryIP) schema.PrimaryIP {
	out := schema.PrimaryIP{
		ID: p.ID, IP: p.ip(), Labels: cloneLabels(p.Labels), Name: p.Name, Type: p.typ,
		Protection: schema.PrimaryIPProtection{Delete: p.protection}, DNSPtr: []schema.PrimaryIPDNSPTR{},
		AssigneeType: "server", AutoDelete: p.autoDelete, Created: p.Created, Location: p.loc.s,
	}
	if p.assigneeID != 0 {
		out.AssigneeID = ptr(p.assigneeID)
	}
	for _, ip := range sortedKeys(p.dnsPtr) {
		out.DNSPtr = append(out.DNSPtr, schema.PrimaryIPDNSPTR{IP: ip, DNSPtr: p.dnsPtr[ip]})
	}
	return out
}
