package hcloudsim_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestPlacementGroups(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	pg := must[hcloud.PlacementGroupCreateResult](t)(c.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: "cp", Type: hcloud.PlacementGroupTypeSpread})).PlacementGroup
	for i := range 10 {
		startServer(t, env, serverSpec{name: fmt.Sprintf("s%d", i), pg: pg})
	}
	_, _, err := c.Server.Create(ctx, hcloud.ServerCreateOpts{Name: "s10", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, PlacementGroup: pg})
	wantCode(t, err, hcloud.ErrorCodePlacementError)
	got := must[*hcloud.PlacementGroup](t)(c.PlacementGroup.GetByID(ctx, pg.ID))
	if len(got.Servers) != 10 {
		t.Fatalf("placement group has %d servers", len(got.Servers))
	}
	_, err = c.PlacementGroup.Delete(ctx, pg)
	wantCode(t, err, hcloud.ErrorCodeResourceInUse)

	off := createServer(t, env, serverSpec{name: "off", noStart: true})
	pg2 := must[hcloud.PlacementGroupCreateResult](t)(c.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: "w", Type: "spread"})).PlacementGroup
	running := createServer(t, env, serverSpec{name: "on"})
	_, _, err = c.Server.AddToPlacementGroup(ctx, running, pg2)
	wantCode(t, err, hcloud.ErrorCodeServerNotStopped)
	wait(t, env, must[*hcloud.Action](t)(c.Server.AddToPlacementGroup(ctx, off, pg2)))
	wait(t, env, must[*hcloud.Action](t)(c.Server.RemoveFromPlacementGroup(ctx, off)))
	if _, err := c.PlacementGroup.Delete(ctx, pg2); err != nil {
		t.Fatalf("delete empty group: %v", err)
	}
}

func TestFloatingIPs(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "s"})
	res := must[hcloud.FloatingIPCreateResult](t)(c.FloatingIP.Create(ctx, hcloud.FloatingIPCreateOpts{
		Type: hcloud.FloatingIPTypeIPv4, HomeLocation: &hcloud.Location{Name: "fsn1"}, Name: hcloud.Ptr("vip"), Labels: map[string]string{"a": "b"},
	}))
	fip := res.FloatingIP
	if res.Action != nil || !fip.IP.IsLoopback() {
		t.Fatalf("create: action %v ip %s", res.Action, fip.IP)
	}
	wait(t, env, must[*hcloud.Action](t)(c.FloatingIP.Assign(ctx, fip, srv)))
	got := must[*hcloud.FloatingIP](t)(c.FloatingIP.GetByID(ctx, fip.ID))
	if got.Server == nil || got.Server.ID != srv.ID {
		t.Fatalf("not assigned: %+v", got.Server)
	}
	_, err := c.FloatingIP.Delete(ctx, fip)
	wantCode(t, err, "must_be_unassigned")
	wait(t, env, must[*hcloud.Action](t)(c.FloatingIP.ChangeDNSPtr(ctx, fip, fip.IP.String(), hcloud.Ptr("vip.example.com"))))
	wait(t, env, must[*hcloud.Action](t)(c.FloatingIP.Unassign(ctx, fip)))
	wait(t, env, must[*hcloud.Action](t)(c.FloatingIP.ChangeProtection(ctx, fip, hcloud.FloatingIPChangeProtectionOpts{Delete: hcloud.Ptr(true)})))
	_, err = c.FloatingIP.Delete(ctx, fip)
	wantCode(t, err, hcloud.ErrorCodeProtected)
	wait(t, env, must[*hcloud.Action](t)(c.FloatingIP.ChangeProtection(ctx, fip, hcloud.FloatingIPChangeProtectionOpts{Delete: hcloud.Ptr(false)})))
	if got := must[*hcloud.FloatingIP](t)(c.FloatingIP.GetByID(ctx, fip.ID)); got.DNSPtr[fip.IP.String()] != "vip.example.com" {
		t.Fatalf("dns ptr %v", got.DNSPtr)
	}
	if _, err := c.FloatingIP.Delete(ctx, fip); err != nil {
		t.Fatal(err)
	}
}

// fakeSSHKey builds a syntactically valid authorized_keys line with a unique blob.
func fakeSSHKey(i int) string {
	blob := append([]byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20"), []byte(fmt.Sprintf("%032d", i))...)
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " test@sim"
}

func TestSSHKeys(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	k := must[*hcloud.SSHKey](t)(c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "admin", PublicKey: fakeSSHKey(1)}))
	if len(k.Fingerprint) != 47 {
		t.Fatalf("fingerprint %q", k.Fingerprint)
	}
	tests := []struct {
		name string
		opts hcloud.SSHKeyCreateOpts
		code hcloud.ErrorCode
	}{
		{"same name", hcloud.SSHKeyCreateOpts{Name: "admin", PublicKey: fakeSSHKey(2)}, hcloud.ErrorCodeUniquenessError},
		{"same fingerprint", hcloud.SSHKeyCreateOpts{Name: "other", PublicKey: fakeSSHKey(1)}, hcloud.ErrorCodeUniquenessError},
		{"garbage key", hcloud.SSHKeyCreateOpts{Name: "bad", PublicKey: "not a key"}, hcloud.ErrorCodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.SSHKey.Create(ctx, tt.opts)
			wantCode(t, err, tt.code)
		})
	}
	byFP := must[*hcloud.SSHKey](t)(c.SSHKey.GetByFingerprint(ctx, k.Fingerprint))
	if byFP == nil || byFP.ID != k.ID {
		t.Fatal("GetByFingerprint failed")
	}
	r := must[hcloud.ServerCreateResult](t)(c.Server.Create(ctx, hcloud.ServerCreateOpts{Name: "keyed", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, SSHKeys: []*hcloud.SSHKey{k}}))
	if r.RootPassword != "" {
		t.Fatal("root_password must be null when SSH keys are given")
	}
	upd := must[*hcloud.SSHKey](t)(c.SSHKey.Update(ctx, k, hcloud.SSHKeyUpdateOpts{Name: "admin2", Labels: map[string]string{"x": "1"}}))
	if upd.Name != "admin2" {
		t.Fatal("rename failed")
	}
	if _, err := c.SSHKey.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "api.example.com"}, DNSNames: []string{"api.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

func TestCertificates(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	certPEM, keyPEM := selfSigned(t)
	cert := must[*hcloud.Certificate](t)(c.Certificate.Create(ctx, hcloud.CertificateCreateOpts{Name: "api", Certificate: certPEM, PrivateKey: keyPEM, Labels: map[string]string{"cluster": "a"}}))
	if cert.Type != hcloud.CertificateTypeUploaded || len(cert.DomainNames) != 1 || cert.Fingerprint == "" {
		t.Fatalf("certificate %+v", cert)
	}
	_, _, err := c.Certificate.Create(ctx, hcloud.CertificateCreateOpts{Name: "bad", Certificate: certPEM, PrivateKey: "nope"})
	wantCode(t, err, hcloud.ErrorCodeInvalidInput)
	list := must[[]*hcloud.Certificate](t)(c.Certificate.List(ctx, hcloud.CertificateListOpts{ListOpts: hcloud.ListOpts{LabelSelector: "cluster=a"}}))
	if len(list) != 1 {
		t.Fatalf("label filter: %d", len(list))
	}
	if _, err := c.Certificate.Delete(ctx, cert); err != nil {
		t.Fatal(err)
	}
}

// TestSSHKeyPublicKeyVerbatim: the API returns public_key exactly as sent,
// trailing newline included; the Terraform provider compares it with its
// input and fails with "inconsistent result after apply" otherwise.
func TestSSHKeyPublicKeyVerbatim(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	sent := fakeSSHKey(7) + "\n"
	k := must[*hcloud.SSHKey](t)(c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "tf", PublicKey: sent}))
	got := must[*hcloud.SSHKey](t)(c.SSHKey.GetByID(ctx, k.ID))
	if k.PublicKey != sent || got.PublicKey != sent {
		t.Fatalf("public_key create %q, get %q, want %q", k.PublicKey, got.PublicKey, sent)
	}
	trimmed := must[*hcloud.SSHKey](t)(c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "plain", PublicKey: fakeSSHKey(8)}))
	_, _, err := c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "again", PublicKey: "  " + fakeSSHKey(8) + "\r\n"})
	wantCode(t, err, hcloud.ErrorCodeUniquenessError) // the fingerprint ignores the whitespace
	if trimmed.PublicKey != fakeSSHKey(8) {
		t.Fatalf("public_key %q", trimmed.PublicKey)
	}
}

func TestVolumes(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "s"})
	res := must[hcloud.VolumeCreateResult](t)(c.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: "data", Size: 10, Server: srv, Format: hcloud.Ptr("ext4")}))
	wait(t, env, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
	v := must[*hcloud.Volume](t)(c.Volume.GetByID(ctx, res.Volume.ID))
	if v.Server == nil || v.Server.ID != srv.ID || v.Status != hcloud.VolumeStatusAvailable {
		t.Fatalf("volume %+v", v)
	}
	_, err := c.Volume.Delete(ctx, v)
	wantCode(t, err, hcloud.ErrorCodeVolumeAlreadyAttached)
	wait(t, env, must[*hcloud.Action](t)(c.Volume.Detach(ctx, v)))
	if _, err := c.Volume.Delete(ctx, v); err != nil {
		t.Fatalf("delete detached volume: %v", err)
	}
}

func TestCatalog(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	locs := must[[]*hcloud.Location](t)(c.Location.List(ctx, hcloud.LocationListOpts{}))
	if len(locs) != 6 {
		t.Fatalf("%d locations", len(locs))
	}
	zones := map[string]hcloud.NetworkZone{}
	for _, l := range locs {
		zones[l.Name] = l.NetworkZone
	}
	if zones["hel1"] != "eu-central" || zones["ash"] != "us-east" || zones["hil"] != "us-west" || zones["sin"] != "ap-southeast" {
		t.Fatalf("zones %v", zones)
	}
	types, err := c.ServerType.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var deprecated int
	for _, st := range types {
		if st.IsDeprecated() {
			deprecated++
		}
	}
	if len(types) < 10 || deprecated != 1 {
		t.Fatalf("%d server types, %d deprecated", len(types), deprecated)
	}
	cax := must[*hcloud.ServerType](t)(c.ServerType.GetByName(ctx, "cax11"))
	if cax.Architecture != hcloud.ArchitectureARM || len(cax.Locations) != 3 {
		t.Fatalf("cax11 %+v", cax)
	}
	if lbt, err := c.LoadBalancerType.All(ctx); err != nil || len(lbt) != 3 {
		t.Fatalf("lb types %d %v", len(lbt), err)
	}
	if dcs, err := c.Datacenter.All(ctx); err != nil || len(dcs) != 6 {
		t.Fatalf("datacenters %d %v", len(dcs), err)
	}
	p := must[hcloud.Pricing](t)(c.Pricing.Get(ctx))
	if p.Currency != "EUR" || len(p.ServerTypes) != len(types) || len(p.LoadBalancerTypes) != 3 {
		t.Fatalf("pricing %+v", p)
	}
	img := must[*hcloud.Image](t)(c.Image.GetForArchitecture(ctx, "ubuntu-24.04", hcloud.ArchitectureARM))
	if img == nil || img.Architecture != hcloud.ArchitectureARM {
		t.Fatalf("image for arm: %+v", img)
	}
	sys, err := c.Image.AllWithOpts(ctx, hcloud.ImageListOpts{Type: []hcloud.ImageType{hcloud.ImageTypeSystem}})
	if err != nil || len(sys) != 12 { // deprecated ubuntu-20.04 hidden by default
		t.Fatalf("system images %d %v", len(sys), err)
	}
	_, err = c.Image.Delete(ctx, sys[0])
	wantCode(t, err, hcloud.ErrorCodeForbidden)
}
