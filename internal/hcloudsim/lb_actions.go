package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/labelselector"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// serviceRequest is the common shape of the create/add/update service
// requests of hcloud-go.
type serviceRequest struct {
	Protocol        *string `json:"protocol"`
	ListenPort      *int    `json:"listen_port"`
	DestinationPort *int    `json:"destination_port"`
	Proxyprotocol   *bool   `json:"proxyprotocol"`
	HTTP            *struct {
		CookieName     *string  `json:"cookie_name"`
		CookieLifetime *int     `json:"cookie_lifetime"`
		Certificates   *[]int64 `json:"certificates"`
		RedirectHTTP   *bool    `json:"redirect_http"`
		StickySessions *bool    `json:"sticky_sessions"`
		TimeoutIdle    *int     `json:"timeout_idle"`
	} `json:"http"`
	HealthCheck *struct {
		Protocol *string `json:"protocol"`
		Port     *int    `json:"port"`
		Interval *int    `json:"interval"`
		Timeout  *int    `json:"timeout"`
		Retries  *int    `json:"retries"`
		HTTP     *struct {
			Domain      *string   `json:"domain"`
			Path        *string   `json:"path"`
			Response    *string   `json:"response"`
			StatusCodes *[]string `json:"status_codes"`
			TLS         *bool     `json:"tls"`
		} `json:"http"`
	} `json:"health_check"`
}

// buildService applies a service request on top of base (zero for new
// services) with the API's defaults.
func (s *Server) buildService(lb *loadBalancer, r serviceRequest) (schema.LoadBalancerService, error) {
	return s.mergeService(lb, schema.LoadBalancerService{}, r, true)
}

func (s *Server) mergeService(lb *loadBalancer, svc schema.LoadBalancerService, r serviceRequest, isNew bool) (schema.LoadBalancerService, error) {
	if r.Protocol != nil {
		svc.Protocol = *r.Protocol
	}
	if svc.Protocol != "tcp" && svc.Protocol != "http" && svc.Protocol != "https" {
		return svc, errInvalidField("protocol", "must be tcp, http or https")
	}
	if isNew {
		switch {
		case r.ListenPort != nil:
			svc.ListenPort = *r.ListenPort
		case svc.Protocol == "http":
			svc.ListenPort = 80
		case svc.Protocol == "https":
			svc.ListenPort = 443
		default:
			return svc, errInvalidField("listen_port", "is required for tcp services")
		}
		if svc.ListenPort < 1 || svc.ListenPort > 65535 {
			return svc, errInvalidField("listen_port", "must be between 1 and 65535")
		}
		if slices.ContainsFunc(lb.services, func(o *lbService) bool { return o.s.ListenPort == svc.ListenPort }) {
			return svc, errUnprocessable("source_port_already_used", "listen port %d is already used", svc.ListenPort)
		}
		if len(lb.services) >= lb.ltype.s.MaxServices {
			return svc, errUnprocessable("resource_limit_exceeded", "load balancer type %s allows %d services", lb.ltype.Name, lb.ltype.s.MaxServices)
		}
	}
	switch {
	case r.DestinationPort != nil:
		svc.DestinationPort = *r.DestinationPort
	case svc.DestinationPort == 0 && svc.Protocol == "tcp":
		svc.DestinationPort = svc.ListenPort
	case svc.DestinationPort == 0:
		svc.DestinationPort = 80
	}
	if r.Proxyprotocol != nil {
		svc.Proxyprotocol = *r.Proxyprotocol
	}
	if svc.Protocol != "tcp" {
		if svc.HTTP == nil {
			svc.HTTP = &schema.LoadBalancerServiceHTTP{CookieName: "HCLBSTICKY", CookieLifetime: 300, Certificates: []int64{}, TimeoutIdle: 60}
		}
		if h := r.HTTP; h != nil {
			setIf(&svc.HTTP.CookieName, h.CookieName)
			setIf(&svc.HTTP.CookieLifetime, h.CookieLifetime)
			setIf(&svc.HTTP.RedirectHTTP, h.RedirectHTTP)
			setIf(&svc.HTTP.StickySessions, h.StickySessions)
			setIf(&svc.HTTP.TimeoutIdle, h.TimeoutIdle)
			if h.Certificates != nil {
				svc.HTTP.Certificates = slices.Clone(*h.Certificates)
			}
		}
		for _, id := range svc.HTTP.Certificates {
			if _, ok := s.st.certificates[id]; !ok {
				return svc, errInvalidField("http.certificates", "certificate %d not found", id)
			}
		}
		if svc.Protocol == "https" && len(svc.HTTP.Certificates) == 0 {
			return svc, errInvalidField("http.certificates", "https services need at least one certificate")
		}
	} else {
		svc.HTTP = nil
	}
	if svc.HealthCheck == nil {
		svc.HealthCheck = &schema.LoadBalancerServiceHealthCheck{Protocol: "tcp", Port: svc.DestinationPort, Interval: 15, Timeout: 10, Retries: 3}
	}
	if hc := r.HealthCheck; hc != nil {
		setIf(&svc.HealthCheck.Protocol, hc.Protocol)
		setIf(&svc.HealthCheck.Port, hc.Port)
		setIf(&svc.HealthCheck.Interval, hc.Interval)
		setIf(&svc.HealthCheck.Timeout, hc.Timeout)
		setIf(&svc.HealthCheck.Retries, hc.Retries)
		if hc.HTTP != nil {
			if svc.HealthCheck.HTTP == nil {
				svc.HealthCheck.HTTP = &schema.LoadBalancerServiceHealthCheckHTTP{Path: "/", StatusCodes: []string{"2??", "3??"}}
			}
			h := svc.HealthCheck.HTTP
			setIf(&h.Domain, hc.HTTP.Domain)
			setIf(&h.Path, hc.HTTP.Path)
			setIf(&h.Response, hc.HTTP.Response)
			setIf(&h.TLS, hc.HTTP.TLS)
			if hc.HTTP.StatusCodes != nil {
				h.StatusCodes = slices.Clone(*hc.HTTP.StatusCodes)
			}
		}
	}
	switch svc.HealthCheck.Protocol {
	case "tcp":
		svc.HealthCheck.HTTP = nil
	case "http", "https":
		if svc.HealthCheck.HTTP == nil {
			svc.HealthCheck.HTTP = &schema.LoadBalancerServiceHealthCheckHTTP{Path: "/", StatusCodes: []string{"2??", "3??"}}
		}
	default:
		return svc, errInvalidField("health_check.protocol", "must be tcp, http or https")
	}
	if svc.HealthCheck.Interval < 3 || svc.HealthCheck.Timeout < 1 || svc.HealthCheck.Retries < 0 {
		return svc, errInvalidField("health_check", "interval must be >= 3s, timeout >= 1s, retries >= 0")
	}
	return svc, nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// buildTarget validates a target like the real API's add_target.
func (s *Server) buildTarget(lb *loadBalancer, r schema.LoadBalancerActionAddTargetRequest) (*lbTarget, error) {
	t := &lbTarget{typ: r.Type, usePrivateIP: deref(r.UsePrivateIP)}
	if len(lb.targets) >= lb.ltype.s.MaxTargets {
		return nil, errUnprocessable("resource_limit_exceeded", "load balancer type %s allows %d targets", lb.ltype.Name, lb.ltype.s.MaxTargets)
	}
	if !t.usePrivateIP && !lb.publicEnabled {
		return nil, errUnprocessable("load_balancer_public_interface_disabled", "the public interface of load balancer %d is disabled", lb.ID)
	}
	if t.usePrivateIP && len(lb.privateNets) == 0 {
		return nil, errUnprocessable("load_balancer_not_attached_to_network", "load balancer %d is not attached to a network", lb.ID)
	}
	switch {
	case r.Type == "server" && r.Server != nil:
		sv, ok := s.st.servers[r.Server.ID]
		if !ok {
			return nil, errInvalidField("server", "server %d not found", r.Server.ID)
		}
		if slices.ContainsFunc(lb.targets, func(o *lbTarget) bool { return o.typ == "server" && o.serverID == sv.ID }) {
			return nil, errUnprocessable("target_already_defined", "server %d is already a target", sv.ID)
		}
		if t.usePrivateIP && !sharesNetwork(lb, sv) {
			return nil, errUnprocessable("server_not_attached_to_network", "server %d is not attached to a network of load balancer %d", sv.ID, lb.ID)
		}
		if !t.usePrivateIP && sv.pip4 == nil {
			return nil, errUnprocessable("missing_ipv4", "server %d has no public IPv4", sv.ID)
		}
		t.serverID = sv.ID
	case r.Type == "label_selector" && r.LabelSelector != nil:
		sel, err := labelselector.Parse(r.LabelSelector.Selector)
		if err != nil || sel.Empty() {
			return nil, errInvalidField("label_selector.selector", "invalid label selector %q", r.LabelSelector.Selector)
		}
		if slices.ContainsFunc(lb.targets, func(o *lbTarget) bool { return o.typ == "label_selector" && o.selector == r.LabelSelector.Selector }) {
			return nil, errUnprocessable("target_already_defined", "selector %q is already a target", r.LabelSelector.Selector)
		}
		t.selector, t.sel = r.LabelSelector.Selector, sel
	case r.Type == "ip" && r.IP != nil:
		ip, err := netip.ParseAddr(r.IP.IP)
		if err != nil {
			return nil, errInvalidField("ip.ip", "%q is not an IP address", r.IP.IP)
		}
		if isCloudIP(s.st, ip) {
			return nil, errUnprocessable("cloud_resource_ip_not_allowed", "IP %s belongs to a cloud resource", ip)
		}
		if slices.ContainsFunc(lb.targets, func(o *lbTarget) bool { return o.typ == "ip" && o.ip == ip.String() }) {
			return nil, errUnprocessable("target_already_defined", "IP %s is already a target", ip)
		}
		t.ip = ip.String()
	default:
		return nil, errInvalidField("type", "must be server, label_selector or ip with its matching object")
	}
	return t, nil
}

// lbAction starts an action that locks the load balancer.
func (s *Server) lbAction(lb *loadBalancer, command string, d time.Duration, onSuccess func(time.Time), extra ...resKey) (int, any, error) {
	a := s.startAction(actionSpec{
		command: command, duration: d,
		resources: append([]resKey{key("load_balancer", lb.ID)}, extra...),
		locks:     []resKey{key("load_balancer", lb.ID)},
		onSuccess: onSuccess,
	})
	return http.StatusCreated, map[string]any{"action": s.renderAction(a)}, nil
}

func (s *Server) lbAddService(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r serviceRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	svc, err := s.buildService(lb, r)
	if err != nil {
		return 0, nil, err
	}
	lb.services = append(lb.services, &lbService{s: svc})
	return s.lbAction(lb, "add_service", s.latency.LoadBalancerChange, nil)
}

func (s *Server) lbUpdateService(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r serviceRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	if r.ListenPort == nil {
		return 0, nil, errInvalidField("listen_port", "is required")
	}
	i := slices.IndexFunc(lb.services, func(o *lbService) bool { return o.s.ListenPort == *r.ListenPort })
	if i < 0 {
		return 0, nil, errInvalidField("listen_port", "no service listens on port %d", *r.ListenPort)
	}
	svc, err := s.mergeService(lb, cloneService(lb.services[i].s), r, false)
	if err != nil {
		return 0, nil, err
	}
	lb.services[i].s = svc
	return s.lbAction(lb, "update_service", s.latency.LoadBalancerChange, nil)
}

func cloneService(in schema.LoadBalancerService) schema.LoadBalancerService {
	if in.HTTP != nil {
		h := *in.HTTP
		h.Certificates = slices.Clone(h.Certificates)
		in.HTTP = &h
	}
	if in.HealthCheck != nil {
		hc := *in.HealthCheck
		if hc.HTTP != nil {
			h := *hc.HTTP
			h.StatusCodes = slices.Clone(h.StatusCodes)
			hc.HTTP = &h
		}
		in.HealthCheck = &hc
	}
	return in
}

func (s *Server) lbDeleteService(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerDeleteServiceRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(lb.services, func(o *lbService) bool { return o.s.ListenPort == r.ListenPort })
	if i < 0 {
		return 0, nil, errInvalidField("listen_port", "no service listens on port %d", r.ListenPort)
	}
	lb.services = slices.Delete(lb.services, i, i+1)
	return s.lbAction(lb, "delete_service", s.latency.LoadBalancerChange, nil)
}

func (s *Server) lbAddTarget(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionAddTargetRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	t, err := s.buildTarget(lb, r)
	if err != nil {
		return 0, nil, err
	}
	lb.targets = append(lb.targets, t)
	var extra []resKey
	if t.serverID != 0 {
		extra = append(extra, key("server", t.serverID))
	}
	return s.lbAction(lb, "add_target", s.latency.LoadBalancerChange, nil, extra...)
}

func (s *Server) lbRemoveTarget(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionRemoveTargetRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(lb.targets, func(t *lbTarget) bool {
		switch {
		case r.Type == "server" && r.Server != nil:
			return t.typ == "server" && t.serverID == r.Server.ID
		case r.Type == "label_selector" && r.LabelSelector != nil:
			return t.typ == "label_selector" && t.selector == r.LabelSelector.Selector
		case r.Type == "ip" && r.IP != nil:
			return t.typ == "ip" && t.ip == r.IP.IP
		}
		return false
	})
	if i < 0 {
		return 0, nil, errInvalidField("type", "target not found on load balancer %d", lb.ID)
	}
	lb.targets = slices.Delete(lb.targets, i, i+1)
	return s.lbAction(lb, "remove_target", s.latency.LoadBalancerChange, nil)
}

func (s *Server) lbAttachToNetwork(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionAttachToNetworkRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	n, ok := s.st.networks[r.Network]
	if !ok {
		return 0, nil, errInvalidField("network", "network %d not found", r.Network)
	}
	if len(lb.privateNets) > 0 {
		return 0, nil, errUnprocessable("load_balancer_already_attached", "load balancer %d is already attached to a network", lb.ID)
	}
	ip, _, err := s.allocPrivateIP(n, lb.loc.s.NetworkZone, deref(r.IP), deref(r.IPRange))
	if err != nil {
		return 0, nil, err
	}
	lb.privateNets = append(lb.privateNets, &lbNet{network: n, ip: ip})
	return s.lbAction(lb, "attach_to_network", s.latency.NetworkAttach, nil, key("network", n.ID))
}

func (s *Server) lbDetachFromNetwork(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionDetachFromNetworkRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	n, ok := s.st.networks[r.Network]
	var pn *lbNet
	if ok {
		pn = lbAttachedTo(lb, n)
	}
	if pn == nil {
		return 0, nil, errUnprocessable("load_balancer_not_attached_to_network", "load balancer %d is not attached to network %d", lb.ID, r.Network)
	}
	lb.privateNets = slices.DeleteFunc(lb.privateNets, func(p *lbNet) bool { return p == pn })
	s.releasePrivateIP(n, pn.ip, s.clock.Now())
	return s.lbAction(lb, "detach_from_network", s.latency.NetworkAttach, nil, key("network", n.ID))
}

func (s *Server) lbEnablePublic(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	lb.publicEnabled = true
	return s.lbAction(lb, "enable_public_interface", s.latency.LoadBalancerChange, nil)
}

func (s *Server) lbDisablePublic(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	if slices.ContainsFunc(lb.targets, func(t *lbTarget) bool { return !t.usePrivateIP }) {
		return 0, nil, errUnprocessable("targets_without_use_private_ip", "load balancer %d has targets that use public IPs", lb.ID)
	}
	lb.publicEnabled = false
	return s.lbAction(lb, "disable_public_interface", s.latency.LoadBalancerChange, nil)
}

func (s *Server) lbChangeAlgorithm(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionChangeAlgorithmRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	if err := validAlgorithm(r.Type); err != nil {
		return 0, nil, err
	}
	lb.algorithm = r.Type
	return s.lbAction(lb, "change_algorithm", s.latency.Quick, nil)
}

func (s *Server) lbChangeType(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionChangeTypeRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	t := s.st.lbTypeByIDOrName(r.LoadBalancerType)
	if t == nil {
		return 0, nil, errInvalidField("load_balancer_type", "load balancer type %v not found", idOrName(r.LoadBalancerType))
	}
	if len(lb.targets) > t.s.MaxTargets || len(lb.services) > t.s.MaxServices {
		return 0, nil, errUnprocessable("invalid_load_balancer_type", "load balancer type %s is too small for load balancer %d", t.Name, lb.ID)
	}
	return s.lbAction(lb, "change_load_balancer_type", s.latency.LoadBalancerChange, func(time.Time) { lb.ltype = t })
}

func (s *Server) lbChangeDNSPtr(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionChangeDNSPtrRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	switch r.IP {
	case lb.ipv4:
		return s.lbAction(lb, "change_dns_ptr", s.latency.Quick, func(time.Time) {
			lb.ipv4DNS = defaultDNSPtr(lb.ipv4)
			if r.DNSPtr != nil {
				lb.ipv4DNS = *r.DNSPtr
			}
		})
	case lb.ipv6.String():
		return s.lbAction(lb, "change_dns_ptr", s.latency.Quick, func(time.Time) { lb.ipv6DNS = deref(r.DNSPtr) })
	}
	return 0, nil, errInvalidField("ip", "IP %s does not belong to load balancer %d", r.IP, lb.ID)
}

func (s *Server) lbChangeProtection(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	var r schema.LoadBalancerActionChangeProtectionRequest
	if err := c.decode(&r); err != nil {
		return 0, nil, err
	}
	if r.Delete != nil {
		lb.protection = *r.Delete
	}
	return s.lbAction(lb, "change_protection", s.latency.Quick, nil)
}
