package hcloudsim

import (
	"context"
	"net/http"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// serverPlan is a validated POST /servers request; building it touches no
// state so that a rejected request leaves the project unchanged.
type serverPlan struct {
	req      schema.ServerCreateRequest
	stype    *serverType
	loc      *location
	img      *image
	labels   map[string]string
	nets     []*serverNet
	fws      []*firewall
	pg       *placementGroup
	vols     []*volume
	ipv4     bool
	ipv6     bool
	pip4     *primaryIP // existing primary IPs requested via public_net
	pip6     *primaryIP
	startNow bool
}

// serverCreateRequest adds what the API still takes but hcloud-go v2.52.0
// no longer declares: the deprecated datacenter (ID or name).
type serverCreateRequest struct {
	schema.ServerCreateRequest
	Datacenter string `json:"datacenter,omitempty"`
}

func (s *Server) createServer(_ context.Context, c *call) (int, any, error) {
	var req serverCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	p, err := s.planServer(req)
	if err != nil {
		return 0, nil, err
	}
	sv, action, next, rootPassword := s.provisionServer(p)
	return http.StatusCreated, schema.ServerCreateResponse{
		Server:       s.renderServer(sv),
		Action:       s.renderAction(action),
		NextActions:  s.renderActions(next),
		RootPassword: rootPassword,
	}, nil
}

func (s *Server) planServer(in serverCreateRequest) (*serverPlan, error) {
	req := in.ServerCreateRequest
	p := &serverPlan{req: req, ipv4: true, ipv6: true, startNow: true}
	if err := validServerName(req.Name); err != nil {
		return nil, err
	}
	if nameTaken(s.st.servers, req.Name, 0) {
		return nil, errUniqueness("name", "server name %q is already used", req.Name)
	}
	if s.opts.ServerLimit > 0 && len(s.st.servers) >= s.opts.ServerLimit {
		return nil, &apiError{Status: http.StatusForbidden, Code: "resource_limit_exceeded",
			Message: "server limit exceeded", Details: map[string]any{"limits": []map[string]string{{"name": "server_limit"}}}}
	}
	if p.stype = s.st.serverTypeByIDOrName(req.ServerType); p.stype == nil {
		return nil, errInvalidField("server_type", "server type %v not found", idOrName(req.ServerType))
	}
	if d := p.stype.s.Deprecation; d != nil && s.clock.Now().After(d.UnavailableAfter) {
		return nil, errInvalidField("server_type", "server type %s is deprecated and can no longer be ordered", p.stype.Name)
	}
	if err := s.planLocation(p, req.Location, in.Datacenter); err != nil {
		return nil, err
	}
	img, err := s.resolveImage(req.Image, p.stype.s.Architecture)
	if err != nil {
		return nil, err
	}
	if int(img.diskSize) > p.stype.s.Disk {
		return nil, errInvalidField("image", "image disk size %g GB exceeds the server type's %d GB disk", img.diskSize, p.stype.s.Disk)
	}
	p.img = img
	if len(req.UserData) > maxUserData {
		return nil, errInvalidField("user_data", "is too long (%d bytes, maximum is %d)", len(req.UserData), maxUserData)
	}
	if p.labels, err = labelsFrom(req.Labels); err != nil {
		return nil, err
	}
	for _, id := range req.SSHKeys {
		if _, ok := s.st.sshKeys[id]; !ok {
			return nil, errInvalidField("ssh_keys", "SSH key %d not found", id)
		}
	}
	if req.StartAfterCreate != nil {
		p.startNow = *req.StartAfterCreate
	}
	if pn := req.PublicNet; pn != nil {
		p.ipv4, p.ipv6 = pn.EnableIPv4, pn.EnableIPv6
		var err error
		if p.pip4, err = s.requestedPrimaryIP(pn.IPv4ID, "ipv4", p.loc); err != nil {
			return nil, err
		}
		if p.pip6, err = s.requestedPrimaryIP(pn.IPv6ID, "ipv6", p.loc); err != nil {
			return nil, err
		}
		p.ipv4 = p.ipv4 || p.pip4 != nil
		p.ipv6 = p.ipv6 || p.pip6 != nil
	}
	if !p.ipv4 && !p.ipv6 && len(req.Networks) == 0 {
		return nil, errInvalidField("public_net", "a server without public network needs at least one private network")
	}
	if err := s.planServerNetworks(p); err != nil {
		return nil, err
	}
	if err := s.planServerAttachments(p); err != nil {
		return nil, err
	}
	return p, nil
}

// planLocation resolves the location (or datacenter), given as an ID or a
// name, and checks stock like the real API: unknown ones are invalid_input,
// sold-out combinations resource_unavailable.
func (s *Server) planLocation(p *serverPlan, loc, dc string) error {
	var err error
	if p.loc, err = s.st.resolvePlace("location", loc, dc); err != nil {
		return err
	}
	if p.loc == nil {
		for _, l := range p.stype.s.Locations {
			if l.Available && !s.soldOut(p.stype.Name, l.Name) {
				p.loc = s.st.locationByName(l.Name)
				return nil
			}
		}
		return errf(http.StatusServiceUnavailable, "resource_unavailable", "error during placement: server type %s is unavailable", p.stype.Name)
	}
	name := p.loc.Name
	stl, ok := p.stype.location(name)
	if !ok {
		return errInvalidField("location", "unsupported location for server type %s", p.stype.Name)
	}
	if !stl.Available || s.soldOut(p.stype.Name, name) || s.soldOutUnannounced(p.stype.Name, name) {
		return errf(http.StatusServiceUnavailable, "resource_unavailable",
			"we are unable to provision servers for this location, try with a different location or try later")
	}
	return nil
}

// resolveImage finds an image by ID or by name; names resolve to the
// variant of the server type's architecture, as the real API does.
func (s *Server) resolveImage(v schema.IDOrName, arch string) (*image, error) {
	if v.ID == 0 && v.Name == "" {
		return nil, errInvalidField("image", "is required")
	}
	var found *image
	for _, img := range sortedValues(s.st.images) {
		if (v.ID != 0 && img.ID == v.ID) || (v.ID == 0 && img.Name == v.Name && img.arch == arch) {
			found = img
			break
		}
	}
	switch {
	case found == nil:
		return nil, errInvalidField("image", "image %v not found", idOrName(v))
	case found.status != "available":
		return nil, errInvalidField("image", "image %d is not available yet (status %s)", found.ID, found.status)
	case found.arch != arch:
		return nil, errInvalidField("image", "image architecture %s does not match server type architecture %s", found.arch, arch)
	}
	return found, nil
}

func (s *Server) planServerNetworks(p *serverPlan) error {
	for _, id := range p.req.Networks {
		n, ok := s.st.networks[id]
		if !ok {
			return errInvalidField("networks", "network %d not found", id)
		}
		for _, existing := range p.nets {
			if existing.network == n {
				return errInvalidField("networks", "network %d given twice", id)
			}
		}
		ip, _, err := s.allocPrivateIP(n, p.loc.s.NetworkZone, "", "")
		if err != nil {
			return err
		}
		p.nets = append(p.nets, &serverNet{network: n, ip: ip})
	}
	return nil
}

func (s *Server) planServerAttachments(p *serverPlan) error {
	for _, f := range p.req.Firewalls {
		fw, ok := s.st.firewalls[f.Firewall]
		if !ok {
			return errUnprocessable("firewall_resource_not_found", "firewall %d not found", f.Firewall)
		}
		p.fws = append(p.fws, fw)
	}
	if len(p.fws) > 0 && !p.ipv4 && !p.ipv6 {
		return errUnprocessable("private_net_only_server", "firewalls need a server with a public interface")
	}
	if p.req.PlacementGroup != 0 {
		pg, ok := s.st.placementGroups[p.req.PlacementGroup]
		if !ok {
			return errInvalidField("placement_group", "placement group %d not found", p.req.PlacementGroup)
		}
		if s.placementGroupSize(pg) >= maxSpreadServers {
			return errf(http.StatusPreconditionFailed, "placement_error", "an error during the placement occurred: spread placement group %d already has %d servers", pg.ID, maxSpreadServers)
		}
		p.pg = pg
	}
	for _, id := range p.req.Volumes {
		v, ok := s.st.volumes[id]
		if !ok {
			return errInvalidField("volumes", "volume %d not found", id)
		}
		if v.serverID != 0 {
			return errUnprocessable("volume_already_attached", "volume %d is already attached", id)
		}
		if v.loc != p.loc {
			return errInvalidField("volumes", "volume %d is in location %s, not %s", id, v.loc.Name, p.loc.Name)
		}
		p.vols = append(p.vols, v)
	}
	return nil
}

// provisionServer creates the server and its action chain:
// create_server, then start_server (unless start_after_create is false),
// plus apply_firewall / attach_volume next actions.
func (s *Server) provisionServer(p *serverPlan) (*server, *action, []*action, *string) {
	now := s.clock.Now()
	sv := &server{
		resource:    resource{ID: s.st.nextID("server"), Name: p.req.Name, Created: now, Labels: p.labels},
		status:      statusInitializing,
		stype:       p.stype,
		loc:         p.loc,
		imageID:     p.img.ID,
		fwStatus:    map[int64]string{},
		pg:          p.pg,
		userData:    p.req.UserData,
		sshKeys:     p.req.SSHKeys,
		primaryDisk: p.stype.s.Disk,
	}
	sv.pip4, sv.pip6 = p.pip4, p.pip6
	if p.ipv4 && sv.pip4 == nil {
		sv.pip4 = s.newPrimaryIP("ipv4", p.loc, "", true, map[string]string{})
	}
	if p.ipv6 && sv.pip6 == nil {
		sv.pip6 = s.newPrimaryIP("ipv6", p.loc, "", true, map[string]string{})
	}
	for _, pip := range []*primaryIP{sv.pip4, sv.pip6} {
		if pip != nil {
			pip.assigneeID = sv.ID
		}
	}
	for _, pn := range p.nets {
		pn.mac = macFor(sv.ID, pn.network.ID)
		sv.privateNets = append(sv.privateNets, pn)
	}
	s.st.servers[sv.ID] = sv
	s.diskFromImage(sv, p.img) // hook (disk.go): the disk starts as a copy of the image's

	createDur := s.latency.ServerCreate
	if p.img.typ != "system" {
		size := float64(p.img.diskSize)
		if p.img.imageSize != nil {
			size = float64(*p.img.imageSize)
		}
		createDur += s.latency.ServerCreateFromSnapshot + time.Duration(size*float64(s.latency.SnapshotRestorePerGB))
	}
	startNow := p.startNow
	create := s.startAction(actionSpec{
		command:   "create_server",
		duration:  createDur,
		resources: []resKey{key("server", sv.ID)},
		locks:     []resKey{key("server", sv.ID)},
		onSuccess: func(time.Time) {
			if startNow {
				sv.status = statusStarting
			} else {
				sv.status = statusOff
			}
		},
		onError: func(time.Time) { sv.status = statusOff },
	})
	var next []*action
	if startNow {
		next = append(next, s.startAction(actionSpec{
			command:   "start_server",
			duration:  s.latency.ServerBoot,
			resources: []resKey{key("server", sv.ID)},
			locks:     []resKey{key("server", sv.ID)},
			after:     create,
			onSuccess: func(at time.Time) { s.bootServer(sv, at) },
			onError:   func(time.Time) { sv.status = statusOff },
		}))
	}
	for _, fw := range p.fws {
		fw.applied = append(fw.applied, &fwTarget{serverID: sv.ID})
	}
	next = append(next, s.reconcileServerFirewallsAfter(sv, create, p.fws)...)
	for _, v := range p.vols {
		v.serverID = sv.ID
		next = append(next, s.startAction(actionSpec{
			command:   "attach_volume",
			duration:  s.latency.VolumeAttach,
			resources: []resKey{key("volume", v.ID), key("server", sv.ID)},
			locks:     []resKey{key("volume", v.ID)},
			after:     create,
		}))
	}
	var rootPassword *string
	if len(p.req.SSHKeys) == 0 {
		pw := s.randomPassword()
		rootPassword = &pw
	}
	return sv, create, next, rootPassword
}

// randomPassword draws a root password from the seeded source.
func (s *Server) randomPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func idOrName(v schema.IDOrName) any {
	if v.ID != 0 {
		return v.ID
	}
	return v.Name
}
