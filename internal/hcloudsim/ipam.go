package hcloudsim

import (
	"fmt"
	"net/netip"
	"time"
)

// Private addresses are data only: the simulator allocates them inside the
// network's subnets exactly like the API, but nothing ever dials them.

// networkGateway is the first address of the network range; Hetzner uses it
// as gateway of every cloud/server subnet.
func (n *network) gateway() netip.Addr { return n.ipRange.Masked().Addr().Next() }

// ipInUse reports whether any server or load balancer holds ip in n.
func (s *Server) ipInUse(n *network, ip netip.Addr) bool {
	for _, sv := range s.st.servers {
		for _, pn := range sv.privateNets {
			if pn.network != n {
				continue
			}
			if pn.ip == ip {
				return true
			}
			for _, a := range pn.aliasIPs {
				if a == ip {
					return true
				}
			}
		}
	}
	for _, lb := range s.st.loadBalancers {
		for _, pn := range lb.privateNets {
			if pn.network == n && pn.ip == ip {
				return true
			}
		}
	}
	return false
}

// usable reports whether ip may be handed out in sn right now.
func (s *Server) usable(n *network, sn *subnet, ip netip.Addr, now time.Time) bool {
	if !sn.prefix.Contains(ip) || ip == sn.prefix.Masked().Addr() || ip == lastAddr(sn.prefix) || ip == n.gateway() {
		return false
	}
	if until, ok := n.quarantine[ip]; ok && now.Before(until) {
		return false
	}
	return !s.ipInUse(n, ip)
}

// allocPrivateIP picks an address for a server or load balancer in zone:
// the explicit one if it is valid and free, else the first free address of
// the first matching subnet (optionally restricted to ipRange).
func (s *Server) allocPrivateIP(n *network, zone string, explicit string, ipRange string) (netip.Addr, *subnet, error) {
	now := s.clock.Now()
	var candidates []*subnet
	for _, sn := range n.subnets {
		if sn.typ == "vswitch" || sn.zone != zone {
			continue
		}
		if ipRange != "" && sn.prefix.String() != ipRange {
			continue
		}
		candidates = append(candidates, sn)
	}
	if len(candidates) == 0 {
		return netip.Addr{}, nil, errUnprocessable("no_subnet_available", "no subnet of network %d in network zone %s", n.ID, zone)
	}
	if explicit != "" {
		ip, err := netip.ParseAddr(explicit)
		if err != nil || !ip.Is4() {
			return netip.Addr{}, nil, errInvalidField("ip", "%q is not a valid IPv4 address", explicit)
		}
		for _, sn := range candidates {
			if !sn.prefix.Contains(ip) {
				continue
			}
			if !s.usable(n, sn, ip, now) {
				return netip.Addr{}, nil, errUnprocessable("ip_not_available", "IP %s is not available", ip)
			}
			return ip, sn, nil
		}
		return netip.Addr{}, nil, errInvalidField("ip", "IP %s is not inside a subnet of network %d in %s", ip, n.ID, zone)
	}
	for _, sn := range candidates {
		for ip := sn.prefix.Masked().Addr().Next(); sn.prefix.Contains(ip); ip = ip.Next() {
			if s.usable(n, sn, ip, now) {
				return ip, sn, nil
			}
		}
	}
	return netip.Addr{}, nil, errUnprocessable("no_subnet_available", "no free IP left in the subnets of network %d", n.ID)
}

// releasePrivateIP quarantines ip and remembers when its subnet last lost a
// member (delete_subnet keeps failing for a while after that).
func (s *Server) releasePrivateIP(n *network, ip netip.Addr, at time.Time) {
	if n.quarantine == nil {
		n.quarantine = map[netip.Addr]time.Time{}
	}
	n.quarantine[ip] = at.Add(s.latency.PrivateIPQuarantine)
	for _, sn := range n.subnets {
		if sn.prefix.Contains(ip) {
			sn.releasedAt = at
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 1 << (7 - b)
			}
		}
	}
	return netip.AddrFrom4(a)
}

// macFor derives a stable, locally administered MAC for an attachment.
func macFor(serverID, networkID int64) string {
	return fmt.Sprintf("86:00:%02x:%02x:%02x:%02x", byte(networkID), byte(serverID>>16), byte(serverID>>8), byte(serverID))
}
