package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// serverActionReply is the common {"action": …} body of server actions.
func (s *Server) serverActionReply(a *action) (int, any, error) {
	return http.StatusCreated, map[string]any{"action": s.renderAction(a)}, nil
}

// runServerAction starts a simple action that locks only the server.
func (s *Server) runServerAction(sv *server, command string, d time.Duration, onSuccess func(at time.Time)) *action {
	return s.startAction(actionSpec{
		command:   command,
		duration:  d,
		resources: []resKey{key("server", sv.ID)},
		locks:     []resKey{key("server", sv.ID)},
		onSuccess: onSuccess,
	})
}

func (s *Server) serverPoweron(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	if sv.status == statusRunning {
		return s.serverActionReply(s.runServerAction(sv, "start_server", s.latency.Quick, nil))
	}
	sv.status = statusStarting
	a := s.runServerAction(sv, "start_server", s.latency.ServerBoot, func(at time.Time) { s.bootServer(sv, at) })
	a.onError = func(time.Time) { sv.status = statusOff }
	return s.serverActionReply(a)
}

func (s *Server) serverPoweroff(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	if sv.status != statusOff {
		sv.status = statusStopping
	}
	a := s.runServerAction(sv, "stop_server", s.latency.ServerPowerOff, func(time.Time) {
		sv.status = statusOff
		sv.inRescue = false
	})
	a.onError = func(time.Time) { sv.status = statusRunning }
	return s.serverActionReply(a)
}

// serverShutdown sends ACPI: the action succeeds quickly, the server goes
// off later – or never, if the guest ignores ACPI. Success ≠ off.
func (s *Server) serverShutdown(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	boot := sv.bootCount
	acpiOff := s.jitter(s.latency.ServerACPIOff)
	a := s.runServerAction(sv, "shutdown_server", s.latency.ServerShutdown, func(at time.Time) {
		if s.opts.IgnoreACPIShutdown || sv.status != statusRunning {
			return
		}
		s.st.events.schedule(at.Add(acpiOff), func(time.Time) {
			if sv.status == statusRunning && sv.bootCount == boot {
				sv.status = statusOff
				sv.inRescue = false
			}
		})
	})
	return s.serverActionReply(a)
}

func (s *Server) serverReboot(_ context.Context, c *call) (int, any, error) {
	return s.serverRestart(c, "reboot_server", false)
}

func (s *Server) serverReset(_ context.Context, c *call) (int, any, error) {
	return s.serverRestart(c, "reset_server", true)
}

// serverRestart reboots a running server (soft) or power-cycles any server
// (reset); the boot picks up an enabled rescue system.
func (s *Server) serverRestart(c *call, command string, hard bool) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	running := sv.status == statusRunning
	a := s.runServerAction(sv, command, s.latency.ServerReboot, func(at time.Time) {
		if running || hard {
			s.bootServer(sv, at)
		}
	})
	return s.serverActionReply(a)
}

func (s *Server) serverEnableRescue(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionEnableRescueRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Type != nil && *req.Type != "" && *req.Type != "linux64" { // hcloud-go sends "" when unset
		return 0, nil, errInvalidField("type", "rescue type must be linux64")
	}
	for _, id := range req.SSHKeys {
		if _, ok := s.st.sshKeys[id]; !ok {
			return 0, nil, errInvalidField("ssh_keys", "SSH key %d not found", id)
		}
	}
	s.setRescueKeys(sv, req.SSHKeys) // hook (rescue.go): keys the next rescue boot accepts
	a := s.runServerAction(sv, "enable_rescue", s.latency.Rescue, func(time.Time) { sv.rescue = true })
	return http.StatusCreated, schema.ServerActionEnableRescueResponse{Action: s.renderAction(a), RootPassword: s.randomPassword()}, nil
}

func (s *Server) serverDisableRescue(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	return s.serverActionReply(s.runServerAction(sv, "disable_rescue", s.latency.Rescue, func(time.Time) { sv.rescue = false }))
}

// serverCreateImage snapshots the disk: the image exists at once with status
// creating and becomes available only when the action succeeds.
func (s *Server) serverCreateImage(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionCreateImageRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	typ := "snapshot"
	if req.Type != nil {
		if *req.Type != "snapshot" && *req.Type != "backup" {
			return 0, nil, errInvalidField("type", "must be snapshot or backup")
		}
		typ = *req.Type
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	img := &image{
		resource:    resource{ID: s.st.nextID("image"), Created: s.clock.Now(), Labels: labels},
		typ:         typ,
		status:      "creating",
		diskSize:    float32(sv.primaryDisk),
		createdFrom: &schema.ImageCreatedFrom{ID: sv.ID, Name: sv.Name},
		arch:        sv.stype.s.Architecture,
	}
	if req.Description != nil {
		img.description = *req.Description
	}
	if src, ok := s.st.images[sv.imageID]; ok {
		img.osFlavor, img.osVersion = src.osFlavor, src.osVersion
	} else {
		img.osFlavor = "unknown"
	}
	if typ == "backup" {
		img.boundTo = ptr(sv.ID)
	}
	s.st.images[img.ID] = img
	s.snapshotDisk(sv, img) // hook (disk.go): the snapshot keeps the server's disk content
	d := s.latency.SnapshotBase + time.Duration(float64(sv.primaryDisk)*float64(s.latency.SnapshotPerGB))
	// Draw now, not at completion: random draws must happen in request
	// order for runs with the same seed to be identical.
	size := float32(0.3 + 2*s.rng.Float64())
	a := s.startAction(actionSpec{
		command:   "create_image",
		duration:  d,
		resources: []resKey{key("server", sv.ID), key("image", img.ID)},
		locks:     []resKey{key("server", sv.ID), key("image", img.ID)},
		onSuccess: func(time.Time) {
			img.status = "available"
			img.imageSize = &size
		},
		onError: func(time.Time) { delete(s.st.images, img.ID) },
	})
	return http.StatusCreated, schema.ServerActionCreateImageResponse{Action: s.renderAction(a), Image: s.renderImage(img)}, nil
}

func (s *Server) serverRebuild(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	if sv.protection.Rebuild {
		return 0, nil, errProtected("server", sv.ID)
	}
	var req schema.ServerActionRebuildRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	img, err := s.resolveImage(req.Image, sv.stype.s.Architecture)
	if err != nil {
		return 0, nil, err
	}
	if req.UserData != nil {
		if len(*req.UserData) > maxUserData {
			return 0, nil, errInvalidField("user_data", "is too long (%d bytes, maximum is %d)", len(*req.UserData), maxUserData)
		}
		sv.userData = *req.UserData
	}
	sv.status = statusRebuilding
	sv.inRescue = false
	a := s.runServerAction(sv, "rebuild_server", s.latency.ServerRebuild, func(at time.Time) {
		sv.imageID = img.ID
		s.diskFromImage(sv, img) // hook (disk.go): the disk is the image's again
		s.bootServer(sv, at)
	})
	a.onError = func(time.Time) { sv.status = statusOff }
	var pw *string
	if len(sv.sshKeys) == 0 {
		pw = ptr(s.randomPassword())
	}
	return http.StatusCreated, schema.ServerActionRebuildResponse{Action: s.renderAction(a), RootPassword: pw}, nil
}

func (s *Server) serverChangeType(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionChangeTypeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if sv.status != statusOff {
		return 0, nil, errUnprocessable("server_not_stopped", "server %d must be powered off to change its type", sv.ID)
	}
	t := s.st.serverTypeByIDOrName(req.ServerType)
	if t == nil {
		return 0, nil, errInvalidField("server_type", "server type %v not found", idOrName(req.ServerType))
	}
	if t.s.Deprecated || t.s.Architecture != sv.stype.s.Architecture || t.s.Disk < sv.primaryDisk {
		return 0, nil, errUnprocessable("invalid_server_type", "server type %s does not fit server %d", t.Name, sv.ID)
	}
	sv.status = statusMigrating
	a := s.runServerAction(sv, "change_server_type", s.latency.ServerChangeType, func(time.Time) {
		sv.stype = t
		if req.UpgradeDisk {
			sv.primaryDisk = t.s.Disk
		}
		sv.status = statusOff
	})
	a.onError = func(time.Time) { sv.status = statusOff }
	return s.serverActionReply(a)
}

func (s *Server) serverAttachToNetwork(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionAttachToNetworkRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	n, ok := s.st.networks[req.Network]
	if !ok {
		return 0, nil, errInvalidField("network", "network %d not found", req.Network)
	}
	for _, pn := range sv.privateNets {
		if pn.network == n {
			return 0, nil, errUnprocessable("server_already_attached", "server %d is already attached to network %d", sv.ID, n.ID)
		}
		if pn.network.ipRange.Overlaps(n.ipRange) {
			return 0, nil, errUnprocessable("networks_overlap", "network %d overlaps with network %d of server %d", n.ID, pn.network.ID, sv.ID)
		}
	}
	ip, sn, err := s.allocPrivateIP(n, sv.loc.s.NetworkZone, deref(req.IP), deref(req.IPRange))
	if err != nil {
		return 0, nil, err
	}
	pn := &serverNet{network: n, ip: ip, mac: macFor(sv.ID, n.ID), pending: true}
	raws := make([]string, 0, len(req.AliasIPs))
	for _, raw := range req.AliasIPs {
		raws = append(raws, deref(raw))
	}
	if pn.aliasIPs, err = s.aliasIPs(n, sn, ip, raws, nil); err != nil {
		return 0, nil, err
	}
	sv.privateNets = append(sv.privateNets, pn)
	a := s.startAction(actionSpec{
		command:   "attach_to_network",
		duration:  s.latency.NetworkAttach,
		resources: []resKey{key("server", sv.ID), key("network", n.ID)},
		locks:     []resKey{key("server", sv.ID)},
		onSuccess: func(time.Time) { pn.pending = false },
		onError:   func(time.Time) { s.dropServerNet(sv, pn) },
	})
	return s.serverActionReply(a)
}

// aliasIPs validates the alias IPs of a server whose address in network n
// is ip, in subnet sn: each must lie in that subnet, be given once and be
// free, where the aliases in keep (those being replaced) count as free.
func (s *Server) aliasIPs(n *network, sn *subnet, ip netip.Addr, raws []string, keep []netip.Addr) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(raws))
	now := s.clock.Now()
	for _, raw := range raws {
		a, err := netip.ParseAddr(raw)
		switch {
		case err != nil || !sn.prefix.Contains(a):
			return nil, errInvalidField("alias_ips", "alias IP %s is not inside subnet %s", raw, sn.prefix)
		case slices.Contains(out, a):
			return nil, errInvalidField("alias_ips", "alias IP %s is given twice", a)
		case a == ip || !slices.Contains(keep, a) && !s.usable(n, sn, a, now):
			return nil, errUnprocessable("ip_not_available", "alias IP %s is not available", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// serverChangeAliasIPs replaces the server's alias IPs in one attached
// network. The new set applies at once, so a racing request already finds
// the addresses taken; the action reports completion later.
func (s *Server) serverChangeAliasIPs(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionChangeAliasIPsRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(sv.privateNets, func(p *serverNet) bool { return p.network.ID == req.Network && !p.pending })
	if i < 0 {
		return 0, nil, errUnprocessable("server_not_attached_to_network", "server %d is not attached to network %d", sv.ID, req.Network)
	}
	pn := sv.privateNets[i]
	sn := subnetOf(pn.network, pn.ip)
	if sn == nil {
		return 0, nil, errUnprocessable("ip_not_available", "the subnet of server %d's IP %s is gone", sv.ID, pn.ip)
	}
	aliases, err := s.aliasIPs(pn.network, sn, pn.ip, req.AliasIPs, pn.aliasIPs)
	if err != nil {
		return 0, nil, err
	}
	pn.aliasIPs = aliases
	a := s.startAction(actionSpec{
		command:   "change_alias_ips",
		duration:  s.latency.NetworkChange,
		resources: []resKey{key("server", sv.ID), key("network", pn.network.ID)},
		locks:     []resKey{key("server", sv.ID)},
	})
	return s.serverActionReply(a)
}

// subnetOf returns the subnet of n that contains ip, or nil.
func subnetOf(n *network, ip netip.Addr) *subnet {
	for _, sn := range n.subnets {
		if sn.prefix.Contains(ip) {
			return sn
		}
	}
	return nil
}

func (s *Server) serverDetachFromNetwork(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionDetachFromNetworkRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	var pn *serverNet
	for _, p := range sv.privateNets {
		if p.network.ID == req.Network {
			pn = p
		}
	}
	if pn == nil {
		return 0, nil, errUnprocessable("server_not_attached_to_network", "server %d is not attached to network %d", sv.ID, req.Network)
	}
	a := s.startAction(actionSpec{
		command:   "detach_from_network",
		duration:  s.latency.NetworkAttach,
		resources: []resKey{key("server", sv.ID), key("network", pn.network.ID)},
		locks:     []resKey{key("server", sv.ID)},
		onSuccess: func(at time.Time) {
			s.dropServerNet(sv, pn)
			s.releasePrivateIP(pn.network, pn.ip, at)
		},
	})
	return s.serverActionReply(a)
}

func (s *Server) dropServerNet(sv *server, pn *serverNet) {
	for i, p := range sv.privateNets {
		if p == pn {
			sv.privateNets = append(sv.privateNets[:i], sv.privateNets[i+1:]...)
			return
		}
	}
}

func (s *Server) serverAddToPlacementGroup(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionAddToPlacementGroupRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	pg, ok := s.st.placementGroups[req.PlacementGroup]
	if !ok {
		return 0, nil, errInvalidField("placement_group", "placement group %d not found", req.PlacementGroup)
	}
	if sv.status != statusOff {
		return 0, nil, errUnprocessable("server_not_stopped", "server %d must be powered off", sv.ID)
	}
	if sv.pg != nil {
		return 0, nil, errInvalidField("placement_group", "server %d is already in placement group %d", sv.ID, sv.pg.ID)
	}
	if s.placementGroupSize(pg) >= maxSpreadServers {
		return 0, nil, errf(http.StatusPreconditionFailed, "placement_error", "spread placement group %d already has %d servers", pg.ID, maxSpreadServers)
	}
	sv.pg = pg
	a := s.startAction(actionSpec{
		command: "add_to_placement_group", duration: s.latency.Quick,
		resources: []resKey{key("server", sv.ID), key("placement_group", pg.ID)},
		locks:     []resKey{key("server", sv.ID)},
	})
	return s.serverActionReply(a)
}

func (s *Server) serverRemoveFromPlacementGroup(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	if sv.pg == nil {
		return 0, nil, errInvalidField("placement_group", "server %d is not in a placement group", sv.ID)
	}
	pg := sv.pg
	sv.pg = nil
	a := s.startAction(actionSpec{
		command: "remove_from_placement_group", duration: s.latency.Quick,
		resources: []resKey{key("server", sv.ID), key("placement_group", pg.ID)},
		locks:     []resKey{key("server", sv.ID)},
	})
	return s.serverActionReply(a)
}

func (s *Server) serverChangeDNSPtr(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionChangeDNSPtrRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	ip, err := netip.ParseAddr(req.IP)
	switch {
	case err != nil:
		return 0, nil, errInvalidField("ip", "%q is not an IP address", req.IP)
	case ip.Is4() && sv.pip4 != nil && sv.pip4.owns(ip):
	case ip.Is6() && sv.pip6 != nil && sv.pip6.owns(ip):
	default:
		return 0, nil, errInvalidField("ip", "IP %s does not belong to server %d", req.IP, sv.ID)
	}
	pip := sv.pip4
	if ip.Is6() {
		pip = sv.pip6
	}
	a := s.runServerAction(sv, "change_dns_ptr", s.latency.Quick, func(time.Time) { setDNSPtr(pip, ip, req.DNSPtr) })
	return s.serverActionReply(a)
}

// serverChangeProtection applies at once (so a racing delete already sees
// it) while the action reports completion later.
func (s *Server) serverChangeProtection(_ context.Context, c *call) (int, any, error) {
	sv, err := s.mutableServer(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.ServerActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	p := sv.protection
	if req.Delete != nil {
		p.Delete = *req.Delete
	}
	if req.Rebuild != nil {
		p.Rebuild = *req.Rebuild
	}
	if p.Delete != p.Rebuild {
		return 0, nil, errInvalidField("rebuild", "delete and rebuild protection must currently have the same value")
	}
	sv.protection = p
	return s.serverActionReply(s.runServerAction(sv, "change_protection", s.latency.Quick, nil))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
