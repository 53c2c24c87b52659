package hcloudsim_test

import (
	"context"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestNameUniquenessPerKind creates every kind twice with the same name.
func TestNameUniquenessPerKind(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	certPEM, keyPEM := selfSigned(t)
	keyN := 0
	tests := []struct {
		kind   string
		create func(ctx context.Context, name string) error
	}{
		{"server", func(ctx context.Context, name string) error {
			_, _, err := c.Server.Create(ctx, hcloud.ServerCreateOpts{Name: name, ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}})
			return err
		}},
		{"network", func(ctx context.Context, name string) error {
			_, _, err := c.Network.Create(ctx, hcloud.NetworkCreateOpts{Name: name, IPRange: mustCIDR("10.0.0.0/16")})
			return err
		}},
		{"firewall", func(ctx context.Context, name string) error {
			_, _, err := c.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: name})
			return err
		}},
		{"load balancer", func(ctx context.Context, name string) error {
			_, _, err := c.LoadBalancer.Create(ctx, hcloud.LoadBalancerCreateOpts{Name: name, LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb11"}, Location: &hcloud.Location{Name: "fsn1"}})
			return err
		}},
		{"placement group", func(ctx context.Context, name string) error {
			_, _, err := c.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: name, Type: "spread"})
			return err
		}},
		{"floating ip", func(ctx context.Context, name string) error {
			_, _, err := c.FloatingIP.Create(ctx, hcloud.FloatingIPCreateOpts{Name: &name, Type: "ipv4", HomeLocation: &hcloud.Location{Name: "fsn1"}})
			return err
		}},
		{"ssh key", func(ctx context.Context, name string) error {
			keyN++
			_, _, err := c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: name, PublicKey: fakeSSHKey(keyN)})
			return err
		}},
		{"primary ip", func(ctx context.Context, name string) error {
			_, _, err := c.PrimaryIP.Create(ctx, hcloud.PrimaryIPCreateOpts{Name: name, Type: "ipv4", AssigneeType: "server", Location: "fsn1"})
			return err
		}},
		{"certificate", func(ctx context.Context, name string) error {
			_, _, err := c.Certificate.Create(ctx, hcloud.CertificateCreateOpts{Name: name, Certificate: certPEM, PrivateKey: keyPEM})
			return err
		}},
		{"volume", func(ctx context.Context, name string) error {
			_, _, err := c.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: name, Size: 10, Location: &hcloud.Location{Name: "fsn1"}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			ctx := testCtx(t)
			if err := tt.create(ctx, "dup"); err != nil {
				t.Fatalf("first create: %v", err)
			}
			wantCode(t, tt.create(ctx, "dup"), hcloud.ErrorCodeUniquenessError)
		})
	}
}
