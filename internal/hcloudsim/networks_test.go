package hcloudsim_test

import (
	"net"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestNetworks(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	nw := must[*hcloud.Network](t)(c.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name: "k8s", IPRange: mustCIDR("10.0.0.0/16"), Labels: map[string]string{"cluster": "a"},
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, IPRange: mustCIDR("10.0.1.0/24"), NetworkZone: hcloud.NetworkZoneEUCentral}},
	}))
	if len(nw.Subnets) != 1 || nw.Subnets[0].Gateway.String() != "10.0.0.1" {
		t.Fatalf("subnets = %+v", nw.Subnets)
	}

	t.Run("validation", func(t *testing.T) {
		tests := []struct {
			name string
			opts hcloud.NetworkCreateOpts
			code hcloud.ErrorCode
		}{
			{"public range", hcloud.NetworkCreateOpts{Name: "x", IPRange: mustCIDR("8.8.0.0/16")}, hcloud.ErrorCodeInvalidInput},
			{"too small", hcloud.NetworkCreateOpts{Name: "x", IPRange: mustCIDR("10.1.0.0/25")}, hcloud.ErrorCodeInvalidInput},
			{"duplicate name", hcloud.NetworkCreateOpts{Name: "k8s", IPRange: mustCIDR("10.1.0.0/16")}, hcloud.ErrorCodeUniquenessError},
			{"subnet outside", hcloud.NetworkCreateOpts{Name: "y", IPRange: mustCIDR("10.1.0.0/16"), Subnets: []hcloud.NetworkSubnet{{Type: "cloud", IPRange: mustCIDR("10.2.0.0/24"), NetworkZone: "eu-central"}}}, hcloud.ErrorCodeInvalidInput},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := c.Network.Create(ctx, tt.opts)
				wantCode(t, err, tt.code)
			})
		}
	})

	t.Run("subnets and routes", func(t *testing.T) {
		a := must[*hcloud.Action](t)(c.Network.AddSubnet(ctx, nw, hcloud.NetworkAddSubnetOpts{Subnet: hcloud.NetworkSubnet{Type: "cloud", NetworkZone: "eu-central"}}))
		_, _, err := c.Network.AddRoute(ctx, nw, hcloud.NetworkAddRouteOpts{Route: hcloud.NetworkRoute{Destination: mustCIDR("0.0.0.0/0"), Gateway: net.ParseIP("10.0.1.254")}})
		// hcloud-go retries conflict, so the route succeeds once add_subnet is done.
		if err != nil {
			t.Fatalf("add_route after add_subnet (conflict is retried): %v", err)
		}
		wait(t, env, a)
		got := must[*hcloud.Network](t)(c.Network.GetByID(ctx, nw.ID))
		if len(got.Subnets) != 2 || got.Subnets[1].IPRange.String() != "10.0.0.0/24" || len(got.Routes) != 1 {
			t.Fatalf("network after changes: subnets %+v routes %+v", got.Subnets, got.Routes)
		}
		env.Eventually(t, 60e9, func() bool {
			_, _, err := c.Network.DeleteRoute(ctx, got, hcloud.NetworkDeleteRouteOpts{Route: got.Routes[0]})
			return err == nil
		})
		a = must[*hcloud.Action](t)(c.Network.ChangeIPRange(ctx, got, hcloud.NetworkChangeIPRangeOpts{IPRange: mustCIDR("10.0.0.0/15")}))
		wait(t, env, a)
	})

	t.Run("private IPs", func(t *testing.T) {
		srv := createServer(t, env, serverSpec{name: "n1", networks: []*hcloud.Network{nw}})
		if len(srv.PrivateNet) != 1 || !mustCIDR("10.0.1.0/24").Contains(srv.PrivateNet[0].IP) {
			t.Fatalf("private net = %+v", srv.PrivateNet)
		}
		other := createServer(t, env, serverSpec{name: "n2"})
		_, _, err := c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: srv.PrivateNet[0].IP})
		wantCode(t, err, hcloud.ErrorCodeIPNotAvailable)
		_, _, err = c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: net.ParseIP("10.9.0.5")})
		wantCode(t, err, hcloud.ErrorCodeInvalidInput)
		a := must[*hcloud.Action](t)(c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: net.ParseIP("10.0.1.50")}))
		wait(t, env, a)
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, other.ID))
		if len(got.PrivateNet) != 1 || got.PrivateNet[0].IP.String() != "10.0.1.50" {
			t.Fatalf("explicit IP attach: %+v", got.PrivateNet)
		}
		_, _, err = c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw})
		wantCode(t, err, hcloud.ErrorCodeServerAlreadyAttached)

		_, _, err = c.Network.DeleteSubnet(ctx, nw, hcloud.NetworkDeleteSubnetOpts{Subnet: hcloud.NetworkSubnet{IPRange: mustCIDR("10.0.1.0/24")}})
		wantCode(t, err, hcloud.ErrorCodeServiceError)

		wait(t, env, must[*hcloud.Action](t)(c.Server.DetachFromNetwork(ctx, other, hcloud.ServerDetachFromNetworkOpts{Network: nw})))
		// A released IP is quarantined: re-using it at once fails.
		env.Clock.Pause()
		_, _, err = c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: net.ParseIP("10.0.1.50")})
		wantCode(t, err, hcloud.ErrorCodeIPNotAvailable)
		// An unused subnet can go at any time.
		_, _, err = c.Network.DeleteSubnet(ctx, nw, hcloud.NetworkDeleteSubnetOpts{Subnet: hcloud.NetworkSubnet{IPRange: mustCIDR("10.0.0.0/24")}})
		if err != nil {
			t.Fatalf("delete of an unused subnet: %v", err)
		}
		env.Clock.Advance(2 * time.Minute)
		env.Clock.Resume()
		a = must[*hcloud.Action](t)(c.Server.AttachToNetwork(ctx, other, hcloud.ServerAttachToNetworkOpts{Network: nw, IP: net.ParseIP("10.0.1.50")}))
		wait(t, env, a)
	})

	t.Run("delete_subnet fails for a while after the last detach", func(t *testing.T) {
		n2 := must[*hcloud.Network](t)(c.Network.Create(ctx, hcloud.NetworkCreateOpts{
			Name: "tmp", IPRange: mustCIDR("10.50.0.0/16"),
			Subnets: []hcloud.NetworkSubnet{{Type: "cloud", IPRange: mustCIDR("10.50.1.0/24"), NetworkZone: "eu-central"}},
		}))
		srv := createServer(t, env, serverSpec{name: "tmp-1", networks: []*hcloud.Network{n2}})
		wait(t, env, must[*hcloud.Action](t)(c.Server.DetachFromNetwork(ctx, srv, hcloud.ServerDetachFromNetworkOpts{Network: n2})))
		env.Clock.Pause()
		defer env.Clock.Resume()
		del := hcloud.NetworkDeleteSubnetOpts{Subnet: hcloud.NetworkSubnet{IPRange: mustCIDR("10.50.1.0/24")}}
		_, _, err := c.Network.DeleteSubnet(ctx, n2, del)
		wantCode(t, err, hcloud.ErrorCodeServiceError)
		env.Clock.Advance(time.Minute)
		if _, _, err := c.Network.DeleteSubnet(ctx, n2, del); err != nil {
			t.Fatalf("delete_subnet after the release window: %v", err)
		}
	})

	t.Run("protection and delete auto-detaches", func(t *testing.T) {
		wait(t, env, must[*hcloud.Action](t)(c.Network.ChangeProtection(ctx, nw, hcloud.NetworkChangeProtectionOpts{Delete: hcloud.Ptr(true)})))
		_, err := c.Network.Delete(ctx, nw)
		wantCode(t, err, hcloud.ErrorCodeProtected)
		wait(t, env, must[*hcloud.Action](t)(c.Network.ChangeProtection(ctx, nw, hcloud.NetworkChangeProtectionOpts{Delete: hcloud.Ptr(false)})))
		if _, err := c.Network.Delete(ctx, nw); err != nil {
			t.Fatalf("delete network: %v", err)
		}
		srv := must[*hcloud.Server](t)(c.Server.GetByName(ctx, "n1"))
		if len(srv.PrivateNet) != 0 {
			t.Fatalf("server still attached after network delete: %+v", srv.PrivateNet)
		}
	})
}
