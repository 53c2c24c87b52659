package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
)

// Catalogue is what Hetzner offers the project right now: server types with
// where each can be ordered, locations, and load balancer types.
type Catalogue struct {
	serverTypes map[string]*hcloud.ServerType
	locations   map[string]*hcloud.Location
	lbTypes     map[string]*hcloud.LoadBalancerType
}

// ReadCatalogue lists server types, locations and load balancer types: three
// list requests (each a single page today).
func ReadCatalogue(ctx context.Context, client *hetzner.Client) (*Catalogue, error) {
	c := &Catalogue{}
	api := client.API()
	err := client.Retry(ctx, "list server types", func(ctx context.Context) error {
		all, err := api.ServerType.All(ctx)
		c.serverTypes = byName(all, func(t *hcloud.ServerType) string { return t.Name })
		return err
	})
	if err == nil {
		err = client.Retry(ctx, "list locations", func(ctx context.Context) error {
			all, err := api.Location.All(ctx)
			c.locations = byName(all, func(l *hcloud.Location) string { return l.Name })
			return err
		})
	}
	if err == nil {
		err = client.Retry(ctx, "list load balancer types", func(ctx context.Context) error {
			all, err := api.LoadBalancerType.All(ctx)
			c.lbTypes = byName(all, func(t *hcloud.LoadBalancerType) string { return t.Name })
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("read Hetzner's catalogue: %w", err)
	}
	return c, nil
}

// CatalogueFor reads the catalogue only when the plan can need it: when a
// server or load balancer is desired that does not exist yet. Check and Place
// look at new ones only, so a plan that changes labels or nothing costs no
// catalogue requests (and a no-op apply stays as cheap as it was); it then
// gets an empty catalogue.
func CatalogueFor(ctx context.Context, client *hetzner.Client, desired, observed *infra.State) (*Catalogue, error) {
	for ref, r := range desired.Resources {
		if (r.Kind == infra.KindServer || r.Kind == infra.KindLoadBalancer) && observed.Get(ref) == nil {
			return ReadCatalogue(ctx, client)
		}
	}
	return NewCatalogue(nil, nil, nil), nil
}

// NewCatalogue is a catalogue of the given offers, for tests.
func NewCatalogue(serverTypes []*hcloud.ServerType, locations []*hcloud.Location, lbTypes []*hcloud.LoadBalancerType) *Catalogue {
	return &Catalogue{
		serverTypes: byName(serverTypes, func(t *hcloud.ServerType) string { return t.Name }),
		locations:   byName(locations, func(l *hcloud.Location) string { return l.Name }),
		lbTypes:     byName(lbTypes, func(t *hcloud.LoadBalancerType) string { return t.Name }),
	}
}

func byName[T any](all []*T, name func(*T) string) map[string]*T {
	m := make(map[string]*T, len(all))
	for _, v := range all {
		m[name(v)] = v
	}
	return m
}

// refusal says why a server of type typ cannot be ordered in loc, or "" when it
// can. Hetzner reports stock per location (server_types[].locations[].available)
// and deprecation both for the type and per location.
func (c *Catalogue) refusal(typ, loc string) string {
	t, ok := c.serverTypes[typ]
	if !ok {
		return fmt.Sprintf("server type %s does not exist; Hetzner offers %s", typ, c.typeNames())
	}
	if _, ok := c.locations[loc]; !ok {
		return fmt.Sprintf("location %s does not exist; Hetzner has %s", loc, strings.Join(sortedKeys(c.locations), ", "))
	}
	if t.IsDeprecated() {
		return fmt.Sprintf("server type %s is deprecated%s and can no longer be ordered; pick a current type", typ, until(t.DeprecatableResource))
	}
	for _, l := range t.Locations {
		if l.Location == nil || l.Location.Name != loc {
			continue
		}
		if l.IsDeprecated() {
			return fmt.Sprintf("server type %s is deprecated in %s%s", typ, loc, until(l.DeprecatableResource))
		}
		if !l.Available {
			return fmt.Sprintf("Hetzner has no stock of %s in %s right now%s", typ, loc, c.elsewhere(t, loc))
		}
		return ""
	}
	return fmt.Sprintf("server type %s is not offered in %s%s", typ, loc, c.elsewhere(t, loc))
}

// until is the date a deprecated offer stops, for messages.
func until(d hcloud.DeprecatableResource) string {
	if d.Deprecation == nil || d.Deprecation.UnavailableAfter.IsZero() {
		return ""
	}
	return " (unavailable after " + d.Deprecation.UnavailableAfter.Format("2006-01-02") + ")"
}

// elsewhere names the locations where t is in stock, so that a refusal says
// where the pool could go.
func (c *Catalogue) elsewhere(t *hcloud.ServerType, not string) string {
	var in []string
	for _, l := range t.Locations {
		if l.Location != nil && l.Location.Name != not && l.Available && !l.IsDeprecated() {
			in = append(in, l.Location.Name)
		}
	}
	if len(in) == 0 {
		return "; it is in stock nowhere else either"
	}
	sort.Strings(in)
	return "; it is in stock in " + strings.Join(in, ", ")
}

// typeNames lists the types that can be ordered somewhere, by architecture.
func (c *Catalogue) typeNames() string {
	byArch := map[string][]string{}
	for name, t := range c.serverTypes {
		if !t.IsDeprecated() {
			arch := c.architecture(name)
			byArch[arch] = append(byArch[arch], name)
		}
	}
	var parts []string
	for _, arch := range sortedKeys(byArch) {
		names := byArch[arch]
		slices.Sort(names)
		parts = append(parts, strings.Join(names, ", ")+" ("+arch+")")
	}
	return strings.Join(parts, "; ")
}

// architecture is the CPU architecture of typ in Talos's terms (amd64,
// arm64; Hetzner says x86 and arm), or "" for an unknown type.
func (c *Catalogue) architecture(typ string) string {
	t, ok := c.serverTypes[typ]
	if !ok {
		return ""
	}
	switch t.Architecture {
	case hcloud.ArchitectureX86:
		return "amd64"
	case hcloud.ArchitectureARM:
		return "arm64"
	}
	return string(t.Architecture)
}

// lbRefusal says why a load balancer of type typ cannot be created in loc.
func (c *Catalogue) lbRefusal(typ, loc string) string {
	if _, ok := c.lbTypes[typ]; !ok {
		return fmt.Sprintf("load balancer type %s does not exist; Hetzner offers %s", typ, strings.Join(sortedKeys(c.lbTypes), ", "))
	}
	if _, ok := c.locations[loc]; !ok {
		return fmt.Sprintf("location %s does not exist; Hetzner has %s", loc, strings.Join(sortedKeys(c.locations), ", "))
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
