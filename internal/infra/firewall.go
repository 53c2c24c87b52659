package infra

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// KindFirewall is the cluster firewall.
const KindFirewall Kind = "firewall"

// FirewallSpec is the cluster firewall.
type FirewallSpec struct {
	Rules []FirewallRule `json:"rules,omitempty"`
}

// FirewallRule is one rule in Hetzner's terms.
type FirewallRule struct {
	Description    string   `json:"description"`
	Direction      string   `json:"direction"` // in, out
	Protocol       string   `json:"protocol"`  // tcp, udp, icmp, gre, esp
	Port           string   `json:"port"`      // "" for protocols without ports
	SourceIPs      []string `json:"sourceIPs,omitempty"`
	DestinationIPs []string `json:"destinationIPs,omitempty"`
}

// firewallKind: the rules are set as a whole; apply keeps the firewall until
// destroy, which deletes it once no server uses it.
type firewallKind struct{}

func (firewallKind) about() kindInfo {
	return kindInfo{kind: KindFirewall, title: "firewall", order: 2, destroyAfter: []Kind{KindServer}}
}

func (firewallKind) observe(s *State, c *Cloud) {
	for _, f := range c.Firewalls {
		spec := &FirewallSpec{}
		for _, rule := range f.Rules {
			fr := FirewallRule{Direction: string(rule.Direction), Protocol: string(rule.Protocol), SourceIPs: ipNets(rule.SourceIPs), DestinationIPs: ipNets(rule.DestinationIPs)}
			if rule.Port != nil {
				fr.Port = *rule.Port
			}
			if rule.Description != nil {
				fr.Description = *rule.Description
			}
			spec.Rules = append(spec.Rules, fr)
		}
		s.add(&Resource{Kind: KindFirewall, Name: f.Name, ID: f.ID, Labels: f.Labels, Firewall: spec})
	}
}

func (firewallKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.Firewall.GetByName, name, &c.Firewalls)
}

func (firewallKind) compare(c *comparison, d, o *Resource) {
	if rulesEqual(d.Firewall.Rules, o.Firewall.Rules) {
		return
	}
	rules := hcloudRules(d.Firewall.Rules)
	c.update("rules", fmt.Sprintf("%d rules", len(o.Firewall.Rules)), describeRules(d.Firewall.Rules), plain("set rules of", func(ctx context.Context, t *target) error {
		as, _, err := t.api().Firewall.SetRules(ctx, &hcloud.Firewall{ID: t.id}, hcloud.FirewallSetRulesOpts{Rules: rules})
		t.waitLater(as...)
		return err
	}))
}

func (firewallKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.Firewall.Update(ctx, &hcloud.Firewall{ID: id}, hcloud.FirewallUpdateOpts{Labels: labels}))
}

// rulesEqual compares rule sets regardless of order (Hetzner keeps its own order).
func rulesEqual(a, b []FirewallRule) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(rs []FirewallRule) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			src, dst := slices.Clone(r.SourceIPs), slices.Clone(r.DestinationIPs)
			slices.Sort(src)
			slices.Sort(dst)
			out[i] = fmt.Sprintf("%s|%s|%s|%s|%v|%v", r.Direction, r.Protocol, r.Port, r.Description, src, dst)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func describeRules(rs []FirewallRule) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		ips := r.SourceIPs
		if r.Direction == "out" {
			ips = r.DestinationIPs
		}
		parts[i] = fmt.Sprintf("%s %s/%s from %s", r.Direction, r.Protocol, r.Port, strings.Join(ips, " "))
	}
	return strings.Join(parts, "; ")
}

func hcloudRules(rules []FirewallRule) []hcloud.FirewallRule {
	out := make([]hcloud.FirewallRule, 0, len(rules))
	for _, fr := range rules {
		rule := hcloud.FirewallRule{Direction: hcloud.FirewallRuleDirection(fr.Direction), Protocol: hcloud.FirewallRuleProtocol(fr.Protocol),
			SourceIPs: ipNetsOf(fr.SourceIPs), DestinationIPs: ipNetsOf(fr.DestinationIPs)}
		if fr.Port != "" {
			rule.Port = hcloud.Ptr(fr.Port)
		}
		if fr.Description != "" {
			rule.Description = hcloud.Ptr(fr.Description)
		}
		out = append(out, rule)
	}
	return out
}

// ipNetsOf parses CIDRs for the API, skipping any that do not parse.
func ipNetsOf(cidrs []string) []net.IPNet {
	var out []net.IPNet
	for _, s := range cidrs {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, *ipNet(p))
		}
	}
	return out
}

func (firewallKind) create(ctx context.Context, r *run, d *Resource) error {
	opts := hcloud.FirewallCreateOpts{Name: d.Name, Labels: d.Labels, Rules: hcloudRules(d.Firewall.Rules)}
	return createOne(ctx, r, d, r.api().Firewall.Create, opts, func(res hcloud.FirewallCreateResult) error {
		return r.created(ctx, d, res.Firewall.ID, Cloud{}, res.Actions...)
	})
}

func (firewallKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().Firewall.Delete(ctx, &hcloud.Firewall{ID: o.ID}))
}

func (firewallKind) attributes(r *Resource) map[string]any {
	return map[string]any{"rules": r.Firewall.Rules}
}
