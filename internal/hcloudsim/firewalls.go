package hcloudsim

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/labelselector"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

var portPattern = regexp.MustCompile(`^(any|\d{1,5}(-\d{1,5})?)$`)

func (s *Server) firewallByID(c *call) (*firewall, error) {
	id, err := c.pathID("id", "firewall")
	if err != nil {
		return nil, err
	}
	fw, ok := s.st.firewalls[id]
	if !ok {
		return nil, errNotFound("firewall", id)
	}
	return fw, nil
}

func validateRules(in []schema.FirewallRuleRequest) ([]schema.FirewallRule, error) {
	out := make([]schema.FirewallRule, 0, len(in))
	for _, r := range in {
		if r.Direction != "in" && r.Direction != "out" {
			return nil, errInvalidField("rules.direction", "must be in or out")
		}
		switch r.Protocol {
		case "tcp", "udp":
			if r.Port == nil || !portPattern.MatchString(*r.Port) {
				return nil, errInvalidField("rules.port", "is required for %s (a port, a range a-b or any)", r.Protocol)
			}
		case "icmp", "esp", "gre":
			if r.Port != nil {
				return nil, errInvalidField("rules.port", "is not allowed for %s", r.Protocol)
			}
		default:
			return nil, errInvalidField("rules.protocol", "must be one of tcp, udp, icmp, esp, gre")
		}
		ips := r.SourceIPs
		field := "rules.source_ips"
		if r.Direction == "out" {
			ips, field = r.DestinationIPs, "rules.destination_ips"
		}
		if len(ips) == 0 {
			return nil, errInvalidField(field, "is required for direction %s", r.Direction)
		}
		for _, cidr := range append(slices.Clone(r.SourceIPs), r.DestinationIPs...) {
			if _, err := netip.ParsePrefix(cidr); err != nil {
				return nil, errInvalidField(field, "%q is not a valid CIDR", cidr)
			}
		}
		out = append(out, schema.FirewallRule{
			Direction: r.Direction, Protocol: r.Protocol, Port: r.Port, Description: r.Description,
			SourceIPs: nonNil(r.SourceIPs), DestinationIPs: nonNil(r.DestinationIPs),
		})
	}
	return out, nil
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return slices.Clone(v)
}

func (s *Server) listFirewalls(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	page, meta := selectPage(q, sortedValues(s.st.firewalls), nil)
	return http.StatusOK, listBody("firewalls", renderAll(page, s.renderFirewall), meta), nil
}

func (s *Server) getFirewall(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.FirewallGetResponse{Firewall: s.renderFirewall(fw)}, nil
}

func (s *Server) createFirewall(_ context.Context, c *call) (int, any, error) {
	var req schema.FirewallCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" || len(req.Name) > 128 {
		return 0, nil, errInvalidField("name", "is required and at most 128 characters")
	}
	if nameTaken(s.st.firewalls, req.Name, 0) {
		return 0, nil, errUniqueness("name", "firewall name %q is already used", req.Name)
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	rules, err := validateRules(req.Rules)
	if err != nil {
		return 0, nil, err
	}
	fw := &firewall{resource: resource{ID: s.st.nextID("firewall"), Name: req.Name, Created: s.clock.Now(), Labels: labels}, rules: rules}
	targets, err := s.parseFirewallTargets(fw, req.ApplyTo)
	if err != nil {
		return 0, nil, err
	}
	s.st.firewalls[fw.ID] = fw
	acts := s.applyFirewallTargets(fw, targets)
	return http.StatusCreated, schema.FirewallCreateResponse{Firewall: s.renderFirewall(fw), Actions: s.renderActions(acts)}, nil
}

func (s *Server) updateFirewall(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FirewallUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != nil && *req.Name != fw.Name {
		if *req.Name == "" {
			return 0, nil, errInvalidField("name", "must not be empty")
		}
		if nameTaken(s.st.firewalls, *req.Name, fw.ID) {
			return 0, nil, errUniqueness("name", "firewall name %q is already used", *req.Name)
		}
		fw.Name = *req.Name
	}
	if req.Labels != nil {
		if fw.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.FirewallUpdateResponse{Firewall: s.renderFirewall(fw)}, nil
}

func (s *Server) deleteFirewall(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	if len(fw.applied) > 0 {
		return 0, nil, errUnprocessable("resource_in_use", "firewall %d is still applied to resources", fw.ID)
	}
	for _, sv := range s.st.servers {
		delete(sv.fwStatus, fw.ID)
	}
	delete(s.st.firewalls, fw.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) firewallSetRules(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FirewallActionSetRulesRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	rules, err := validateRules(req.Rules)
	if err != nil {
		return 0, nil, err
	}
	fw.rules = rules
	acts := []*action{s.startAction(actionSpec{
		command: "set_firewall_rules", duration: s.latency.FirewallApply,
		resources: []resKey{key("firewall", fw.ID)},
	})}
	for _, sv := range sortedValues(s.st.servers) {
		if _, ok := sv.fwStatus[fw.ID]; !ok {
			continue
		}
		sv.fwStatus[fw.ID] = "pending"
		acts = append(acts, s.startApplyFirewall(fw, sv, nil))
	}
	return http.StatusCreated, schema.FirewallActionSetRulesResponse{Actions: s.renderActions(acts)}, nil
}

func (s *Server) firewallApply(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FirewallActionApplyToResourcesRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	targets, err := s.parseFirewallTargets(fw, req.ApplyTo)
	if err != nil {
		return 0, nil, err
	}
	acts := s.applyFirewallTargets(fw, targets)
	return http.StatusCreated, schema.FirewallActionApplyToResourcesResponse{Actions: s.renderActions(acts)}, nil
}

func (s *Server) firewallRemove(_ context.Context, c *call) (int, any, error) {
	fw, err := s.firewallByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.FirewallActionRemoveFromResourcesRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	var idx []int
	for _, r := range req.RemoveFrom {
		i := -1
		switch {
		case r.Type == "server" && r.Server != nil:
			i = slices.IndexFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == r.Server.ID })
			if i < 0 {
				if sv, ok := s.st.servers[r.Server.ID]; ok && s.firewallMatchesBySelector(fw, sv) {
					return 0, nil, errUnprocessable("firewall_managed_by_label_selector", "firewall %d is applied to server %d via a label selector", fw.ID, sv.ID)
				}
			}
		case r.Type == "label_selector" && r.LabelSelector != nil:
			i = slices.IndexFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == 0 && t.selector == r.LabelSelector.Selector })
		default:
			return 0, nil, errInvalidField("remove_from", "type must be server or label_selector")
		}
		if i < 0 {
			return 0, nil, errf(http.StatusNotFound, "firewall_resource_not_found", "firewall %d is not applied to the given resource", fw.ID)
		}
		idx = append(idx, i)
	}
	removed := map[*fwTarget]bool{}
	for _, i := range idx {
		removed[fw.applied[i]] = true
	}
	fw.applied = slices.DeleteFunc(fw.applied, func(t *fwTarget) bool { return removed[t] })
	var acts []*action
	for _, sv := range sortedValues(s.st.servers) {
		acts = append(acts, s.reconcileServerFirewalls(sv)...)
	}
	if len(acts) == 0 {
		acts = append(acts, s.startAction(actionSpec{command: "remove_firewall", duration: s.latency.FirewallApply, resources: []resKey{key("firewall", fw.ID)}}))
	}
	return http.StatusCreated, schema.FirewallActionRemoveFromResourcesResponse{Actions: s.renderActions(acts)}, nil
}

// parseFirewallTargets validates apply_to entries without changing state.
func (s *Server) parseFirewallTargets(fw *firewall, in []schema.FirewallResource) ([]*fwTarget, error) {
	var out []*fwTarget
	for _, r := range in {
		switch {
		case r.Type == "server" && r.Server != nil:
			sv, ok := s.st.servers[r.Server.ID]
			if !ok {
				return nil, errf(http.StatusNotFound, "firewall_resource_not_found", "server %d not found", r.Server.ID)
			}
			if !sv.hasPublicNet() {
				return nil, errUnprocessable("private_net_only_server", "server %d has no public interface", sv.ID)
			}
			dup := slices.ContainsFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == sv.ID }) ||
				slices.ContainsFunc(out, func(t *fwTarget) bool { return t.serverID == sv.ID })
			if dup {
				return nil, errUnprocessable("firewall_already_applied", "firewall %d is already applied to server %d", fw.ID, sv.ID)
			}
			out = append(out, &fwTarget{serverID: sv.ID})
		case r.Type == "label_selector" && r.LabelSelector != nil:
			sel, err := labelselector.Parse(r.LabelSelector.Selector)
			if err != nil || sel.Empty() {
				return nil, errInvalidField("apply_to.label_selector.selector", "invalid label selector %q", r.LabelSelector.Selector)
			}
			if slices.ContainsFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == 0 && t.selector == r.LabelSelector.Selector }) {
				return nil, errUnprocessable("firewall_already_applied", "firewall %d is already applied to selector %q", fw.ID, r.LabelSelector.Selector)
			}
			out = append(out, &fwTarget{selector: r.LabelSelector.Selector, sel: sel})
		default:
			return nil, errInvalidField("apply_to", "type must be server or label_selector")
		}
	}
	return out, nil
}

// applyFirewallTargets records targets and starts apply_firewall actions on
// every server that newly gets the firewall.
func (s *Server) applyFirewallTargets(fw *firewall, targets []*fwTarget) []*action {
	if len(targets) == 0 {
		return []*action{}
	}
	fw.applied = append(fw.applied, targets...)
	var acts []*action
	for _, sv := range sortedValues(s.st.servers) {
		acts = append(acts, s.reconcileServerFirewalls(sv)...)
	}
	if len(acts) == 0 {
		acts = append(acts, s.startAction(actionSpec{command: "apply_firewall", duration: s.latency.FirewallApply, resources: []resKey{key("firewall", fw.ID)}}))
	}
	return acts
}

func (s *Server) firewallMatchesBySelector(fw *firewall, sv *server) bool {
	if !sv.hasPublicNet() {
		return false
	}
	for _, t := range fw.applied {
		if t.serverID == 0 && t.sel.Matches(sv.Labels) {
			return true
		}
	}
	return false
}

func (s *Server) firewallApplies(fw *firewall, sv *server) bool {
	return slices.ContainsFunc(fw.applied, func(t *fwTarget) bool { return t.serverID == sv.ID }) || s.firewallMatchesBySelector(fw, sv)
}

// reconcileServerFirewalls brings sv.fwStatus in line with explicit and
// label-selector firewall targets. New firewalls start pending with an
// apply_firewall action that locks the server – the real API's behaviour
// that races with calls made right after server create or relabel.
func (s *Server) reconcileServerFirewalls(sv *server) []*action {
	return s.reconcileServerFirewallsAfter(sv, nil, nil)
}

// reconcileServerFirewallsAfter is reconcileServerFirewalls for a server
// being created: actions chain behind parent and only those for the
// explicitly requested firewalls are returned (they are next_actions).
func (s *Server) reconcileServerFirewallsAfter(sv *server, parent *action, explicit []*firewall) []*action {
	if sv.status == statusDeleting {
		return nil
	}
	var acts []*action
	for _, fw := range sortedValues(s.st.firewalls) {
		_, has := sv.fwStatus[fw.ID]
		want := s.firewallApplies(fw, sv)
		switch {
		case want && !has:
			sv.fwStatus[fw.ID] = "pending"
			a := s.startApplyFirewall(fw, sv, parent)
			if parent == nil || slices.Contains(explicit, fw) {
				acts = append(acts, a)
			}
		case !want && has:
			delete(sv.fwStatus, fw.ID)
			acts = append(acts, s.startAction(actionSpec{
				command: "remove_firewall", duration: s.latency.FirewallApply,
				resources: []resKey{key("firewall", fw.ID), key("server", sv.ID)},
				locks:     []resKey{key("server", sv.ID)},
			}))
		}
	}
	return acts
}

func (s *Server) startApplyFirewall(fw *firewall, sv *server, parent *action) *action {
	return s.startAction(actionSpec{
		command:   "apply_firewall",
		duration:  s.latency.FirewallApply,
		resources: []resKey{key("firewall", fw.ID), key("server", sv.ID)},
		locks:     []resKey{key("server", sv.ID)},
		after:     parent,
		onSuccess: func(time.Time) {
			if st, ok := sv.fwStatus[fw.ID]; ok && st == "pending" {
				sv.fwStatus[fw.ID] = "applied"
			}
		},
	})
}

func (s *Server) renderFirewall(fw *firewall) schema.Firewall {
	out := schema.Firewall{ID: fw.ID, Name: fw.Name, Labels: cloneLabels(fw.Labels), Created: fw.Created,
		Rules: slices.Clone(fw.rules), AppliedTo: []schema.FirewallResource{}}
	if out.Rules == nil {
		out.Rules = []schema.FirewallRule{}
	}
	for _, t := range fw.applied {
		if t.serverID != 0 {
			out.AppliedTo = append(out.AppliedTo, schema.FirewallResource{Type: "server", Server: &schema.FirewallResourceServer{ID: t.serverID}})
			continue
		}
		r := schema.FirewallResource{Type: "label_selector", LabelSelector: &schema.FirewallResourceLabelSelector{Selector: t.selector},
			AppliedToResources: []schema.FirewallResource{}}
		for _, sv := range sortedValues(s.st.servers) {
			if sv.hasPublicNet() && t.sel.Matches(sv.Labels) {
				r.AppliedToResources = append(r.AppliedToResources, schema.FirewallResource{Type: "server", Server: &schema.FirewallResourceServer{ID: sv.ID}})
			}
		}
		out.AppliedTo = append(out.AppliedTo, r)
	}
	return out
}
