package hcloudsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

func (s *Server) lbByID(c *call) (*loadBalancer, error) {
	id, err := c.pathID("id", "load_balancer")
	if err != nil {
		return nil, err
	}
	lb, ok := s.st.loadBalancers[id]
	if !ok {
		return nil, errNotFound("load_balancer", id)
	}
	return lb, nil
}

func (s *Server) mutableLB(c *call) (*loadBalancer, error) {
	lb, err := s.lbByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("load_balancer", lb.ID) {
		return nil, errLocked("load_balancer", lb.ID)
	}
	return lb, nil
}

func (s *Server) listLoadBalancers(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, sortedValues(s.st.loadBalancers), nil)
	return http.StatusOK, listBody("load_balancers", renderAll(page, s.renderLoadBalancer), meta), nil
}

func (s *Server) getLoadBalancer(_ context.Context, c *call) (int, any, error) {
	lb, err := s.lbByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.LoadBalancerGetResponse{LoadBalancer: s.renderLoadBalancer(lb)}, nil
}

func (s *Server) createLoadBalancer(_ context.Context, c *call) (int, any, error) {
	var req schema.LoadBalancerCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	if nameTaken(s.st.loadBalancers, req.Name, 0) {
		return 0, nil, errUniqueness("name", "load balancer name %q is already used", req.Name)
	}
	t := s.st.lbTypeByIDOrName(req.LoadBalancerType)
	if t == nil {
		return 0, nil, errInvalidField("load_balancer_type", "load balancer type %v not found", idOrName(req.LoadBalancerType))
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	lb := &loadBalancer{
		resource:      resource{Name: req.Name, Created: s.clock.Now(), Labels: labels},
		ltype:         t,
		algorithm:     "round_robin",
		publicEnabled: req.PublicInterface == nil || *req.PublicInterface,
	}
	switch {
	case req.Location != nil:
		if lb.loc, err = s.st.resolveLocation("location", *req.Location); err != nil {
			return 0, nil, err
		}
	case req.NetworkZone != nil:
		for _, l := range s.st.locations {
			if l.s.NetworkZone == *req.NetworkZone {
				lb.loc = l
				break
			}
		}
		if lb.loc == nil {
			return 0, nil, errInvalidField("network_zone", "network zone %q not found", *req.NetworkZone)
		}
	default:
		return 0, nil, errInvalidField("location", "location or network_zone is required")
	}
	if req.Algorithm != nil {
		if err := validAlgorithm(req.Algorithm.Type); err != nil {
			return 0, nil, err
		}
		lb.algorithm = req.Algorithm.Type
	}
	if req.PublicNet != nil && (req.PublicNet.IPv4 != 0 || req.PublicNet.IPv6 != 0) {
		return 0, nil, errInvalidField("public_net", "primary IPs are not simulated")
	}
	if req.Network != nil {
		n, ok := s.st.networks[*req.Network]
		if !ok {
			return 0, nil, errInvalidField("network", "network %d not found", *req.Network)
		}
		ip, _, err := s.allocPrivateIP(n, lb.loc.s.NetworkZone, "", "")
		if err != nil {
			return 0, nil, err
		}
		lb.privateNets = append(lb.privateNets, &lbNet{network: n, ip: ip})
	}
	for _, in := range req.Services {
		var sr serviceRequest
		if err := convert(in, &sr); err != nil {
			return 0, nil, err
		}
		svc, err := s.buildService(lb, sr)
		if err != nil {
			return 0, nil, err
		}
		lb.services = append(lb.services, &lbService{s: svc})
	}
	for _, in := range req.Targets {
		var tr schema.LoadBalancerActionAddTargetRequest
		if err := convert(in, &tr); err != nil {
			return 0, nil, err
		}
		tgt, err := s.buildTarget(lb, tr)
		if err != nil {
			return 0, nil, err
		}
		lb.targets = append(lb.targets, tgt)
	}
	lb.ID = s.st.nextID("load_balancer")
	lb.ipv4 = s.st.allocPublicIPv4()
	lb.ipv4DNS = defaultDNSPtr(lb.ipv4)
	lb.ipv6 = s.st.allocPublicIPv6().Addr().Next()
	s.st.loadBalancers[lb.ID] = lb
	a := s.startAction(actionSpec{
		command: "create_load_balancer", duration: s.latency.LoadBalancerCreate,
		resources: []resKey{key("load_balancer", lb.ID)},
		locks:     []resKey{key("load_balancer", lb.ID)},
	})
	return http.StatusCreated, schema.LoadBalancerCreateResponse{LoadBalancer: s.renderLoadBalancer(lb), Action: s.renderAction(a)}, nil
}

func validAlgorithm(t string) error {
	if t != "round_robin" && t != "least_connections" {
		return errInvalidField("algorithm.type", "must be round_robin or least_connections")
	}
	return nil
}

// convert maps between the structurally identical request types hcloud-go
// declares per endpoint (create vs. action) through their JSON form.
func convert(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return errf(http.StatusBadRequest, "json_error", "re-encode request: %v", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errf(http.StatusBadRequest, "json_error", "decode request: %v", err)
	}
	return nil
}

func (s *Server) updateLoadBalancer(_ context.Context, c *call) (int, any, error) {
	lb, err := s.lbByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.LoadBalancerUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != nil && *req.Name != lb.Name {
		if *req.Name == "" {
			return 0, nil, errInvalidField("name", "must not be empty")
		}
		if nameTaken(s.st.loadBalancers, *req.Name, lb.ID) {
			return 0, nil, errUniqueness("name", "load balancer name %q is already used", *req.Name)
		}
		lb.Name = *req.Name
	}
	if req.Labels != nil {
		if lb.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.LoadBalancerUpdateResponse{LoadBalancer: s.renderLoadBalancer(lb)}, nil
}

// deleteLoadBalancer follows the API change of 2026-10-05 (hcloud-go
// v2.52.0): the delete is tracked by a delete_load_balancer action and the
// response is 201 with that action instead of 204.
func (s *Server) deleteLoadBalancer(_ context.Context, c *call) (int, any, error) {
	lb, err := s.mutableLB(c)
	if err != nil {
		return 0, nil, err
	}
	if lb.protection {
		return 0, nil, errProtected("load_balancer", lb.ID)
	}
	a := s.startAction(actionSpec{
		command: "delete_load_balancer", duration: s.latency.LoadBalancerChange,
		resources: []resKey{key("load_balancer", lb.ID)},
		locks:     []resKey{key("load_balancer", lb.ID)},
		onSuccess: func(at time.Time) {
			for _, pn := range lb.privateNets {
				s.releasePrivateIP(pn.network, pn.ip, at)
			}
			delete(s.st.loadBalancers, lb.ID)
		},
	})
	return http.StatusCreated, schema.ActionGetResponse{Action: s.renderAction(a)}, nil
}

// lbTargetsServer reports whether lb routes to sv (explicitly or by selector).
func (s *Server) lbTargetsServer(lb *loadBalancer, sv *server) bool {
	for _, t := range lb.targets {
		if (t.typ == "server" && t.serverID == sv.ID) || (t.typ == "label_selector" && t.sel.Matches(sv.Labels)) {
			return true
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *Server) renderLoadBalancer(lb *loadBalancer) schema.LoadBalancer {
	zero := uint64(0)
	out := schema.LoadBalancer{
		ID: lb.ID, Name: lb.Name, Created: lb.Created, Labels: cloneLabels(lb.Labels),
		Location: lb.loc.s, LoadBalancerType: lb.ltype.s,
		Protection: schema.LoadBalancerProtection{Delete: lb.protection},
		Algorithm:  schema.LoadBalancerAlgorithm{Type: lb.algorithm},
		PublicNet: schema.LoadBalancerPublicNet{
			Enabled: lb.publicEnabled,
			IPv4:    schema.LoadBalancerPublicNetIPv4{IP: lb.ipv4, DNSPtr: lb.ipv4DNS},
			IPv6:    schema.LoadBalancerPublicNetIPv6{IP: lb.ipv6.String(), DNSPtr: lb.ipv6DNS},
		},
		PrivateNet:      []schema.LoadBalancerPrivateNet{},
		Services:        []schema.LoadBalancerService{},
		Targets:         []schema.LoadBalancerTarget{},
		IncludedTraffic: 20 << 40,
		OutgoingTraffic: &zero,
		IngoingTraffic:  &zero,
	}
	for _, pn := range lb.privateNets {
		out.PrivateNet = append(out.PrivateNet, schema.LoadBalancerPrivateNet{Network: pn.network.ID, IP: pn.ip.String()})
	}
	for _, svc := range lb.services {
		out.Services = append(out.Services, svc.s)
	}
	for _, t := range lb.targets {
		out.Targets = append(out.Targets, s.renderTarget(lb, t))
	}
	return out
}

func (s *Server) renderTarget(lb *loadBalancer, t *lbTarget) schema.LoadBalancerTarget {
	r := schema.LoadBalancerTarget{Type: t.typ, UsePrivateIP: t.usePrivateIP, HealthStatus: []schema.LoadBalancerTargetHealthStatus{}}
	switch t.typ {
	case "server":
		r.Server = &schema.LoadBalancerTargetServer{ID: t.serverID}
		r.HealthStatus = s.healthStatus(lb, t, s.st.servers[t.serverID])
	case "ip":
		r.IP = &schema.LoadBalancerTargetIP{IP: t.ip}
		r.HealthStatus = s.healthStatus(lb, t, nil)
	case "label_selector":
		r.LabelSelector = &schema.LoadBalancerTargetLabelSelector{Selector: t.selector}
		r.Targets = []schema.LoadBalancerTarget{}
		for _, sv := range sortedValues(s.st.servers) {
			if t.sel.Matches(sv.Labels) {
				r.Targets = append(r.Targets, schema.LoadBalancerTarget{
					Type: "server", Server: &schema.LoadBalancerTargetServer{ID: sv.ID}, UsePrivateIP: t.usePrivateIP,
					HealthStatus: s.healthStatus(lb, t, sv),
				})
			}
		}
	}
	return r
}

// lbAttachedTo returns lb's attachment to network n, if any.
func lbAttachedTo(lb *loadBalancer, n *network) *lbNet {
	i := slices.IndexFunc(lb.privateNets, func(p *lbNet) bool { return p.network == n })
	if i < 0 {
		return nil
	}
	return lb.privateNets[i]
}

// sharesNetwork reports whether lb and sv are attached to a common network.
func sharesNetwork(lb *loadBalancer, sv *server) bool {
	for _, pn := range sv.privateNets {
		if !pn.pending && lbAttachedTo(lb, pn.network) != nil {
			return true
		}
	}
	return false
}

func isCloudIP(st *state, ip netip.Addr) bool {
	for _, p := range st.primaryIPs {
		if p.owns(ip) {
			return true
		}
	}
	for _, f := range st.floatingIPs {
		if f.ip == ip.String() || (f.typ == "ipv6" && netip.MustParsePrefix(f.ip).Contains(ip)) {
			return true
		}
	}
	for _, lb := range st.loadBalancers {
		if lb.ipv4 == ip.String() || lb.ipv6 == ip {
			return true
		}
	}
	return false
}
