package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

func (s *Server) floatingIPByID(c *call) (*floatingIP, error) {
	id, err := c.pathID("id", "floating_ip")
	if err != nil {
		return nil, err
	}
	f, ok := s.st.floatingIPs[id]
	if !ok {
		return nil, errNotFound("floating_ip", id)
	}
	return f, nil
}

func (s *Server) mutableFloatingIP(c *call) (*floatingIP, error) {
	f, err := s.floatingIPByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("floating_ip", f.ID) {
		return nil, errLocked("floating_ip", f.ID)
	}
	return f, nil
}

func (s *Server) listFloatingIPs(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, sortedValues(s.st.floatingIPs), nil)
	return http.StatusOK, listBody("floating_ips", renderAll(page, s.renderFloatingIP), meta), nil
}

func (s *Server) getFloatingIP(_ context.Context, c *call) (int, any, error) {
	f, err := s.floatingIPByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.FloatingIPGetResponse{FloatingIP: s.renderFloatingIP(f)}, nil
}

func (s *Server) createFloatingIP(_ context.Context, c *call) (int, any, error) {
	var req schema.FloatingIPCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Type != "ipv4" && req.Type != "ipv6" {
		return 0, nil, errInvalidField("type", "must be ipv4 or ipv6")
	}
	f := &floatingIP{typ: req.Type, description: req.Description, dnsPtr: map[string]string{}}
	if req.Name != nil {
		if nameTaken(s.st.floatingIPs, *req.Name, 0) {
			return 0, nil, errUniqueness("name", "floating IP name %q is already used", *req.Name)
		}
		f.Name = *req.Name
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	f.Labels = labels
	var target *server
	switch {
	case req.Server != nil:
		sv, ok := s.st.servers[*req.Server]
		if !ok {
			return 0, nil, errInvalidField("server", "server %d not found", *req.Server)
		}
		target, f.homeLoc = sv, sv.loc
	case req.HomeLocation != nil:
		if f.homeLoc, err = s.st.resolveLocation("home_location", *req.HomeLocation); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errInvalidField("home_location", "home_location or server is required")
	}
	f.ID = s.st.nextID("floating_ip")
	f.Created = s.clock.Now()
	if f.Name == "" {
		f.Name = "floating-ip-" + itoa(f.ID)
	}
	if f.typ == "ipv4" {
		f.ip = s.st.allocPublicIPv4()
		f.dnsPtr[f.ip] = defaultDNSPtr(f.ip)
	} else {
		f.ip = s.st.allocPublicIPv6().String()
	}
	s.st.floatingIPs[f.ID] = f
	resp := schema.FloatingIPCreateResponse{}
	if target != nil {
		a := s.assignFloatingIP(f, target)
		ra := s.renderAction(a)
		resp.Action = &ra
	}
	resp.FloatingIP = s.renderFloatingIP(f)
	return http.StatusCreated, resp, nil
}

func (s *Server) assignFloatingIP(f *floatingIP, sv *server) *action {
	f.serverID = sv.ID
	return s.startAction(actionSpec{
		command: "assign_floating_ip", duration: s.latency.FloatingIPAssign,
		resources: []resKey{key("floating_ip", f.ID), key("server", sv.ID)},
		locks:     []resKey{key("floating_ip", f.ID)},
	})
}

func (s *Server) updateFloatingIP(_ context.Context, c *call) (int, any, error) {
	f, err := s.floatingIPByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FloatingIPUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != f.Name {
		if nameTaken(s.st.floatingIPs, req.Name, f.ID) {
			return 0, nil, errUniqueness("name", "floating IP name %q is already used", req.Name)
		}
		f.Name = req.Name
	}
	if req.Description != "" {
		f.description = ptr(req.Description)
	}
	if req.Labels != nil {
		if f.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.FloatingIPUpdateResponse{FloatingIP: s.renderFloatingIP(f)}, nil
}

func (s *Server) deleteFloatingIP(_ context.Context, c *call) (int, any, error) {
	f, err := s.mutableFloatingIP(c)
	if err != nil {
		return 0, nil, err
	}
	if f.protection {
		return 0, nil, errProtected("floating_ip", f.ID)
	}
	if f.serverID != 0 {
		return 0, nil, errUnprocessable("must_be_unassigned", "floating IP %d is still assigned to server %d", f.ID, f.serverID)
	}
	delete(s.st.floatingIPs, f.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) floatingIPAssign(_ context.Context, c *call) (int, any, error) {
	f, err := s.mutableFloatingIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FloatingIPActionAssignRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	sv, ok := s.st.servers[req.Server]
	if !ok {
		return 0, nil, errInvalidField("server", "server %d not found", req.Server)
	}
	if f.serverID == sv.ID {
		return 0, nil, errUnprocessable("floating_ip_assigned", "floating IP %d is already assigned to server %d", f.ID, sv.ID)
	}
	if sv.loc.s.NetworkZone != f.homeLoc.s.NetworkZone {
		return 0, nil, errInvalidField("server", "server %d is not in network zone %s", sv.ID, f.homeLoc.s.NetworkZone)
	}
	return http.StatusCreated, schema.FloatingIPActionAssignResponse{Action: s.renderAction(s.assignFloatingIP(f, sv))}, nil
}

func (s *Server) floatingIPUnassign(_ context.Context, c *call) (int, any, error) {
	f, err := s.mutableFloatingIP(c)
	if err != nil {
		return 0, nil, err
	}
	res := []resKey{key("floating_ip", f.ID)}
	if f.serverID != 0 {
		res = append(res, key("server", f.serverID))
	}
	f.serverID = 0
	a := s.startAction(actionSpec{command: "unassign_floating_ip", duration: s.latency.FloatingIPAssign, resources: res, locks: res[:1]})
	return http.StatusCreated, schema.FloatingIPActionUnassignResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) floatingIPChangeDNSPtr(_ context.Context, c *call) (int, any, error) {
	f, err := s.mutableFloatingIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FloatingIPActionChangeDNSPtrRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	ip, perr := netip.ParseAddr(req.IP)
	owned := perr == nil && (req.IP == f.ip || (f.typ == "ipv6" && netip.MustParsePrefix(f.ip).Contains(ip)))
	if !owned {
		return 0, nil, errInvalidField("ip", "IP %s does not belong to floating IP %d", req.IP, f.ID)
	}
	a := s.startAction(actionSpec{
		command: "change_dns_ptr", duration: s.latency.Quick,
		resources: []resKey{key("floating_ip", f.ID)}, locks: []resKey{key("floating_ip", f.ID)},
		onSuccess: func(time.Time) {
			if req.DNSPtr == nil {
				delete(f.dnsPtr, req.IP)
				if f.typ == "ipv4" {
					f.dnsPtr[f.ip] = defaultDNSPtr(f.ip)
				}
				return
			}
			f.dnsPtr[req.IP] = *req.DNSPtr
		},
	})
	return http.StatusCreated, schema.FloatingIPActionChangeDNSPtrResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) floatingIPChangeProtection(_ context.Context, c *call) (int, any, error) {
	f, err := s.mutableFloatingIP(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FloatingIPActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Delete != nil {
		f.protection = *req.Delete
	}
	a := s.startAction(actionSpec{command: "change_protection", duration: s.latency.Quick,
		resources: []resKey{key("floating_ip", f.ID)}, locks: []resKey{key("floating_ip", f.ID)}})
	return http.StatusCreated, schema.FloatingIPActionChangeProtectionResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) renderFloatingIP(f *floatingIP) schema.FloatingIP {
	out := schema.FloatingIP{
		ID: f.ID, Name: f.Name, Description: f.description, Created: f.Created, IP: f.ip, Type: f.typ,
		HomeLocation: f.homeLoc.s, Protection: schema.FloatingIPProtection{Delete: f.protection},
		Labels: cloneLabels(f.Labels), DNSPtr: []schema.FloatingIPDNSPtr{},
	}
	if f.serverID != 0 {
		out.Server = ptr(f.serverID)
	}
	for _, ip := range sortedKeys(f.dnsPtr) {
		out.DNSPtr = append(out.DNSPtr, schema.FloatingIPDNSPtr{IP: ip, DNSPtr: f.dnsPtr[ip]})
	}
	return out
}
