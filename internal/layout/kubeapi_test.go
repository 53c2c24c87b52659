package layout

import (
	"net/netip"
	"testing"
)

func TestKubeAPIPrivateIPv4(t *testing.T) {
	t.Parallel()
	n, err := ComputeNetwork(NetworkInput{Network: pfx("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	primary := netip.MustParseAddr("10.0.64.3")
	cases := []struct {
		name    string
		lb, vip bool
		want    string
	}{
		{name: "load balancer wins", lb: true, vip: true, want: "10.0.64.254"},
		{name: "private VIP by default", vip: true, want: "10.0.64.126"},
		{name: "primary control plane otherwise", want: "10.0.64.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkAddr(t, "KubeAPIPrivateIPv4", n.KubeAPIPrivateIPv4(tc.lb, tc.vip, primary), tc.want)
		})
	}
}

func TestKubeAPIHost(t *testing.T) {
	t.Parallel()
	a := netip.MustParseAddr
	all := KubeAPIHostInput{
		Hostname:               "api.example.com",
		PrivateAccess:          true,
		PrivateIPv4:            a("10.0.64.126"),
		LoadBalancerPublic:     true,
		LoadBalancerPublicIPv4: a("203.0.113.10"),
		LoadBalancerPublicIPv6: a("2001:db8::10"),
		PublicVIP:              a("203.0.113.20"),
		PrimaryPublicIPv4:      a("203.0.113.30"),
		PrimaryPublicIPv6:      a("2001:db8::30"),
	}
	without := func(f func(*KubeAPIHostInput)) KubeAPIHostInput {
		in := all
		f(&in)
		return in
	}
	noHost := without(func(in *KubeAPIHostInput) { in.Hostname = "" })
	public := without(func(in *KubeAPIHostInput) { in.Hostname = ""; in.PrivateAccess = false })
	cases := []struct {
		name string
		in   KubeAPIHostInput
		want string
	}{
		{"hostname first", all, "api.example.com"},
		{"private access uses the private IP", noHost, "10.0.64.126"},
		{"public load balancer IPv4", public, "203.0.113.10"},
		{"public load balancer IPv6", without(func(in *KubeAPIHostInput) {
			*in = public
			in.LoadBalancerPublicIPv4 = netip.Addr{}
		}), "2001:db8::10"},
		{"load balancer without public interface is skipped", without(func(in *KubeAPIHostInput) {
			*in = public
			in.LoadBalancerPublic = false
		}), "203.0.113.20"},
		{"primary public IPv4 by default", without(func(in *KubeAPIHostInput) {
			*in = public
			in.LoadBalancerPublic = false
			in.PublicVIP = netip.Addr{}
		}), "203.0.113.30"},
		{"primary public IPv6 without IPv4", KubeAPIHostInput{PrimaryPublicIPv6: a("2001:db8::30")}, "2001:db8::30"},
		{"nothing known", KubeAPIHostInput{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := KubeAPIHost(tc.in); got != tc.want {
				t.Errorf("KubeAPIHost = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKubeAPIURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ host, want string }{
		{"203.0.113.10", "https://203.0.113.10:6443"},
		{"api.example.com", "https://api.example.com:6443"},
		{"2001:db8::10", "https://[2001:db8::10]:6443"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			if got := KubeAPIURL(tc.host); got != tc.want {
				t.Errorf("KubeAPIURL(%q) = %q, want %q", tc.host, got, tc.want)
			}
		})
	}
}
