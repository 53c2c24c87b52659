package infra

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindLoadBalancer is the kube-API or an ingress load balancer.
const KindLoadBalancer Kind = "load_balancer"

// LoadBalancerSpec is the kube-API or an ingress load balancer.
type LoadBalancerSpec struct {
	Role             string       `json:"role"` // kube-api or ingress
	Pool             string       `json:"pool"` // ingress pool name; "" otherwise
	Type             string       `json:"type"`
	Location         string       `json:"location"`
	Algorithm        string       `json:"algorithm"`
	Network          string       `json:"network"`
	Subnet           netip.Prefix `json:"subnet"` // the load-balancer subnet PrivateIP lies in
	PrivateIP        netip.Addr   `json:"privateIP"`
	PublicInterface  bool         `json:"publicInterface"`
	DeleteProtection bool         `json:"deleteProtection"`
	// ServicesManagedByCCM marks the single ingress LB, whose services and targets
	// the Hetzner CCM owns (the module ignores them); they are never diffed.
	ServicesManagedByCCM bool        `json:"servicesManagedByCCM"`
	Services             []LBService `json:"services,omitempty"`
	Targets              []LBTarget  `json:"targets,omitempty"`
	RDNSIPv4             string      `json:"rdnsIPv4"`
	RDNSIPv6             string      `json:"rdnsIPv6"`

	// Observed only.
	PublicIPv4Addr netip.Addr            `json:"publicIPv4Addr"`
	PublicIPv6Addr netip.Addr            `json:"publicIPv6Addr"`
	PTR            map[netip.Addr]string `json:"ptr,omitempty"`
}

// LBService is one listener of a load balancer.
type LBService struct {
	Protocol        string        `json:"protocol"` // tcp
	ListenPort      int           `json:"listenPort"`
	DestinationPort int           `json:"destinationPort"`
	ProxyProtocol   bool          `json:"proxyProtocol"`
	HealthCheck     LBHealthCheck `json:"healthCheck"`
}

// LBHealthCheck is a service's health check.
type LBHealthCheck struct {
	Protocol string             `json:"protocol"` // tcp or http
	Port     int                `json:"port"`
	Interval int                `json:"interval"` // seconds
	Timeout  int                `json:"timeout"`
	Retries  int                `json:"retries"`
	HTTP     *LBHealthCheckHTTP `json:"http,omitempty"`
}

// LBHealthCheckHTTP is the HTTP part of a health check.
type LBHealthCheckHTTP struct {
	Path        string   `json:"path"`
	Response    string   `json:"response"`
	TLS         bool     `json:"tls"`
	StatusCodes []string `json:"statusCodes,omitempty"`
}

// LBTarget is a label-selector target.
type LBTarget struct {
	LabelSelector string `json:"labelSelector"`
	UsePrivateIP  bool   `json:"usePrivateIP"`
}

// loadBalancerKind: location cannot change; services and targets are synced one
// by one (lbservices.go), except on the ingress load balancer the CCM owns.
type loadBalancerKind struct{}

func (loadBalancerKind) about() kindInfo {
	return kindInfo{kind: KindLoadBalancer, title: "load balancer", order: 6}
}

func (loadBalancerKind) observe(s *State, c *Cloud) {
	observeAttached(s, c.LoadBalancers, loadBalancerResource)
}

func loadBalancerResource(lb *hcloud.LoadBalancer, subnets []netip.Prefix) *Resource {
	spec := &LoadBalancerSpec{
		Role: lb.Labels[layout.LabelRole], Pool: lb.Labels[layout.LabelPool], Algorithm: string(lb.Algorithm.Type),
		PublicInterface: lb.PublicNet.Enabled, DeleteProtection: lb.Protection.Delete, PTR: map[netip.Addr]string{},
	}
	if lb.LoadBalancerType != nil {
		spec.Type = lb.LoadBalancerType.Name
	}
	if lb.Location != nil {
		spec.Location = lb.Location.Name
	}
	if a := addrOf(lb.PublicNet.IPv4.IP); a.IsValid() {
		spec.PublicIPv4Addr = a
		spec.PTR[a] = lb.PublicNet.IPv4.DNSPtr
	}
	if a := addrOf(lb.PublicNet.IPv6.IP); a.IsValid() {
		spec.PublicIPv6Addr = a
		spec.PTR[a] = lb.PublicNet.IPv6.DNSPtr
	}
	for _, pn := range lb.PrivateNet {
		spec.PrivateIP = addrOf(pn.IP)
		if pn.Network != nil {
			spec.Network = pn.Network.Name
		}
		if p := subnetOf(subnets, spec.PrivateIP); p.IsValid() {
			spec.Subnet = p
		}
	}
	for _, svc := range lb.Services {
		spec.Services = append(spec.Services, serviceOf(svc))
	}
	for _, t := range lb.Targets {
		if t.Type == hcloud.LoadBalancerTargetTypeLabelSelector && t.LabelSelector != nil {
			spec.Targets = append(spec.Targets, LBTarget{LabelSelector: t.LabelSelector.Selector, UsePrivateIP: t.UsePrivateIP})
		}
	}
	return &Resource{Kind: KindLoadBalancer, Name: lb.Name, ID: lb.ID, Labels: lb.Labels, Protected: lb.Protection.Delete, LoadBalancer: spec}
}

func (loadBalancerKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.LoadBalancer.GetByName, name, &c.LoadBalancers)
}

func (loadBalancerKind) compare(c *comparison, d, o *Resource) {
	dl, ol := d.LoadBalancer, o.LoadBalancer
	if dl.Location != ol.Location {
		c.problem("location is %s, the cluster file says %s; load balancers cannot move", ol.Location, dl.Location)
	}
	if dl.Type != ol.Type {
		c.update("type", ol.Type, dl.Type, acting("change type of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
			return actionOf(t.api().LoadBalancer.ChangeType(ctx, lbOf(t), hcloud.LoadBalancerChangeTypeOpts{LoadBalancerType: &hcloud.LoadBalancerType{Name: dl.Type}}))
		}))
	}
	if dl.Algorithm != ol.Algorithm {
		c.update("algorithm", ol.Algorithm, dl.Algorithm, acting("change algorithm of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
			return actionOf(t.api().LoadBalancer.ChangeAlgorithm(ctx, lbOf(t), hcloud.LoadBalancerChangeAlgorithmOpts{Type: hcloud.LoadBalancerAlgorithmType(dl.Algorithm)}))
		}))
	}
	if dl.PublicInterface != ol.PublicInterface {
		c.update("publicInterface", ol.PublicInterface, dl.PublicInterface, acting("change public interface of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
			if dl.PublicInterface {
				return actionOf(t.api().LoadBalancer.EnablePublicInterface(ctx, lbOf(t)))
			}
			return actionOf(t.api().LoadBalancer.DisablePublicInterface(ctx, lbOf(t)))
		}))
	}
	c.protection(dl.DeleteProtection)
	if dl.PrivateIP != ol.PrivateIP {
		c.update("network", describeAddr(ol.PrivateIP), dl.PrivateIP, attachLoadBalancer(dl, ol))
	}
	if !dl.ServicesManagedByCCM {
		if !slices.EqualFunc(sortedServices(dl.Services), sortedServices(ol.Services), servicesEqual) {
			c.update("services", len(ol.Services), len(dl.Services), func(ctx context.Context, t *target) error {
				return syncServices(ctx, t, dl.Services, ol.Services)
			})
		}
		if !slices.Equal(sortedTargets(dl.Targets), sortedTargets(ol.Targets)) {
			c.update("targets", len(ol.Targets), len(dl.Targets), func(ctx context.Context, t *target) error {
				return syncTargets(ctx, t, dl.Targets, ol.Targets)
			})
		}
	}
	pool := dl.Pool
	if pool == "" && dl.Role == layout.RoleIngress {
		pool = "ingress"
	}
	c.ptr(dl.RDNSIPv4, ol.PublicIPv4Addr, ol.PTR, pool, dl.Role)
	c.ptr(dl.RDNSIPv6, ol.PublicIPv6Addr, ol.PTR, pool, dl.Role)
}

func (loadBalancerKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.LoadBalancer.Update(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerUpdateOpts{Labels: labels}))
}

func (loadBalancerKind) protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error) {
	return actionOf(api.LoadBalancer.ChangeProtection(ctx, &hcloud.LoadBalancer{ID: id}, hcloud.LoadBalancerChangeProtectionOpts{Delete: hcloud.Ptr(on)}))
}

func (loadBalancerKind) setPTR(ctx context.Context, api *hcloud.Client, id int64, ip, ptr string) (*hcloud.Action, error) {
	return actionOf(api.LoadBalancer.ChangeDNSPtr(ctx, &hcloud.LoadBalancer{ID: id}, ip, hcloud.Ptr(ptr)))
}

// lbOf is the load balancer an update is about, as the API names it.
func lbOf(t *target) *hcloud.LoadBalancer { return &hcloud.LoadBalancer{ID: t.id} }

// attachLoadBalancer attaches a load balancer that is in no network at its fixed
// address; one attached elsewhere is not moved.
func attachLoadBalancer(dl, ol *LoadBalancerSpec) applyFunc {
	attach := acting("attach to network", func(ctx context.Context, t *target) (*hcloud.Action, error) {
		return actionOf(t.api().LoadBalancer.AttachToNetwork(ctx, lbOf(t), hcloud.LoadBalancerAttachToNetworkOpts{
			Network: &hcloud.Network{ID: t.r.id(Ref{KindNetwork, dl.Network})}, IP: net.IP(dl.PrivateIP.AsSlice()),
		}))
	})
	return func(ctx context.Context, t *target) error {
		if ol.PrivateIP.IsValid() {
			return fmt.Errorf("is attached to the network at %s, the layout needs %s; detach it or delete the load balancer to have it re-created", ol.PrivateIP, dl.PrivateIP)
		}
		return attach(ctx, t)
	}
}

func describeAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "not attached"
	}
	return a.String()
}

func sortedServices(s []LBService) []LBService {
	out := slices.Clone(s)
	sort.Slice(out, func(i, j int) bool { return out[i].ListenPort < out[j].ListenPort })
	return out
}

func sortedTargets(t []LBTarget) []LBTarget {
	out := slices.Clone(t)
	sort.Slice(out, func(i, j int) bool { return out[i].LabelSelector < out[j].LabelSelector })
	return out
}

// create makes the load balancer with its services; targets and the network come
// after, by converging.
func (loadBalancerKind) create(ctx context.Context, r *run, d *Resource) error {
	l := d.LoadBalancer
	opts := hcloud.LoadBalancerCreateOpts{
		Name: d.Name, LoadBalancerType: &hcloud.LoadBalancerType{Name: l.Type},
		Algorithm: &hcloud.LoadBalancerAlgorithm{Type: hcloud.LoadBalancerAlgorithmType(l.Algorithm)},
		Location:  &hcloud.Location{Name: l.Location}, Labels: d.Labels, PublicInterface: hcloud.Ptr(l.PublicInterface),
	}
	if !l.ServicesManagedByCCM {
		for _, svc := range l.Services {
			opts.Services = append(opts.Services, createService(svc))
		}
		// Targets come after the network attachment: Hetzner refuses private-IP
		// targets on a load balancer that is not in a network yet, and the
		// attachment needs its fixed address, which create cannot take.
	}
	return createOne(ctx, r, d, r.api().LoadBalancer.Create, opts, func(res hcloud.LoadBalancerCreateResult) error {
		return r.created(ctx, d, res.LoadBalancer.ID, Cloud{LoadBalancers: []*hcloud.LoadBalancer{res.LoadBalancer}}, res.Action)
	})
}

func (loadBalancerKind) placement(d *Resource) string {
	return d.LoadBalancer.Type + " in " + d.LoadBalancer.Location
}

func createService(svc LBService) hcloud.LoadBalancerCreateOptsService {
	hc := svc.HealthCheck
	out := hcloud.LoadBalancerCreateOptsService{
		Protocol: hcloud.LoadBalancerServiceProtocol(svc.Protocol), ListenPort: hcloud.Ptr(svc.ListenPort),
		DestinationPort: hcloud.Ptr(svc.DestinationPort), Proxyprotocol: hcloud.Ptr(svc.ProxyProtocol),
		HealthCheck: &hcloud.LoadBalancerCreateOptsServiceHealthCheck{
			Protocol: hcloud.LoadBalancerServiceProtocol(hc.Protocol), Port: hcloud.Ptr(hc.Port),
			Interval: hcloud.Ptr(time.Duration(hc.Interval) * time.Second), Timeout: hcloud.Ptr(time.Duration(hc.Timeout) * time.Second),
			Retries: hcloud.Ptr(hc.Retries),
		},
	}
	if h := hc.HTTP; h != nil {
		out.HealthCheck.HTTP = &hcloud.LoadBalancerCreateOptsServiceHealthCheckHTTP{Path: hcloud.Ptr(h.Path), Response: hcloud.Ptr(h.Response), TLS: hcloud.Ptr(h.TLS), StatusCodes: h.StatusCodes}
	}
	return out
}

func (loadBalancerKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().LoadBalancer.Delete(ctx, &hcloud.LoadBalancer{ID: o.ID}))
}

// deletable: the kube-API and ingress load balancers the layout makes.
func (loadBalancerKind) deletable(_ *State, o *Resource) bool {
	role := o.Labels[layout.LabelRole]
	return role == layout.RoleKubeAPI || role == layout.RoleIngress
}

func (loadBalancerKind) references(r *Resource) []Ref {
	if r.LoadBalancer.Subnet.IsValid() {
		return []Ref{{KindSubnet, r.LoadBalancer.Subnet.String()}}
	}
	return nil
}

func (loadBalancerKind) createReason(d *Resource) string {
	return d.LoadBalancer.Role + " load balancer"
}

func (loadBalancerKind) attributes(r *Resource) map[string]any {
	l := r.LoadBalancer
	a := map[string]any{"type": l.Type, "location": l.Location, "algorithm": l.Algorithm, "publicInterface": l.PublicInterface, "services": l.Services, "targets": l.Targets}
	if l.PrivateIP.IsValid() {
		a["ip"] = l.PrivateIP.String()
	}
	return a
}
