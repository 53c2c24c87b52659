package hcloudsim_test

import (
	"net"
	"strings"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestServerLifecycle(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)

	res := startServer(t, env, serverSpec{name: "cp-1", labels: map[string]string{"cluster": "a", "role": "cp"}})
	if res.Server.Status != hcloud.ServerStatusInitializing {
		t.Fatalf("status after create = %s, want initializing", res.Server.Status)
	}
	if res.RootPassword == "" {
		t.Fatal("root password missing for a server without SSH keys")
	}
	ip := res.Server.PublicNet.IPv4.IP
	if !ip.IsLoopback() || ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("public IPv4 %s must be loopback and not 127.0.0.1", ip)
	}
	if !strings.HasPrefix(res.Server.PublicNet.IPv6.Network.String(), "2001:db8:") {
		t.Fatalf("IPv6 %s not from the documentation prefix", res.Server.PublicNet.IPv6.Network)
	}
	if len(res.NextActions) != 1 || res.NextActions[0].Command != "start_server" {
		t.Fatalf("next actions = %+v, want [start_server]", res.NextActions)
	}
	wait(t, env, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
	srv := must[*hcloud.Server](t)(c.Server.GetByID(ctx, res.Server.ID))
	if srv.Status != hcloud.ServerStatusRunning || srv.Locked {
		t.Fatalf("after actions: status %s locked %v, want running unlocked", srv.Status, srv.Locked)
	}

	t.Run("update name and labels", func(t *testing.T) {
		upd := must[*hcloud.Server](t)(c.Server.Update(ctx, srv, hcloud.ServerUpdateOpts{Name: "cp-one", Labels: map[string]string{"cluster": "a"}}))
		if upd.Name != "cp-one" || len(upd.Labels) != 1 {
			t.Fatalf("update: %s %v", upd.Name, upd.Labels)
		}
		got := must[*hcloud.Server](t)(c.Server.GetByName(ctx, "cp-one"))
		if got == nil || got.ID != srv.ID {
			t.Fatal("GetByName did not find renamed server")
		}
	})

	t.Run("power cycle", func(t *testing.T) {
		steps := []struct {
			name string
			do   func() (*hcloud.Action, *hcloud.Response, error)
			want hcloud.ServerStatus
		}{
			{"poweroff", func() (*hcloud.Action, *hcloud.Response, error) { return c.Server.Poweroff(ctx, srv) }, hcloud.ServerStatusOff},
			{"poweron", func() (*hcloud.Action, *hcloud.Response, error) { return c.Server.Poweron(ctx, srv) }, hcloud.ServerStatusRunning},
			{"reboot", func() (*hcloud.Action, *hcloud.Response, error) { return c.Server.Reboot(ctx, srv) }, hcloud.ServerStatusRunning},
			{"reset", func() (*hcloud.Action, *hcloud.Response, error) { return c.Server.Reset(ctx, srv) }, hcloud.ServerStatusRunning},
		}
		for _, st := range steps {
			a := must[*hcloud.Action](t)(st.do())
			wait(t, env, a)
			got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
			if got.Status != st.want {
				t.Fatalf("%s: status %s, want %s", st.name, got.Status, st.want)
			}
		}
	})

	t.Run("shutdown is ACPI: success before off", func(t *testing.T) {
		a := must[*hcloud.Action](t)(c.Server.Shutdown(ctx, srv))
		wait(t, env, a)
		env.Eventually(t, 5*60e9, func() bool {
			got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
			return got.Status == hcloud.ServerStatusOff
		})
	})

	t.Run("rescue applies at next boot", func(t *testing.T) {
		r := must[hcloud.ServerEnableRescueResult](t)(c.Server.EnableRescue(ctx, srv, hcloud.ServerEnableRescueOpts{Type: hcloud.ServerRescueTypeLinux64}))
		if r.RootPassword == "" {
			t.Fatal("enable_rescue returned no root password")
		}
		wait(t, env, r.Action)
		if got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID)); !got.RescueEnabled {
			t.Fatal("rescue_enabled false after enable_rescue")
		}
		wait(t, env, must[*hcloud.Action](t)(c.Server.Poweron(ctx, srv)))
		if got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID)); got.RescueEnabled {
			t.Fatal("rescue flag should clear after booting into rescue")
		}
	})

	t.Run("snapshot and server from snapshot", func(t *testing.T) {
		env.Clock.Pause()
		r := must[hcloud.ServerCreateImageResult](t)(c.Server.CreateImage(ctx, srv, &hcloud.ServerCreateImageOpts{
			Type: hcloud.ImageTypeSnapshot, Description: hcloud.Ptr("talos v1.13.9"), Labels: map[string]string{"talos-version": "v1.13.9"},
		}))
		if r.Image.Status != hcloud.ImageStatusCreating {
			t.Fatalf("image status %s, want creating", r.Image.Status)
		}
		if _, _, err := c.Server.Poweron(ctx, srv); !hcloud.IsError(err, hcloud.ErrorCodeLocked) {
			t.Fatalf("poweron during create_image: %v, want locked", err)
		}
		env.Clock.Resume()
		wait(t, env, r.Action)
		imgs, err := c.Image.AllWithOpts(ctx, hcloud.ImageListOpts{Type: []hcloud.ImageType{hcloud.ImageTypeSnapshot}, ListOpts: hcloud.ListOpts{LabelSelector: "talos-version=v1.13.9"}})
		if err != nil || len(imgs) != 1 || imgs[0].Status != hcloud.ImageStatusAvailable || imgs[0].Description != "talos v1.13.9" {
			t.Fatalf("snapshot lookup: %v %+v", err, imgs)
		}
		res := must[hcloud.ServerCreateResult](t)(c.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name: "from-snap-2", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: imgs[0], Location: &hcloud.Location{Name: "nbg1"},
		}))
		wait(t, env, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, res.Server.ID))
		if got.Image == nil || got.Image.ID != imgs[0].ID || got.Status != hcloud.ServerStatusRunning {
			t.Fatalf("server from snapshot: image %+v status %s", got.Image, got.Status)
		}
		upd := must[*hcloud.Image](t)(c.Image.Update(ctx, imgs[0], hcloud.ImageUpdateOpts{Labels: map[string]string{"x": "y"}}))
		if upd.Labels["x"] != "y" {
			t.Fatal("image label update lost")
		}
	})

	t.Run("rebuild", func(t *testing.T) {
		r := must[hcloud.ServerRebuildResult](t)(c.Server.RebuildWithResult(ctx, srv, hcloud.ServerRebuildOpts{Image: &hcloud.Image{Name: "ubuntu-24.04"}}))
		wait(t, env, r.Action)
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		if got.Image == nil || got.Image.Name != "ubuntu-24.04" || got.Status != hcloud.ServerStatusRunning {
			t.Fatalf("after rebuild: %+v %s", got.Image, got.Status)
		}
	})

	t.Run("dns ptr", func(t *testing.T) {
		a := must[*hcloud.Action](t)(c.Server.ChangeDNSPtr(ctx, srv, srv.PublicNet.IPv4.IP.String(), hcloud.Ptr("cp.example.com")))
		wait(t, env, a)
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		if got.PublicNet.IPv4.DNSPtr != "cp.example.com" {
			t.Fatalf("dns ptr = %q", got.PublicNet.IPv4.DNSPtr)
		}
		_, _, err := c.Server.ChangeDNSPtr(ctx, srv, "127.9.9.9", hcloud.Ptr("x"))
		wantCode(t, err, hcloud.ErrorCodeInvalidInput)
	})

	t.Run("protection blocks delete", func(t *testing.T) {
		a := must[*hcloud.Action](t)(c.Server.ChangeProtection(ctx, srv, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(true), Rebuild: hcloud.Ptr(true)}))
		wait(t, env, a)
		_, _, err := c.Server.DeleteWithResult(ctx, srv)
		wantCode(t, err, hcloud.ErrorCodeProtected)
		wait(t, env, must[*hcloud.Action](t)(c.Server.ChangeProtection(ctx, srv, hcloud.ServerChangeProtectionOpts{Delete: hcloud.Ptr(false), Rebuild: hcloud.Ptr(false)})))
	})

	t.Run("delete: deleting then gone", func(t *testing.T) {
		env.Clock.Pause()
		r := must[*hcloud.ServerDeleteResult](t)(c.Server.DeleteWithResult(ctx, srv))
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		if got == nil || got.Status != hcloud.ServerStatusDeleting || !got.Locked {
			t.Fatalf("right after delete: %+v", got)
		}
		env.Clock.Resume()
		wait(t, env, r.Action)
		if got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID)); got != nil {
			t.Fatal("server still exists after delete_server finished")
		}
	})
}

func TestServerCreateValidation(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	createServer(t, env, serverSpec{name: "taken"})
	tests := []struct {
		name string
		opts hcloud.ServerCreateOpts
		code hcloud.ErrorCode
	}{
		{"duplicate name", hcloud.ServerCreateOpts{Name: "taken"}, hcloud.ErrorCodeUniquenessError},
		{"invalid hostname", hcloud.ServerCreateOpts{Name: "bad_name!"}, hcloud.ErrorCodeInvalidInput},
		{"unknown server type", hcloud.ServerCreateOpts{Name: "x", ServerType: &hcloud.ServerType{Name: "cx999"}}, hcloud.ErrorCodeInvalidInput},
		{"unknown location", hcloud.ServerCreateOpts{Name: "x", Location: &hcloud.Location{Name: "mars1"}}, hcloud.ErrorCodeInvalidInput},
		{"type not offered in location", hcloud.ServerCreateOpts{Name: "x", ServerType: &hcloud.ServerType{Name: "cax11"}, Location: &hcloud.Location{Name: "ash"}}, hcloud.ErrorCodeInvalidInput},
		{"deprecated type", hcloud.ServerCreateOpts{Name: "x", ServerType: &hcloud.ServerType{Name: "cx11"}}, hcloud.ErrorCodeInvalidInput},
		{"unknown image", hcloud.ServerCreateOpts{Name: "x", Image: &hcloud.Image{Name: "windows-11"}}, hcloud.ErrorCodeInvalidInput},
		{"user_data over 32 KiB", hcloud.ServerCreateOpts{Name: "x", UserData: strings.Repeat("a", 32*1024+1)}, hcloud.ErrorCodeInvalidInput},
		{"bad label", hcloud.ServerCreateOpts{Name: "x", Labels: map[string]string{"-bad": "v"}}, hcloud.ErrorCodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.ServerType == nil {
				opts.ServerType = &hcloud.ServerType{Name: "cx22"}
			}
			if opts.Image == nil {
				opts.Image = &hcloud.Image{Name: "debian-13"}
			}
			if opts.Location == nil {
				opts.Location = &hcloud.Location{Name: "fsn1"}
			}
			_, _, err := c.Server.Create(ctx, opts)
			wantCode(t, err, tt.code)
		})
	}
	t.Run("invalid_input carries field details", func(t *testing.T) {
		_, _, err := c.Server.Create(ctx, hcloud.ServerCreateOpts{Name: "x", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, UserData: strings.Repeat("a", 40000)})
		var he hcloud.Error
		if !errorsAs(err, &he) {
			t.Fatalf("not an hcloud.Error: %v", err)
		}
		d, ok := he.Details.(hcloud.ErrorDetailsInvalidInput)
		if !ok || len(d.Fields) != 1 || d.Fields[0].Name != "user_data" {
			t.Fatalf("details = %#v", he.Details)
		}
	})
	t.Run("arm image resolved by name", func(t *testing.T) {
		s := createServer(t, env, serverSpec{name: "arm-1", typ: "cax11"})
		if s.Image.Architecture != hcloud.ArchitectureARM {
			t.Fatalf("image arch %s, want arm", s.Image.Architecture)
		}
	})
}
