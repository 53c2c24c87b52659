package hcloudsim_test

import (
	"net"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestFirewalls(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	anyV4 := *mustCIDR("0.0.0.0/0")
	rules := []hcloud.FirewallRule{
		{Direction: hcloud.FirewallRuleDirectionIn, Protocol: hcloud.FirewallRuleProtocolTCP, Port: hcloud.Ptr("6443"), SourceIPs: []net.IPNet{anyV4}},
		{Direction: hcloud.FirewallRuleDirectionIn, Protocol: hcloud.FirewallRuleProtocolICMP, SourceIPs: []net.IPNet{anyV4}},
	}
	res := must[hcloud.FirewallCreateResult](t)(c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{
		Name: "k8s", Rules: rules, Labels: map[string]string{"cluster": "a"},
		ApplyTo: []hcloud.FirewallResource{{Type: hcloud.FirewallResourceTypeLabelSelector, LabelSelector: &hcloud.FirewallResourceLabelSelector{Selector: "cluster=a"}}},
	}))
	wait(t, env, res.Actions...)
	fw := res.Firewall

	t.Run("rule validation", func(t *testing.T) {
		_, _, err := c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: "bad", Rules: []hcloud.FirewallRule{{Direction: "in", Protocol: "tcp", SourceIPs: []net.IPNet{anyV4}}}})
		wantCode(t, err, hcloud.ErrorCodeInvalidInput)
		_, _, err = c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: "k8s"})
		wantCode(t, err, hcloud.ErrorCodeUniquenessError)
	})

	t.Run("selector applies to new matching servers", func(t *testing.T) {
		r := startServer(t, env, serverSpec{name: "w1", labels: map[string]string{"cluster": "a"}})
		if len(r.Server.PublicNet.Firewalls) != 1 || r.Server.PublicNet.Firewalls[0].Status != hcloud.FirewallStatusPending {
			t.Fatalf("firewalls right after create: %+v", r.Server.PublicNet.Firewalls)
		}
		wait(t, env, append([]*hcloud.Action{r.Action}, r.NextActions...)...)
		srv := must[*hcloud.Server](t)(c.Server.GetByID(ctx, r.Server.ID))
		if srv.PublicNet.Firewalls[0].Status != hcloud.FirewallStatusApplied {
			t.Fatalf("firewall status %s, want applied", srv.PublicNet.Firewalls[0].Status)
		}
		got := must[*hcloud.Firewall](t)(c.Firewall.GetByID(ctx, fw.ID))
		if len(got.AppliedTo) != 1 || len(got.AppliedTo[0].AppliedToResources) != 1 {
			t.Fatalf("applied_to = %+v", got.AppliedTo)
		}
		_, _, err := c.Firewall.RemoveResources(ctx, fw, []hcloud.FirewallResource{{Type: hcloud.FirewallResourceTypeServer, Server: &hcloud.FirewallResourceServer{ID: srv.ID}}})
		wantCode(t, err, hcloud.ErrorCodeFirewallManagedByLabelSelector)
	})

	t.Run("explicit server, set_rules, in use", func(t *testing.T) {
		srv := createServer(t, env, serverSpec{name: "lone"})
		acts := must[[]*hcloud.Action](t)(c.Firewall.ApplyResources(ctx, fw, []hcloud.FirewallResource{{Type: hcloud.FirewallResourceTypeServer, Server: &hcloud.FirewallResourceServer{ID: srv.ID}}}))
		wait(t, env, acts...)
		_, _, err := c.Firewall.ApplyResources(ctx, fw, []hcloud.FirewallResource{{Type: hcloud.FirewallResourceTypeServer, Server: &hcloud.FirewallResourceServer{ID: srv.ID}}})
		wantCode(t, err, hcloud.ErrorCodeFirewallAlreadyApplied)
		acts = must[[]*hcloud.Action](t)(c.Firewall.SetRules(ctx, fw, hcloud.FirewallSetRulesOpts{Rules: rules[:1]}))
		if len(acts) != 3 { // set_firewall_rules + apply_firewall on w1 and lone
			t.Fatalf("set_rules returned %d actions, want 3", len(acts))
		}
		wait(t, env, acts...)
		_, err = c.Firewall.Delete(ctx, fw)
		wantCode(t, err, hcloud.ErrorCodeResourceInUse)
		acts = must[[]*hcloud.Action](t)(c.Firewall.RemoveResources(ctx, fw, []hcloud.FirewallResource{
			{Type: hcloud.FirewallResourceTypeServer, Server: &hcloud.FirewallResourceServer{ID: srv.ID}},
			{Type: hcloud.FirewallResourceTypeLabelSelector, LabelSelector: &hcloud.FirewallResourceLabelSelector{Selector: "cluster=a"}},
		}))
		wait(t, env, acts...)
		if _, err := c.Firewall.Delete(ctx, fw); err != nil {
			t.Fatalf("delete unused firewall: %v", err)
		}
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		if len(got.PublicNet.Firewalls) != 0 {
			t.Fatalf("server still lists firewalls: %+v", got.PublicNet.Firewalls)
		}
	})
}
