package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// maxUserData is the user_data size limit of POST /servers.
const maxUserData = 32 * 1024

// hostnamePattern is RFC 1123: the API insists server names are hostnames.
var hostnamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`)

func validServerName(name string) error {
	if name == "" {
		return errInvalidField("name", "is required")
	}
	if len(name) > 253 || !hostnamePattern.MatchString(name) {
		return errInvalidField("name", "must be a valid hostname (RFC 1123)")
	}
	return nil
}

func (s *Server) serverByID(c *call) (*server, error) {
	id, err := c.pathID("id", "server")
	if err != nil {
		return nil, err
	}
	sv, ok := s.st.servers[id]
	if !ok {
		return nil, errNotFound("server", id)
	}
	return sv, nil
}

// mutableServer fetches the server of the path and refuses while an action
// runs on it, as the real API does (423 locked).
func (s *Server) mutableServer(c *call) (*server, error) {
	sv, err := s.serverByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("server", sv.ID) {
		return nil, errLocked("server", sv.ID)
	}
	return sv, nil
}

func (s *Server) listServers(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	statuses := c.queryAll("status")
	page, meta := selectPage(q, sortedValues(s.st.servers), func(sv *server) bool {
		return len(statuses) == 0 || slices.Contains(statuses, sv.status)
	})
	return http.StatusOK, listBody("servers", renderAll(page, s.renderServer), meta), nil
}

func (s *Server) getServer(_ context.Context, c *call) (int, any, error) {
	sv, err := s.serverByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.ServerGetResponse{Server: s.renderServer(sv)}, nil
}

func (s *Server) updateServer(_ context.Context, c *call) (int, any, error) {
	sv, err := s.serverByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != sv.Name {
		if err := validServerName(req.Name); err != nil {
			return 0, nil, err
		}
		if nameTaken(s.st.servers, req.Name, sv.ID) {
			return 0, nil, errUniqueness("name", "server name %q is already used", req.Name)
		}
		sv.Name = req.Name
	}
	if req.Labels != nil {
		labels, err := labelsFrom(req.Labels)
		if err != nil {
			return 0, nil, err
		}
		sv.Labels = labels
		s.reconcileServerFirewalls(sv)
	}
	return http.StatusOK, schema.ServerUpdateResponse{Server: s.renderServer(sv)}, nil
}

func (s *Server) deleteServer(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	if sv.protection.Delete {
		return 0, nil, errProtected("server", sv.ID)
	}
	sv.status = statusDeleting
	a := s.startAction(actionSpec{
		command:   "delete_server",
		duration:  s.latency.ServerDelete,
		resources: []resKey{key("server", sv.ID)},
		locks:     []resKey{key("server", sv.ID)},
		onSuccess: func(at time.Time) { s.removeServer(sv, at) },
		onError:   func(time.Time) { sv.status = statusOff },
	})
	return http.StatusOK, schema.ServerDeleteResponse{Action: s.renderAction(a)}, nil
}

// removeServer detaches a deleted server from everything that references it.
func (s *Server) removeServer(sv *server, at time.Time) {
	for _, pn := range sv.privateNets {
		s.releasePrivateIP(pn.network, pn.ip, at)
	}
	for _, fw := range s.st.firewalls {
		fw.applied = slices.DeleteFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == sv.ID })
	}
	for _, lb := range s.st.loadBalancers {
		lb.targets = slices.DeleteFunc(lb.targets, func(t *lbTarget) bool { return t.typ == "server" && t.serverID == sv.ID })
	}
	for _, f := range s.st.floatingIPs {
		if f.serverID == sv.ID {
			f.serverID = 0
		}
	}
	for _, v := range s.st.volumes {
		if v.serverID == sv.ID {
			v.serverID = 0
		}
	}
	for _, pip := range []*primaryIP{sv.pip4, sv.pip6} {
		switch {
		case pip == nil:
		case pip.autoDelete:
			delete(s.st.primaryIPs, pip.ID)
		default:
			pip.assigneeID = 0
		}
	}
	delete(s.st.servers, sv.ID)
	s.abortActionsOf(key("server", sv.ID), at)
}

// bootServer is the effect of every successful boot: the server runs and,
// if rescue was enabled, it is now in the rescue system (which disables the
// flag, as on the real platform).
func (s *Server) bootServer(sv *server, at time.Time) {
	sv.status = statusRunning
	sv.runningSince = at
	sv.bootCount++
	sv.inRescue = sv.rescue
	sv.rescue = false
	s.rescueBooted(sv) // hook (rescue.go): rescue SSH follows the boot
}

func (s *Server) renderServer(sv *server) schema.Server {
	out := schema.Server{
		ID:              sv.ID,
		Name:            sv.Name,
		Status:          sv.status,
		Created:         sv.Created,
		ServerType:      s.renderServerType(sv.stype),
		IncludedTraffic: uint64(sv.stype.s.IncludedTraffic),
		RescueEnabled:   sv.rescue,
		Locked:          s.st.locked("server", sv.ID),
		Location:        sv.loc.s,
		Protection:      sv.protection,
		Labels:          cloneLabels(sv.Labels),
		PrimaryDiskSize: sv.primaryDisk,
		PrivateNet:      []schema.ServerPrivateNet{},
		Volumes:         []int64{},
		LoadBalancers:   []int64{},
	}
	zero := uint64(0)
	out.OutgoingTraffic, out.IngoingTraffic = &zero, &zero
	if sv.backupWindow != "" {
		out.BackupWindow = ptr(sv.backupWindow)
	}
	if img, ok := s.st.images[sv.imageID]; ok {
		r := s.renderImage(img)
		out.Image = &r
	}
	if p := sv.pip4; p != nil {
		out.PublicNet.IPv4 = schema.ServerPublicNetIPv4{ID: p.ID, IP: p.ip(), DNSPtr: p.dnsPtr[p.ip()]}
	}
	if p := sv.pip6; p != nil {
		v6 := schema.ServerPublicNetIPv6{ID: p.ID, IP: p.ip(), DNSPtr: []schema.ServerPublicNetIPv6DNSPtr{}}
		for _, ip := range sortedKeys(p.dnsPtr) {
			v6.DNSPtr = append(v6.DNSPtr, schema.ServerPublicNetIPv6DNSPtr{IP: ip, DNSPtr: p.dnsPtr[ip]})
		}
		out.PublicNet.IPv6 = v6
	}
	out.PublicNet.FloatingIPs = []int64{}
	for _, f := range sortedValues(s.st.floatingIPs) {
		if f.serverID == sv.ID {
			out.PublicNet.FloatingIPs = append(out.PublicNet.FloatingIPs, f.ID)
		}
	}
	out.PublicNet.Firewalls = []schema.ServerFirewall{}
	for _, id := range sortedKeys(sv.fwStatus) {
		out.PublicNet.Firewalls = append(out.PublicNet.Firewalls, schema.ServerFirewall{ID: id, Status: sv.fwStatus[id]})
	}
	for _, pn := range sv.privateNets {
		if pn.pending {
			continue
		}
		aliases := make([]string, 0, len(pn.aliasIPs))
		for _, a := range pn.aliasIPs {
			aliases = append(aliases, a.String())
		}
		out.PrivateNet = append(out.PrivateNet, schema.ServerPrivateNet{Network: pn.network.ID, IP: pn.ip.String(), AliasIPs: aliases, MACAddress: pn.mac})
	}
	if sv.pg != nil {
		pg := s.renderPlacementGroup(sv.pg)
		out.PlacementGroup = &pg
	}
	for _, v := range sortedValues(s.st.volumes) {
		if v.serverID == sv.ID {
			out.Volumes = append(out.Volumes, v.ID)
		}
	}
	for _, lb := range sortedValues(s.st.loadBalancers) {
		if s.lbTargetsServer(lb, sv) {
			out.LoadBalancers = append(out.LoadBalancers, lb.ID)
		}
	}
	return out
}

// defaultDNSPtr mimics the reverse DNS Hetzner assigns to new addresses.
func defaultDNSPtr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return ""
	}
	b := a.As4()
	return "static." + netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}).String() + ".clients.your-server.de"
}
