package hcloudsim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// Catalogue objects are read-only seed data that mirror the real public
// catalogue closely enough for capacity preflights and cost estimates.

type location struct {
	resource
	s schema.Location
}

type datacenter struct {
	resource
	s schema.Datacenter
}

type serverType struct {
	resource
	s schema.ServerType
}

type lbType struct {
	resource
	s schema.LoadBalancerType
}

var (
	euCentral    = []string{"fsn1", "nbg1", "hel1"}
	allLocations = []string{"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
)

func seedCatalog(st *state) {
	for _, l := range []schema.Location{
		{ID: 1, Name: "fsn1", Description: "Falkenstein DC Park 1", Country: "DE", City: "Falkenstein", Latitude: 50.47612, Longitude: 12.370071, NetworkZone: "eu-central"},
		{ID: 2, Name: "nbg1", Description: "Nuremberg DC Park 1", Country: "DE", City: "Nuremberg", Latitude: 49.452102, Longitude: 11.076665, NetworkZone: "eu-central"},
		{ID: 3, Name: "hel1", Description: "Helsinki DC Park 1", Country: "FI", City: "Helsinki", Latitude: 60.169855, Longitude: 24.938379, NetworkZone: "eu-central"},
		{ID: 4, Name: "ash", Description: "Ashburn, VA", Country: "US", City: "Ashburn, VA", Latitude: 39.045821, Longitude: -77.487073, NetworkZone: "us-east"},
		{ID: 5, Name: "hil", Description: "Hillsboro, OR", Country: "US", City: "Hillsboro, OR", Latitude: 45.54222, Longitude: -122.95028, NetworkZone: "us-west"},
		{ID: 6, Name: "sin", Description: "Singapore", Country: "SG", City: "Singapore", Latitude: 1.283333, Longitude: 103.833333, NetworkZone: "ap-southeast"},
	} {
		st.locations = append(st.locations, &location{resource: resource{ID: l.ID, Name: l.Name}, s: l})
	}
	for _, dc := range []struct {
		id        int64
		name, loc string
	}{{4, "fsn1-dc14", "fsn1"}, {2, "nbg1-dc3", "nbg1"}, {3, "hel1-dc2", "hel1"}, {5, "ash-dc1", "ash"}, {6, "hil-dc1", "hil"}, {7, "sin-dc1", "sin"}} {
		l := st.locationByName(dc.loc).s
		st.datacenters = append(st.datacenters, &datacenter{
			resource: resource{ID: dc.id, Name: dc.name},
			s:        schema.Datacenter{ID: dc.id, Name: dc.name, Description: fmt.Sprintf("%s virtual DC", l.City), Location: l},
		})
	}
	deprecation := &schema.DeprecationInfo{
		Announced:        time.Date(2024, 6, 6, 0, 0, 0, 0, time.UTC),
		UnavailableAfter: time.Date(2024, 9, 6, 0, 0, 0, 0, time.UTC),
	}
	for _, t := range []struct {
		id                int64
		name, cat, cpu    string
		arch              string
		cores             int
		mem               float32
		disk              int
		monthly           float64
		locs              []string
		deprecated        bool
		includedTrafficTB int64
	}{
		{104, "cx22", "cost_optimized", "shared", "x86", 2, 4, 40, 3.79, euCentral, false, 20},
		{105, "cx32", "cost_optimized", "shared", "x86", 4, 8, 80, 6.80, euCentral, false, 20},
		{106, "cx42", "cost_optimized", "shared", "x86", 8, 16, 160, 16.40, euCentral, false, 20},
		{107, "cx52", "cost_optimized", "shared", "x86", 16, 32, 320, 32.40, euCentral, false, 20},
		{22, "cpx11", "regular_purpose", "shared", "x86", 2, 2, 40, 4.35, allLocations, false, 20},
		{23, "cpx21", "regular_purpose", "shared", "x86", 3, 4, 80, 7.55, allLocations, false, 20},
		{24, "cpx31", "regular_purpose", "shared", "x86", 4, 8, 160, 13.10, allLocations, false, 20},
		{25, "cpx41", "regular_purpose", "shared", "x86", 8, 16, 240, 24.70, allLocations, false, 20},
		{26, "cpx51", "regular_purpose", "shared", "x86", 16, 32, 360, 54.90, allLocations, false, 20},
		// The AMD generation Hetzner introduced in October 2025.
		{108, "cpx12", "regular_purpose", "shared", "x86", 1, 2, 40, 4.99, allLocations, false, 20},
		{109, "cpx22", "regular_purpose", "shared", "x86", 2, 4, 80, 7.99, allLocations, false, 20},
		{110, "cpx32", "regular_purpose", "shared", "x86", 4, 8, 160, 13.99, allLocations, false, 20},
		{111, "cpx42", "regular_purpose", "shared", "x86", 8, 16, 320, 25.49, allLocations, false, 20},
		{112, "cpx52", "regular_purpose", "shared", "x86", 12, 24, 480, 36.49, allLocations, false, 20},
		{113, "cpx62", "regular_purpose", "shared", "x86", 16, 32, 640, 49.99, allLocations, false, 20},
		{45, "cax11", "cost_optimized", "shared", "arm", 2, 4, 40, 3.79, euCentral, false, 20},
		{93, "cax21", "cost_optimized", "shared", "arm", 4, 8, 80, 6.49, euCentral, false, 20},
		{94, "cax31", "cost_optimized", "shared", "arm", 8, 16, 160, 12.49, euCentral, false, 20},
		{95, "cax41", "cost_optimized", "shared", "arm", 16, 32, 320, 24.49, euCentral, false, 20},
		{96, "ccx13", "general_purpose", "dedicated", "x86", 2, 8, 80, 12.49, allLocations, false, 20},
		{97, "ccx23", "general_purpose", "dedicated", "x86", 4, 16, 160, 24.49, allLocations, false, 20},
		{98, "ccx33", "general_purpose", "dedicated", "x86", 8, 32, 240, 48.49, allLocations, false, 20},
		{1, "cx11", "cost_optimized", "shared", "x86", 1, 2, 20, 3.29, euCentral, true, 20},
	} {
		s := schema.ServerType{
			ID: t.id, Name: t.name, Description: fmt.Sprintf("%s %dC/%gGB", t.name, t.cores, t.mem),
			Category: t.cat, Cores: t.cores, Memory: t.mem, Disk: t.disk, StorageType: "local",
			CPUType: t.cpu, Architecture: t.arch, IncludedTraffic: t.includedTrafficTB << 40,
			Deprecated: t.deprecated,
		}
		if t.deprecated {
			s.DeprecatableResource.Deprecation = deprecation
		}
		for _, ln := range t.locs {
			l := st.locationByName(ln)
			stl := schema.ServerTypeLocation{ID: l.ID, Name: ln, Recommended: !t.deprecated, Available: !t.deprecated}
			if t.deprecated {
				stl.DeprecatableResource.Deprecation = deprecation
			}
			s.Locations = append(s.Locations, stl)
			s.Prices = append(s.Prices, schema.PricingServerTypePrice{
				Location:          ln,
				PriceHourly:       price(t.monthly / 730 * 1.03),
				PriceMonthly:      price(t.monthly),
				IncludedTraffic:   uint64(t.includedTrafficTB) << 40,
				PricePerTBTraffic: price(1),
			})
		}
		st.serverTypes = append(st.serverTypes, &serverType{resource: resource{ID: t.id, Name: t.name}, s: s})
	}
	for _, t := range []struct {
		id                       int64
		name                     string
		conns, svcs, tgts, certs int
		monthly                  float64
	}{
		{1, "lb11", 10000, 5, 25, 10, 5.39},
		{2, "lb21", 20000, 15, 75, 25, 16.40},
		{3, "lb31", 40000, 30, 150, 50, 32.90},
	} {
		s := schema.LoadBalancerType{ID: t.id, Name: t.name, Description: "LB" + t.name[2:],
			MaxConnections: t.conns, MaxServices: t.svcs, MaxTargets: t.tgts, MaxAssignedCertificates: t.certs}
		for _, ln := range allLocations {
			s.Prices = append(s.Prices, schema.PricingLoadBalancerTypePrice{
				Location: ln, PriceHourly: price(t.monthly / 730 * 1.03), PriceMonthly: price(t.monthly),
				IncludedTraffic: 20 << 40, PricePerTBTraffic: price(1),
			})
		}
		st.lbTypes = append(st.lbTypes, &lbType{resource: resource{ID: t.id, Name: t.name}, s: s})
	}
	seedSystemImages(st)
	seedISOs(st)
}

// seedSystemImages adds the public OS images; each name exists once per
// architecture, as on the real API.
func seedSystemImages(st *state) {
	created := time.Date(2025, 8, 12, 10, 0, 0, 0, time.UTC)
	deprecated := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	id := int64(100_000)
	for _, im := range []struct {
		name, flavor, version string
		deprecated            bool
	}{
		{"debian-12", "debian", "12", false},
		{"debian-13", "debian", "13", false},
		{"ubuntu-22.04", "ubuntu", "22.04", false},
		{"ubuntu-24.04", "ubuntu", "24.04", false},
		{"rocky-9", "rocky", "9", false},
		{"fedora-42", "fedora", "42", false},
		{"ubuntu-20.04", "ubuntu", "20.04", true},
	} {
		for _, arch := range []string{"x86", "arm"} {
			id++
			img := &image{
				resource:    resource{ID: id, Name: im.name, Created: created},
				typ:         "system",
				status:      "available",
				description: fmt.Sprintf("%s %s", im.flavor, im.version),
				diskSize:    5,
				osFlavor:    im.flavor,
				osVersion:   im.version,
				arch:        arch,
			}
			if im.deprecated {
				d := deprecated
				img.deprecated = &d
			}
			st.images[id] = img
		}
	}
}

func price(net float64) schema.Price {
	return schema.Price{Net: fmt.Sprintf("%.10f", net), Gross: fmt.Sprintf("%.10f", net*1.19)}
}

func (st *state) locationByName(name string) *location {
	l, _ := byIDOrName(st.locations, schema.IDOrName{Name: name})
	return l
}

func (st *state) serverTypeByIDOrName(v schema.IDOrName) *serverType {
	t, _ := byIDOrName(st.serverTypes, v)
	return t
}

func (st *state) lbTypeByIDOrName(v schema.IDOrName) *lbType {
	t, _ := byIDOrName(st.lbTypes, v)
	return t
}

// byIDOrName finds a catalogue entry by ID or, when no ID is given, by name.
func byIDOrName[T listable](items []T, v schema.IDOrName) (T, bool) {
	for _, it := range items {
		b := it.base()
		if (v.ID != 0 && b.ID == v.ID) || (v.ID == 0 && v.Name != "" && b.Name == v.Name) {
			return it, true
		}
	}
	var zero T
	return zero, false
}

// idOrNameOf reads a request field the API documents as "ID or name" but
// hcloud-go declares as a plain string: a decimal string is an ID, exactly
// as schema.IDOrName decodes it ("location":"1" once a client has resolved
// the name fsn1).
func idOrNameOf(raw string) schema.IDOrName {
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return schema.IDOrName{ID: id}
	}
	return schema.IDOrName{Name: raw}
}

// resolveLocation resolves the location request field (named field: the
// floating IP's is home_location) given as an ID or a name.
func (st *state) resolveLocation(field, raw string) (*location, error) {
	l, ok := byIDOrName(st.locations, idOrNameOf(raw))
	if !ok {
		return nil, errInvalidField(field, "location '%s' not found", raw)
	}
	return l, nil
}

// resolveDatacenter resolves the deprecated datacenter request field (ID
// or name) to the datacenter's location, which is all the simulator keeps.
func (st *state) resolveDatacenter(raw string) (*location, error) {
	dc, ok := byIDOrName(st.datacenters, idOrNameOf(raw))
	if !ok {
		return nil, errInvalidField("datacenter", "datacenter '%s' not found", raw)
	}
	return st.locationByName(dc.s.Location.Name), nil
}

// resolvePlace resolves the location or the datacenter of a create request;
// the API refuses both together. It returns nil when neither is given.
func (st *state) resolvePlace(locField, loc, dc string) (*location, error) {
	switch {
	case loc != "" && dc != "":
		return nil, errInvalidField("datacenter", "%s and datacenter must not be given together", locField)
	case dc != "":
		return st.resolveDatacenter(dc)
	case loc != "":
		return st.resolveLocation(locField, loc)
	}
	return nil, nil
}

// serverTypeLocation returns the per-location entry of t for loc, if offered there.
func (t *serverType) location(loc string) (schema.ServerTypeLocation, bool) {
	for _, l := range t.s.Locations {
		if l.Name == loc {
			return l, true
		}
	}
	return schema.ServerTypeLocation{}, false
}
