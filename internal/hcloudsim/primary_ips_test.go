package hcloudsim_test

import (
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestPrimaryIPs(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	auto := createServer(t, env, serverSpec{name: "auto"})
	pips, err := c.PrimaryIP.All(ctx)
	if err != nil || len(pips) != 2 {
		t.Fatalf("primary IPs of a new server: %d %v", len(pips), err)
	}
	for _, p := range pips {
		if p.AssigneeID != auto.ID || !p.AutoDelete {
			t.Fatalf("implicit primary IP %+v", p)
		}
	}

	res := must[*hcloud.PrimaryIPCreateResult](t)(c.PrimaryIP.Create(ctx, hcloud.PrimaryIPCreateOpts{
		Name: "api-vip", Type: hcloud.PrimaryIPTypeIPv4, AssigneeType: "server", Location: "fsn1", Labels: map[string]string{"cluster": "a"},
	}))
	pip := res.PrimaryIP
	if !pip.IP.IsLoopback() || pip.AssigneeID != 0 {
		t.Fatalf("created %+v", pip)
	}
	sr := must[hcloud.ServerCreateResult](t)(c.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "fixed", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: "fsn1"},
		PublicNet: &hcloud.ServerCreatePublicNet{EnableIPv4: true, IPv4: pip},
	}))
	wait(t, env, append([]*hcloud.Action{sr.Action}, sr.NextActions...)...)
	if !sr.Server.PublicNet.IPv4.IP.Equal(pip.IP) {
		t.Fatalf("server IPv4 %s, want primary IP %s", sr.Server.PublicNet.IPv4.IP, pip.IP)
	}
	_, _, err = c.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "steal", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: "fsn1"},
		PublicNet: &hcloud.ServerCreatePublicNet{EnableIPv4: true, IPv4: pip},
	})
	wantCode(t, err, hcloud.ErrorCodePrimaryIPAssigned)
	_, err = c.PrimaryIP.Delete(ctx, pip)
	wantCode(t, err, "must_be_unassigned")
	_, _, err = c.PrimaryIP.Unassign(ctx, pip.ID)
	wantCode(t, err, hcloud.ErrorCodeServerNotStopped)

	dr := must[*hcloud.ServerDeleteResult](t)(c.Server.DeleteWithResult(ctx, sr.Server))
	wait(t, env, dr.Action)
	got := must[*hcloud.PrimaryIP](t)(c.PrimaryIP.GetByID(ctx, pip.ID))
	if got == nil || got.AssigneeID != 0 {
		t.Fatalf("non-auto-delete primary IP after server delete: %+v", got)
	}
	if n := len(must[[]*hcloud.PrimaryIP](t)(c.PrimaryIP.List(ctx, hcloud.PrimaryIPListOpts{}))); n != 3 {
		t.Fatalf("%d primary IPs, want 3 (auto-deleted ones of 'fixed' gone, IPv6 of 'fixed' was auto)", n)
	}
	off := createServer(t, env, serverSpec{name: "off", noStart: true})
	_, _, err = c.PrimaryIP.Assign(ctx, hcloud.PrimaryIPAssignOpts{ID: pip.ID, AssigneeType: "server", AssigneeID: off.ID})
	wantCode(t, err, hcloud.ErrorCodeServerHasIPv4)
	if _, err := c.PrimaryIP.Delete(ctx, pip); err != nil {
		t.Fatalf("delete unassigned primary IP: %v", err)
	}
}
