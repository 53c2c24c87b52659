package infra

import (
	"context"
	"fmt"
	"slices"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// A load balancer's services and targets are compared as sets and synced one by
// one: what is missing is added, what is left over removed.

// serviceOf converts one of Hetzner's services into the model.
func serviceOf(svc hcloud.LoadBalancerService) LBService {
	hc := svc.HealthCheck
	out := LBService{
		Protocol: string(svc.Protocol), ListenPort: svc.ListenPort, DestinationPort: svc.DestinationPort, ProxyProtocol: svc.Proxyprotocol,
		HealthCheck: LBHealthCheck{Protocol: string(hc.Protocol), Port: hc.Port, Interval: int(hc.Interval.Seconds()), Timeout: int(hc.Timeout.Seconds()), Retries: hc.Retries},
	}
	if hc.HTTP != nil {
		out.HealthCheck.HTTP = &LBHealthCheckHTTP{Path: hc.HTTP.Path, Response: hc.HTTP.Response, TLS: hc.HTTP.TLS, StatusCodes: hc.HTTP.StatusCodes}
	}
	return out
}

func servicesEqual(a, b LBService) bool {
	if a.Protocol != b.Protocol || a.ListenPort != b.ListenPort || a.DestinationPort != b.DestinationPort || a.ProxyProtocol != b.ProxyProtocol {
		return false
	}
	ha, hb := a.HealthCheck, b.HealthCheck
	if ha.Protocol != hb.Protocol || ha.Port != hb.Port || ha.Interval != hb.Interval || ha.Timeout != hb.Timeout || ha.Retries != hb.Retries {
		return false
	}
	if (ha.HTTP == nil) != (hb.HTTP == nil) {
		return false
	}
	if ha.HTTP != nil {
		x, y := ha.HTTP, hb.HTTP
		return x.Path == y.Path && x.Response == y.Response && x.TLS == y.TLS && slices.Equal(x.StatusCodes, y.StatusCodes)
	}
	return true
}

func syncServices(ctx context.Context, t *target, want, have []LBService) error {
	api := t.api()
	lb := &hcloud.LoadBalancer{ID: t.id}
	haveByPort := map[int]LBService{}
	for _, s := range have {
		haveByPort[s.ListenPort] = s
	}
	wantPorts := map[int]bool{}
	for _, s := range want {
		wantPorts[s.ListenPort] = true
		h, exists := haveByPort[s.ListenPort]
		if exists && servicesEqual(h, s) {
			continue
		}
		if exists {
			// Replacing is simpler than translating every field into update options.
			if err := t.r.call(ctx, fmt.Sprintf("delete service %d", s.ListenPort), func(ctx context.Context) error {
				a, _, err := api.LoadBalancer.DeleteService(ctx, lb, s.ListenPort)
				if err == nil {
					err = t.r.wait(ctx, a)
				}
				return err
			}); err != nil {
				return err
			}
		}
		if err := t.later(ctx, fmt.Sprintf("add service %d", s.ListenPort), func(ctx context.Context) (*hcloud.Action, error) {
			a, _, err := api.LoadBalancer.AddService(ctx, lb, addServiceOpts(createService(s)))
			return a, err
		}); err != nil {
			return err
		}
	}
	for port := range haveByPort {
		if wantPorts[port] {
			continue
		}
		if err := t.later(ctx, fmt.Sprintf("delete service %d", port), func(ctx context.Context) (*hcloud.Action, error) {
			a, _, err := api.LoadBalancer.DeleteService(ctx, lb, port)
			return a, err
		}); err != nil {
			return err
		}
	}
	return nil
}

// addServiceOpts turns create options into add-service options: the same fields
// under other type names.
func addServiceOpts(cs hcloud.LoadBalancerCreateOptsService) hcloud.LoadBalancerAddServiceOpts {
	hc := cs.HealthCheck
	opts := hcloud.LoadBalancerAddServiceOpts{
		Protocol: cs.Protocol, ListenPort: cs.ListenPort, DestinationPort: cs.DestinationPort, Proxyprotocol: cs.Proxyprotocol,
		HealthCheck: &hcloud.LoadBalancerAddServiceOptsHealthCheck{
			Protocol: hc.Protocol, Port: hc.Port, Interval: hc.Interval, Timeout: hc.Timeout, Retries: hc.Retries,
		},
	}
	if h := hc.HTTP; h != nil {
		opts.HealthCheck.HTTP = &hcloud.LoadBalancerAddServiceOptsHealthCheckHTTP{Domain: h.Domain, Path: h.Path, Response: h.Response, StatusCodes: h.StatusCodes, TLS: h.TLS}
	}
	return opts
}

func syncTargets(ctx context.Context, t *target, want, have []LBTarget) error {
	api := t.api()
	lb := &hcloud.LoadBalancer{ID: t.id}
	for _, lt := range want {
		if slices.Contains(have, lt) {
			continue
		}
		if err := t.later(ctx, "add target "+lt.LabelSelector, func(ctx context.Context) (*hcloud.Action, error) {
			a, _, err := api.LoadBalancer.AddLabelSelectorTarget(ctx, lb, hcloud.LoadBalancerAddLabelSelectorTargetOpts{Selector: lt.LabelSelector, UsePrivateIP: hcloud.Ptr(lt.UsePrivateIP)})
			return a, err
		}); err != nil {
			return err
		}
	}
	for _, lt := range have {
		if slices.Contains(want, lt) {
			continue
		}
		if err := t.later(ctx, "remove target "+lt.LabelSelector, func(ctx context.Context) (*hcloud.Action, error) {
			a, _, err := api.LoadBalancer.RemoveLabelSelectorTarget(ctx, lb, lt.LabelSelector)
			return a, err
		}); err != nil {
			return err
		}
	}
	return nil
}
