package talos

import (
	stdx509 "crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
)

func TestTalosconfig(t *testing.T) {
	base := starterFile()
	tests := []struct {
		name          string
		cluster       string
		extra         string
		wantEndpoints []string
	}{
		{"public", base, "", []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1"}},
		{"public IPv4 only", base, "talos: {version: v1.13.9, publicIPv6Enabled: false}", []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}},
		{"private", strings.Replace(base, "access: public", "access: private", 1), "", []string{"10.0.64.1", "10.0.64.2", "10.0.64.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseCluster(t, tt.cluster, tt.extra)
			in := cloud(t, c)
			cps := slices.Clone(in.ControlPlanes)
			slices.Reverse(cps) // order of the input does not matter
			cfg, err := Talosconfig(c, bundle(t), cps)
			if err != nil {
				t.Fatal(err)
			}
			data, err := Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			back, err := clientconfig.FromBytes(data)
			if err != nil {
				t.Fatalf("talosconfig does not load: %v", err)
			}
			if back.Context != "demo" || len(back.Contexts) != 1 {
				t.Fatalf("context %q, %d contexts", back.Context, len(back.Contexts))
			}
			ctx := back.Contexts["demo"]
			if !slices.Equal(ctx.Endpoints, tt.wantEndpoints) {
				t.Errorf("endpoints %v, want %v", ctx.Endpoints, tt.wantEndpoints)
			}
			if !slices.Equal(ctx.Nodes, []string{"10.0.64.1"}) {
				t.Errorf("nodes %v, want the primary control plane's private IP", ctx.Nodes)
			}
			checkClientCert(t, ctx)
		})
	}
}

func checkClientCert(t *testing.T, ctx *clientconfig.Context) {
	t.Helper()
	caPEM, err := base64.StdEncoding.DecodeString(ctx.CA)
	if err != nil {
		t.Fatal(err)
	}
	if string(caPEM) != string(bundle(t).Certs.OS.Crt) {
		t.Error("talosconfig CA is not the bundle's OS CA")
	}
	crtPEM, err := base64.StdEncoding.DecodeString(ctx.Crt)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(crtPEM)
	if block == nil {
		t.Fatal("client certificate is not PEM")
	}
	crt, err := stdx509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(crt.Subject.Organization, []string{"os:admin"}) {
		t.Errorf("client certificate organization %v, want [os:admin]", crt.Subject.Organization)
	}
	pool := stdx509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if _, err := crt.Verify(stdx509.VerifyOptions{Roots: pool, KeyUsages: []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}, CurrentTime: crt.NotBefore.Add(1)}); err != nil {
		t.Errorf("client certificate does not chain to the OS CA: %v", err)
	}
	if ctx.Key == "" {
		t.Error("no client key")
	}
}

func TestTalosconfigErrors(t *testing.T) {
	c := starter(t)
	if _, err := Talosconfig(c, nil, cloud(t, c).ControlPlanes); err == nil {
		t.Error("no bundle accepted")
	}
	if _, err := Talosconfig(c, bundle(t), nil); err == nil {
		t.Error("no control planes accepted")
	}
}

func starterFile() string {
	return string(starterBytes())
}
