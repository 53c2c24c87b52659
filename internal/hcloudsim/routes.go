package hcloudsim

import (
	"context"
)

type handlerFn = func(context.Context, *call) (int, any, error)

// routes registers every /v1 endpoint. The patterns are also the keys of the
// request statistics, e.g. "GET /v1/servers/{id}".
func (s *Server) routes() {
	h := map[string]handlerFn{
		"GET /v1/actions":      s.listActions,
		"GET /v1/actions/{id}": s.getAction,

		"GET /v1/servers":              s.listServers,
		"POST /v1/servers":             s.createServer,
		"GET /v1/servers/{id}":         s.getServer,
		"PUT /v1/servers/{id}":         s.updateServer,
		"DELETE /v1/servers/{id}":      s.deleteServer,
		"GET /v1/servers/{id}/metrics": s.serverMetrics,

		"POST /v1/servers/{id}/actions/poweron":                     s.serverPoweron,
		"POST /v1/servers/{id}/actions/poweroff":                    s.serverPoweroff,
		"POST /v1/servers/{id}/actions/shutdown":                    s.serverShutdown,
		"POST /v1/servers/{id}/actions/reboot":                      s.serverReboot,
		"POST /v1/servers/{id}/actions/reset":                       s.serverReset,
		"POST /v1/servers/{id}/actions/enable_rescue":               s.serverEnableRescue,
		"POST /v1/servers/{id}/actions/disable_rescue":              s.serverDisableRescue,
		"POST /v1/servers/{id}/actions/create_image":                s.serverCreateImage,
		"POST /v1/servers/{id}/actions/rebuild":                     s.serverRebuild,
		"POST /v1/servers/{id}/actions/change_type":                 s.serverChangeType,
		"POST /v1/servers/{id}/actions/attach_to_network":           s.serverAttachToNetwork,
		"POST /v1/servers/{id}/actions/detach_from_network":         s.serverDetachFromNetwork,
		"POST /v1/servers/{id}/actions/add_to_placement_group":      s.serverAddToPlacementGroup,
		"POST /v1/servers/{id}/actions/remove_from_placement_group": s.serverRemoveFromPlacementGroup,
		"POST /v1/servers/{id}/actions/change_dns_ptr":              s.serverChangeDNSPtr,
		"POST /v1/servers/{id}/actions/change_protection":           s.serverChangeProtection,
		"POST /v1/servers/{id}/actions/change_alias_ips":            s.serverChangeAliasIPs,
		"POST /v1/servers/{id}/actions/enable_backup":               s.serverEnableBackup,
		"POST /v1/servers/{id}/actions/disable_backup":              s.serverDisableBackup,
		"POST /v1/servers/{id}/actions/request_console":             s.serverRequestConsole,
		"POST /v1/servers/{id}/actions/reset_password":              s.serverResetPassword,

		"GET /v1/networks":         s.listNetworks,
		"POST /v1/networks":        s.createNetwork,
		"GET /v1/networks/{id}":    s.getNetwork,
		"PUT /v1/networks/{id}":    s.updateNetwork,
		"DELETE /v1/networks/{id}": s.deleteNetwork,

		"POST /v1/networks/{id}/actions/add_subnet":        s.networkAddSubnet,
		"POST /v1/networks/{id}/actions/delete_subnet":     s.networkDeleteSubnet,
		"POST /v1/networks/{id}/actions/add_route":         s.networkAddRoute,
		"POST /v1/networks/{id}/actions/delete_route":      s.networkDeleteRoute,
		"POST /v1/networks/{id}/actions/change_ip_range":   s.networkChangeIPRange,
		"POST /v1/networks/{id}/actions/change_protection": s.networkChangeProtection,

		"GET /v1/firewalls":         s.listFirewalls,
		"POST /v1/firewalls":        s.createFirewall,
		"GET /v1/firewalls/{id}":    s.getFirewall,
		"PUT /v1/firewalls/{id}":    s.updateFirewall,
		"DELETE /v1/firewalls/{id}": s.deleteFirewall,

		"POST /v1/firewalls/{id}/actions/set_rules":             s.firewallSetRules,
		"POST /v1/firewalls/{id}/actions/apply_to_resources":    s.firewallApply,
		"POST /v1/firewalls/{id}/actions/remove_from_resources": s.firewallRemove,

		"GET /v1/load_balancers":              s.listLoadBalancers,
		"POST /v1/load_balancers":             s.createLoadBalancer,
		"GET /v1/load_balancers/{id}":         s.getLoadBalancer,
		"PUT /v1/load_balancers/{id}":         s.updateLoadBalancer,
		"DELETE /v1/load_balancers/{id}":      s.deleteLoadBalancer,
		"GET /v1/load_balancers/{id}/metrics": s.lbMetrics,

		"POST /v1/load_balancers/{id}/actions/add_service":              s.lbAddService,
		"POST /v1/load_balancers/{id}/actions/update_service":           s.lbUpdateService,
		"POST /v1/load_balancers/{id}/actions/delete_service":           s.lbDeleteService,
		"POST /v1/load_balancers/{id}/actions/add_target":               s.lbAddTarget,
		"POST /v1/load_balancers/{id}/actions/remove_target":            s.lbRemoveTarget,
		"POST /v1/load_balancers/{id}/actions/attach_to_network":        s.lbAttachToNetwork,
		"POST /v1/load_balancers/{id}/actions/detach_from_network":      s.lbDetachFromNetwork,
		"POST /v1/load_balancers/{id}/actions/enable_public_interface":  s.lbEnablePublic,
		"POST /v1/load_balancers/{id}/actions/disable_public_interface": s.lbDisablePublic,
		"POST /v1/load_balancers/{id}/actions/change_algorithm":         s.lbChangeAlgorithm,
		"POST /v1/load_balancers/{id}/actions/change_type":              s.lbChangeType,
		"POST /v1/load_balancers/{id}/actions/change_dns_ptr":           s.lbChangeDNSPtr,
		"POST /v1/load_balancers/{id}/actions/change_protection":        s.lbChangeProtection,

		"GET /v1/placement_groups":         s.listPlacementGroups,
		"POST /v1/placement_groups":        s.createPlacementGroup,
		"GET /v1/placement_groups/{id}":    s.getPlacementGroup,
		"PUT /v1/placement_groups/{id}":    s.updatePlacementGroup,
		"DELETE /v1/placement_groups/{id}": s.deletePlacementGroup,

		"GET /v1/floating_ips":         s.listFloatingIPs,
		"POST /v1/floating_ips":        s.createFloatingIP,
		"GET /v1/floating_ips/{id}":    s.getFloatingIP,
		"PUT /v1/floating_ips/{id}":    s.updateFloatingIP,
		"DELETE /v1/floating_ips/{id}": s.deleteFloatingIP,

		"POST /v1/floating_ips/{id}/actions/assign":            s.floatingIPAssign,
		"POST /v1/floating_ips/{id}/actions/unassign":          s.floatingIPUnassign,
		"POST /v1/floating_ips/{id}/actions/change_dns_ptr":    s.floatingIPChangeDNSPtr,
		"POST /v1/floating_ips/{id}/actions/change_protection": s.floatingIPChangeProtection,

		"GET /v1/ssh_keys":         s.listSSHKeys,
		"POST /v1/ssh_keys":        s.createSSHKey,
		"GET /v1/ssh_keys/{id}":    s.getSSHKey,
		"PUT /v1/ssh_keys/{id}":    s.updateSSHKey,
		"DELETE /v1/ssh_keys/{id}": s.deleteSSHKey,

		"GET /v1/images":                                 s.listImages,
		"GET /v1/images/{id}":                            s.getImage,
		"PUT /v1/images/{id}":                            s.updateImage,
		"DELETE /v1/images/{id}":                         s.deleteImage,
		"POST /v1/images/{id}/actions/change_protection": s.imageChangeProtection,

		"GET /v1/certificates":         s.listCertificates,
		"POST /v1/certificates":        s.createCertificate,
		"GET /v1/certificates/{id}":    s.getCertificate,
		"PUT /v1/certificates/{id}":    s.updateCertificate,
		"DELETE /v1/certificates/{id}": s.deleteCertificate,

		"GET /v1/volumes":                                 s.listVolumes,
		"POST /v1/volumes":                                s.createVolume,
		"GET /v1/volumes/{id}":                            s.getVolume,
		"PUT /v1/volumes/{id}":                            s.updateVolume,
		"DELETE /v1/volumes/{id}":                         s.deleteVolume,
		"POST /v1/volumes/{id}/actions/attach":            s.volumeAttach,
		"POST /v1/volumes/{id}/actions/detach":            s.volumeDetach,
		"POST /v1/volumes/{id}/actions/resize":            s.volumeResize,
		"POST /v1/volumes/{id}/actions/change_protection": s.volumeChangeProtection,

		"GET /v1/primary_ips":                                 s.listPrimaryIPs,
		"POST /v1/primary_ips":                                s.createPrimaryIP,
		"GET /v1/primary_ips/{id}":                            s.getPrimaryIP,
		"PUT /v1/primary_ips/{id}":                            s.updatePrimaryIP,
		"DELETE /v1/primary_ips/{id}":                         s.deletePrimaryIP,
		"POST /v1/primary_ips/{id}/actions/assign":            s.primaryIPAssign,
		"POST /v1/primary_ips/{id}/actions/unassign":          s.primaryIPUnassign,
		"POST /v1/primary_ips/{id}/actions/change_dns_ptr":    s.primaryIPChangeDNSPtr,
		"POST /v1/primary_ips/{id}/actions/change_protection": s.primaryIPChangeProtection,

		"GET /v1/locations":                s.listLocations,
		"GET /v1/locations/{id}":           s.getLocation,
		"GET /v1/datacenters":              s.listDatacenters,
		"GET /v1/datacenters/{id}":         s.getDatacenter,
		"GET /v1/server_types":             s.listServerTypes,
		"GET /v1/server_types/{id}":        s.getServerType,
		"GET /v1/load_balancer_types":      s.listLBTypes,
		"GET /v1/load_balancer_types/{id}": s.getLBType,
		"GET /v1/pricing":                  s.getPricing,
		"GET /v1/isos":                     s.listISOs,
		"GET /v1/isos/{id}":                s.getISO,
		"GET /v1/zones":                    s.listZones,
		"GET /v1/zones/{id}":               s.getZone,
	}
	for prefix, typ := range map[string]string{
		"servers": "server", "networks": "network", "firewalls": "firewall", "load_balancers": "load_balancer",
		"floating_ips": "floating_ip", "primary_ips": "primary_ip", "images": "image", "certificates": "certificate", "volumes": "volume",
	} {
		h["GET /v1/"+prefix+"/actions"] = s.resourceActions(typ, false)
		h["GET /v1/"+prefix+"/{id}/actions"] = s.resourceActions(typ, true)
		h["GET /v1/"+prefix+"/{id}/actions/{action_id}"] = s.resourceAction(typ)
		// The type-level GET /v1/<kind>/actions/{action_id} cannot be a
		// pattern of its own next to /{id}/actions, so it hides behind
		// this one; resourceAction only serves it when {id} is "actions".
		h["GET /v1/"+prefix+"/{id}/{action_id}"] = s.typeAction(s.resourceAction(typ))
	}
	for pattern, fn := range h {
		s.api.Handle(pattern, s.endpoint(fn))
	}
}

// typeAction restricts the catch-all /{kind}/{id}/{action_id} pattern to
// the literal /{kind}/actions/{action_id}.
func (s *Server) typeAction(next handlerFn) handlerFn {
	return func(ctx context.Context, c *call) (int, any, error) {
		if c.r.PathValue("id") != "actions" {
			return 0, nil, errNotFound("resource", c.r.URL.Path)
		}
		return next(ctx, c)
	}
}
