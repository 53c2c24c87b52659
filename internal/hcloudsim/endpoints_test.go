package hcloudsim_test

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestVolumeResize: a volume only grows, up to 10240 GB; resize_volume locks
// the volume and the new size shows once it succeeded.
func TestVolumeResize(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	res := must[hcloud.VolumeCreateResult](t)(c.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: "data", Size: 20, Location: &hcloud.Location{Name: "fsn1"}}))
	wait(t, env, res.Action)
	v := res.Volume
	for _, size := range []int{10, 20, 10241} {
		_, _, err := c.Volume.Resize(ctx, v, size)
		wantCode(t, err, hcloud.ErrorCodeInvalidInput)
	}
	env.Clock.Pause()
	a := must[*hcloud.Action](t)(c.Volume.Resize(ctx, v, 50))
	if a.Command != "resize_volume" || a.Status != hcloud.ActionStatusRunning || len(a.Resources) != 1 || a.Resources[0].ID != v.ID {
		t.Fatalf("action %+v", a)
	}
	_, _, err := c.Volume.Resize(ctx, v, 60)
	wantCode(t, err, hcloud.ErrorCodeLocked)
	env.Clock.Resume()
	wait(t, env, a)
	if got := must[*hcloud.Volume](t)(c.Volume.GetByID(ctx, v.ID)); got.Size != 50 {
		t.Fatalf("size after resize %d, want 50", got.Size)
	}
}

// TestISOs: a small public catalogue with the list filters of GET /isos.
func TestISOs(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	all := must[[]*hcloud.ISO](t)(c.ISO.List(ctx, hcloud.ISOListOpts{}))
	if len(all) < 2 {
		t.Fatalf("%d ISOs", len(all))
	}
	for _, iso := range all {
		if iso.Type != hcloud.ISOTypePublic || iso.IsDeprecated() || iso.Name == "" || iso.Description == "" {
			t.Fatalf("ISO %+v", iso)
		}
	}
	byID := must[*hcloud.ISO](t)(c.ISO.GetByID(ctx, all[0].ID))
	byName := must[*hcloud.ISO](t)(c.ISO.GetByName(ctx, all[0].Name))
	if byID == nil || byName == nil || byID.ID != byName.ID {
		t.Fatalf("GetByID %+v, GetByName %+v", byID, byName)
	}
	if got := must[*hcloud.ISO](t)(c.ISO.GetByID(ctx, 999999)); got != nil {
		t.Fatalf("unknown ISO: %+v", got)
	}
	arm := must[[]*hcloud.ISO](t)(c.ISO.List(ctx, hcloud.ISOListOpts{Architecture: []hcloud.Architecture{hcloud.ArchitectureARM}}))
	armAndAny := must[[]*hcloud.ISO](t)(c.ISO.List(ctx, hcloud.ISOListOpts{Architecture: []hcloud.Architecture{hcloud.ArchitectureARM}, IncludeWildcardArchitecture: true}))
	if len(arm) == 0 || len(armAndAny) <= len(arm) {
		t.Fatalf("arm ISOs %d, with wildcard %d", len(arm), len(armAndAny))
	}
	for _, iso := range arm {
		if iso.Architecture == nil || *iso.Architecture != hcloud.ArchitectureARM {
			t.Fatalf("architecture filter let %+v through", iso)
		}
	}
	page, resp, err := c.ISO.List(ctx, hcloud.ISOListOpts{ListOpts: hcloud.ListOpts{PerPage: 1, Page: 2}})
	if err != nil || len(page) != 1 || resp.Meta.Pagination.TotalEntries != len(all) || page[0].ID != all[1].ID {
		t.Fatalf("page 2 of 1: %v %+v %v", page, resp.Meta.Pagination, err)
	}
}

// TestZones: the project has no DNS zones; the list has the real shape.
func TestZones(t *testing.T) {
	env := newEnv(t)
	zones, err := env.Client.Zone.All(testCtx(t))
	if err != nil || len(zones) != 0 {
		t.Fatalf("zones %v, %v", zones, err)
	}
	status, body := apiCall(t, env, http.MethodGet, "/zones", "")
	if status != http.StatusOK || !strings.Contains(body, `"zones":[]`) || !strings.Contains(body, `"total_entries":0`) {
		t.Fatalf("GET /zones: %d %s", status, body)
	}
	status, body = apiCall(t, env, http.MethodGet, "/zones?mode=tertiary", "")
	wantAPIError(t, status, body, "invalid_input", "mode")
	if z := must[*hcloud.Zone](t)(env.Client.Zone.GetByName(testCtx(t), "example.com")); z != nil {
		t.Fatalf("zone %+v", z)
	}
}

// TestServerBackups: enable_backup sets backup_window, disable_backup clears
// it and deletes the server's backups.
func TestServerBackups(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "b"})
	if srv.BackupWindow != "" {
		t.Fatalf("backup window %q before enable_backup", srv.BackupWindow)
	}
	a := must[*hcloud.Action](t)(c.Server.EnableBackup(ctx, srv, ""))
	if a.Command != "enable_backup" {
		t.Fatalf("command %s", a.Command)
	}
	wait(t, env, a)
	if got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID)); got.BackupWindow == "" {
		t.Fatal("backup_window still null after enable_backup")
	}
	backup := must[hcloud.ServerCreateImageResult](t)(c.Server.CreateImage(ctx, srv, &hcloud.ServerCreateImageOpts{Type: hcloud.ImageTypeBackup}))
	wait(t, env, backup.Action)
	a = must[*hcloud.Action](t)(c.Server.DisableBackup(ctx, srv))
	if a.Command != "disable_backup" {
		t.Fatalf("command %s", a.Command)
	}
	wait(t, env, a)
	if got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID)); got.BackupWindow != "" {
		t.Fatalf("backup_window %q after disable_backup", got.BackupWindow)
	}
	if img := must[*hcloud.Image](t)(c.Image.GetByID(ctx, backup.Image.ID)); img != nil {
		t.Fatalf("backup %d survived disable_backup", img.ID)
	}
}

// TestRequestConsoleAndResetPassword: the console URL never names an outside
// host; the password reset needs a running server (the guest agent does it).
func TestRequestConsoleAndResetPassword(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "console"})
	con := must[hcloud.ServerRequestConsoleResult](t)(c.Server.RequestConsole(ctx, srv))
	u, err := url.Parse(con.WSSURL)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || !net.ParseIP(u.Hostname()).IsLoopback() || con.Password == "" {
		t.Fatalf("console %q password %q", con.WSSURL, con.Password)
	}
	if con.Action.Command != "request_console" {
		t.Fatalf("command %s", con.Action.Command)
	}
	wait(t, env, con.Action)
	pw := must[hcloud.ServerResetPasswordResult](t)(c.Server.ResetPassword(ctx, srv))
	if pw.RootPassword == "" || pw.Action.Command != "reset_password" {
		t.Fatalf("reset_password %+v", pw)
	}
	wait(t, env, pw.Action)
	wait(t, env, must[*hcloud.Action](t)(c.Server.Poweroff(ctx, srv)))
	off := must[hcloud.ServerResetPasswordResult](t)(c.Server.ResetPassword(ctx, srv))
	if err := c.Action.WaitFor(ctx, off.Action); err == nil {
		t.Fatal("reset_password of a server that is off succeeded")
	}
}

// TestChangeAliasIPs: alias IPs replace the old ones, must lie in the
// server's subnet and must not be taken.
func TestChangeAliasIPs(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	nw := newCloudNetwork(t, env, "n")
	other := must[*hcloud.Network](t)(c.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: "other", IPRange: mustCIDR("10.1.0.0/16")}))
	srv := createServer(t, env, serverSpec{name: "a", networks: []*hcloud.Network{nw}})
	peer := createServer(t, env, serverSpec{name: "b", networks: []*hcloud.Network{nw}})
	change := func(n *hcloud.Network, ips ...string) (*hcloud.Action, *hcloud.Response, error) {
		opts := hcloud.ServerChangeAliasIPsOpts{Network: n, AliasIPs: []net.IP{}}
		for _, ip := range ips {
			opts.AliasIPs = append(opts.AliasIPs, net.ParseIP(ip))
		}
		return c.Server.ChangeAliasIPs(ctx, srv, opts)
	}
	aliases := func() []string {
		got := must[*hcloud.Server](t)(c.Server.GetByID(ctx, srv.ID))
		var out []string
		for _, ip := range got.PrivateNet[0].Aliases {
			out = append(out, ip.String())
		}
		return out
	}
	a := must[*hcloud.Action](t)(change(nw, "10.0.1.10", "10.0.1.11"))
	if a.Command != "change_alias_ips" {
		t.Fatalf("command %s", a.Command)
	}
	wait(t, env, a)
	if got := aliases(); !slices.Equal(got, []string{"10.0.1.10", "10.0.1.11"}) {
		t.Fatalf("aliases %v", got)
	}
	wait(t, env, must[*hcloud.Action](t)(change(nw, "10.0.1.11", "10.0.1.12")))
	if got := aliases(); !slices.Equal(got, []string{"10.0.1.11", "10.0.1.12"}) {
		t.Fatalf("aliases after replace %v", got)
	}
	refused := []struct {
		name string
		net  *hcloud.Network
		ips  []string
		code hcloud.ErrorCode
	}{
		{"outside the subnet", nw, []string{"10.0.2.5"}, hcloud.ErrorCodeInvalidInput},
		{"the peer's IP", nw, []string{peer.PrivateNet[0].IP.String()}, hcloud.ErrorCodeIPNotAvailable},
		{"its own IP", nw, []string{srv.PrivateNet[0].IP.String()}, hcloud.ErrorCodeIPNotAvailable},
		{"given twice", nw, []string{"10.0.1.20", "10.0.1.20"}, hcloud.ErrorCodeInvalidInput},
		{"network not attached", other, []string{"10.1.0.5"}, hcloud.ErrorCodeServerNotAttachedToNetwork},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := change(tt.net, tt.ips...)
			wantCode(t, err, tt.code)
		})
	}
	wait(t, env, must[*hcloud.Action](t)(change(nw)))
	if got := aliases(); len(got) != 0 {
		t.Fatalf("aliases after clearing %v", got)
	}
}
