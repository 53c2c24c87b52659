package hcloudsim

import (
	"context"
	"net/http"
	"slices"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// catalogGet returns the catalogue entry of the path ID.
func catalogGet[T listable](c *call, items []T, kind string) (T, error) {
	var zero T
	id, err := c.pathID("id", kind)
	if err != nil {
		return zero, err
	}
	for _, it := range items {
		if it.base().ID == id {
			return it, nil
		}
	}
	return zero, errNotFound(kind, id)
}

func (s *Server) listLocations(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, slices.Clone(s.st.locations), nil)
	return http.StatusOK, listBody("locations", renderAll(page, func(l *location) schema.Location { return l.s }), meta), nil
}

func (s *Server) getLocation(_ context.Context, c *call) (int, any, error) {
	l, err := catalogGet(c, s.st.locations, "location")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.LocationGetResponse{Location: l.s}, nil
}

// renderDatacenter lists per-DC server type availability, including faults.
func (s *Server) renderDatacenter(dc *datacenter) schema.Datacenter {
	out := dc.s
	st := &schema.DatacenterServerTypes{Supported: []int64{}, Available: []int64{}, AvailableForMigration: []int64{}}
	for _, t := range s.st.serverTypes {
		l, ok := t.location(dc.s.Location.Name)
		if !ok {
			continue
		}
		st.Supported = append(st.Supported, t.ID)
		if l.Available && !s.soldOut(t.Name, l.Name) {
			st.Available = append(st.Available, t.ID)
			st.AvailableForMigration = append(st.AvailableForMigration, t.ID)
		}
	}
	out.ServerTypes = st
	return out
}

func (s *Server) listDatacenters(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, slices.Clone(s.st.datacenters), nil)
	return http.StatusOK, listBody("datacenters", renderAll(page, s.renderDatacenter), meta), nil
}

func (s *Server) getDatacenter(_ context.Context, c *call) (int, any, error) {
	dc, err := catalogGet(c, s.st.datacenters, "datacenter")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.DatacenterGetResponse{Datacenter: s.renderDatacenter(dc)}, nil
}

// renderServerType applies sold-out faults to the per-location stock flags.
func (s *Server) renderServerType(t *serverType) schema.ServerType {
	out := t.s
	out.Prices = slices.Clone(t.s.Prices)
	out.Locations = slices.Clone(t.s.Locations)
	for i := range out.Locations {
		if s.soldOut(t.Name, out.Locations[i].Name) {
			out.Locations[i].Available = false
		}
	}
	return out
}

func (s *Server) listServerTypes(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, slices.Clone(s.st.serverTypes), nil)
	return http.StatusOK, listBody("server_types", renderAll(page, s.renderServerType), meta), nil
}

func (s *Server) getServerType(_ context.Context, c *call) (int, any, error) {
	t, err := catalogGet(c, s.st.serverTypes, "server_type")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.ServerTypeGetResponse{ServerType: s.renderServerType(t)}, nil
}

func (s *Server) listLBTypes(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, slices.Clone(s.st.lbTypes), nil)
	return http.StatusOK, listBody("load_balancer_types", renderAll(page, func(t *lbType) schema.LoadBalancerType { return t.s }), meta), nil
}

func (s *Server) getLBType(_ context.Context, c *call) (int, any, error) {
	t, err := catalogGet(c, s.st.lbTypes, "load_balancer_type")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.LoadBalancerTypeGetResponse{LoadBalancerType: t.s}, nil
}

func (s *Server) getPricing(_ context.Context, _ *call) (int, any, error) {
	p := schema.Pricing{
		Currency: "EUR", VATRate: "19.00",
		Image:        schema.PricingImage{PricePerGBMonth: price(0.0119)},
		FloatingIP:   schema.PricingFloatingIP{PriceMonthly: price(3.57)},
		Traffic:      schema.PricingTraffic{PricePerTB: price(1)},
		ServerBackup: schema.PricingServerBackup{Percentage: "20.00"},
		Volume:       schema.PricingVolume{PricePerGBPerMonth: price(0.044)},
	}
	for _, typ := range []string{"ipv4", "ipv6"} {
		fp := schema.PricingFloatingIPType{Type: typ}
		pp := schema.PricingPrimaryIP{Type: typ}
		for _, l := range s.st.locations {
			monthly := 3.57
			if typ == "ipv6" {
				monthly = 2.50
			}
			fp.Prices = append(fp.Prices, schema.PricingFloatingIPTypePrice{Location: l.Name, PriceMonthly: price(monthly)})
			pp.Prices = append(pp.Prices, schema.PricingPrimaryIPTypePrice{Location: l.Name, PriceHourly: price(monthly / 730), PriceMonthly: price(monthly / 6)})
		}
		p.FloatingIPs = append(p.FloatingIPs, fp)
		p.PrimaryIPs = append(p.PrimaryIPs, pp)
	}
	for _, t := range s.st.serverTypes {
		p.ServerTypes = append(p.ServerTypes, schema.PricingServerType{ID: t.ID, Name: t.Name, Prices: t.s.Prices})
	}
	for _, t := range s.st.lbTypes {
		p.LoadBalancerTypes = append(p.LoadBalancerTypes, schema.PricingLoadBalancerType{ID: t.ID, Name: t.Name, Prices: t.s.Prices})
	}
	return http.StatusOK, schema.PricingGetResponse{Pricing: p}, nil
}
