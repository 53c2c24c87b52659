package hcloudsim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestWaitForFollowsPages shrinks the page size so GET /actions?id=… spans
// several pages; hcloud-go must still see every action.
func TestWaitForFollowsPages(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{DefaultPerPage: 2})
	var actions []*hcloud.Action
	for i := range 7 {
		res := startServer(t, env, serverSpec{name: fmt.Sprintf("s%d", i)})
		actions = append(actions, res.Action)
	}
	wait(t, env, actions...)
	servers, err := env.Client.Server.All(testCtx(t))
	if err != nil || len(servers) != 7 {
		t.Fatalf("All: %d %v", len(servers), err)
	}
}

func TestPublicNetToggles(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	nw := newCloudNetwork(t, env, "n")
	fw := must[hcloud.FirewallCreateResult](t)(c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: "fw"})).Firewall
	base := hcloud.ServerCreateOpts{ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}}
	tests := []struct {
		name    string
		mod     func(o *hcloud.ServerCreateOpts)
		code    hcloud.ErrorCode
		hasIPv4 bool
	}{
		{"ipv6 only", func(o *hcloud.ServerCreateOpts) {
			o.PublicNet = &hcloud.ServerCreatePublicNet{EnableIPv6: true}
		}, "", false},
		{"no public net needs a network", func(o *hcloud.ServerCreateOpts) {
			o.PublicNet = &hcloud.ServerCreatePublicNet{}
		}, hcloud.ErrorCodeInvalidInput, false},
		{"private only", func(o *hcloud.ServerCreateOpts) {
			o.PublicNet = &hcloud.ServerCreatePublicNet{}
			o.Networks = []*hcloud.Network{nw}
		}, "", false},
		{"firewall on private-only server", func(o *hcloud.ServerCreateOpts) {
			o.PublicNet = &hcloud.ServerCreatePublicNet{}
			o.Networks = []*hcloud.Network{nw}
			o.Firewalls = []*hcloud.ServerCreateFirewall{{Firewall: *fw}}
		}, hcloud.ErrorCodePrivateNetOnlyServer, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.Name = fmt.Sprintf("s%d", i)
			tt.mod(&o)
			res, _, err := c.Server.Create(ctx, o)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Server.PublicNet.IPv4.IP != nil && !res.Server.PublicNet.IPv4.IP.IsUnspecified(); got != tt.hasIPv4 {
				t.Fatalf("has IPv4 = %v (%v)", got, res.Server.PublicNet.IPv4.IP)
			}
		})
	}
}

func TestRelabelMovesSelectorFirewalls(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	res := must[hcloud.FirewallCreateResult](t)(c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{
		Name: "fw", ApplyTo: []hcloud.FirewallResource{{Type: hcloud.FirewallResourceTypeLabelSelector, LabelSelector: &hcloud.FirewallResourceLabelSelector{Selector: "fw=yes"}}},
	}))
	wait(t, env, res.Actions...)
	srv := createServer(t, env, serverSpec{name: "s"})
	if len(srv.PublicNet.Firewalls) != 0 {
		t.Fatal("unlabelled server got the firewall")
	}
	env.Clock.Pause()
	srv = must[*hcloud.Server](t)(c.Server.Update(ctx, srv, hcloud.ServerUpdateOpts{Labels: map[string]string{"fw": "yes"}}))
	if len(srv.PublicNet.Firewalls) != 1 || srv.PublicNet.Firewalls[0].Status != hcloud.FirewallStatusPending || !srv.Locked {
		t.Fatalf("after relabel: %+v locked %v", srv.PublicNet.Firewalls, srv.Locked)
	}
	// The apply_firewall action locks the server, as on the real API.
	_, _, err := c.Server.Poweroff(ctx, srv)
	wantCode(t, err, hcloud.ErrorCodeLocked)
	env.Clock.Resume()
	env.Eventually(t, time.Minute, func() bool {
		s := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		return len(s.PublicNet.Firewalls) == 1 && s.PublicNet.Firewalls[0].Status == hcloud.FirewallStatusApplied && !s.Locked
	})
	srv = must[*hcloud.Server](t)(c.Server.Update(ctx, srv, hcloud.ServerUpdateOpts{Labels: map[string]string{}}))
	if len(srv.PublicNet.Firewalls) != 0 {
		t.Fatalf("firewall kept after label removal: %+v", srv.PublicNet.Firewalls)
	}
}

func TestNetworkConflictAndStrictDelete(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{NetworkDeleteRequiresDetach: true})
	ctx := testCtx(t)
	noRetry := env.NewClient(t, hcloud.WithRetryOpts(hcloud.RetryOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond), MaxRetries: 0}))
	nw := must[*hcloud.Network](t)(noRetry.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: "n", IPRange: mustCIDR("10.0.0.0/16")}))
	env.Clock.Pause()
	must[*hcloud.Action](t)(noRetry.Network.AddSubnet(ctx, nw, hcloud.NetworkAddSubnetOpts{Subnet: hcloud.NetworkSubnet{Type: "cloud", NetworkZone: "eu-central"}}))
	_, _, err := noRetry.Network.AddSubnet(ctx, nw, hcloud.NetworkAddSubnetOpts{Subnet: hcloud.NetworkSubnet{Type: "cloud", NetworkZone: "eu-central"}})
	wantCode(t, err, hcloud.ErrorCodeConflict)
	env.Clock.Resume()
	createServer(t, env, serverSpec{name: "s", networks: []*hcloud.Network{nw}})
	_, err = noRetry.Network.Delete(ctx, nw)
	wantCode(t, err, hcloud.ErrorCodeResourceInUse)
}

func TestServerLimit(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{ServerLimit: 2})
	startServer(t, env, serverSpec{name: "a"})
	startServer(t, env, serverSpec{name: "b"})
	_, _, err := env.Client.Server.Create(testCtx(t), hcloud.ServerCreateOpts{Name: "c", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}})
	wantCode(t, err, hcloud.ErrorCodeResourceLimitExceeded)
}

func TestSnapshotDeleteAndVolumeReattach(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "s"})
	r := must[hcloud.ServerCreateImageResult](t)(c.Server.CreateImage(ctx, srv, nil))
	wait(t, env, r.Action)
	img := must[*hcloud.Image](t)(c.Image.GetByID(ctx, r.Image.ID))
	wait(t, env, must[*hcloud.Action](t)(c.Image.ChangeProtection(ctx, img, hcloud.ImageChangeProtectionOpts{Delete: hcloud.Ptr(true)})))
	_, err := c.Image.Delete(ctx, img)
	wantCode(t, err, hcloud.ErrorCodeProtected)
	wait(t, env, must[*hcloud.Action](t)(c.Image.ChangeProtection(ctx, img, hcloud.ImageChangeProtectionOpts{Delete: hcloud.Ptr(false)})))
	if _, err := c.Image.Delete(ctx, img); err != nil {
		t.Fatal(err)
	}

	vr := must[hcloud.VolumeCreateResult](t)(c.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: "v", Size: 20, Location: &hcloud.Location{Name: "fsn1"}}))
	wait(t, env, vr.Action)
	wait(t, env, must[*hcloud.Action](t)(c.Volume.Attach(ctx, vr.Volume, srv)))
	got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
	if len(got.Volumes) != 1 {
		t.Fatalf("server volumes %v", got.Volumes)
	}
	// Deleting the server detaches the volume.
	dr := must[*hcloud.ServerDeleteResult](t)(c.Server.DeleteWithResult(ctx, srv))
	wait(t, env, dr.Action)
	v := must[*hcloud.Volume](t)(c.Volume.GetByID(ctx, vr.Volume.ID))
	if v.Server != nil {
		t.Fatal("volume still attached to deleted server")
	}
}
