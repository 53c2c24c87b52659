package layout

import (
	"math"
	"math/big"
	"net/netip"
	"strings"
	"testing"
)

func TestCIDRSubnet(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		base    string
		newbits int
		netnum  int64
		want    string
		wantErr string
	}{
		{name: "terraform docs example", base: "10.3.0.0/16", newbits: 8, netnum: 5, want: "10.3.5.0/24"},
		{name: "default node CIDR", base: "10.0.0.0/16", newbits: 3, netnum: 2, want: "10.0.64.0/19"},
		{name: "default service CIDR /8", base: "10.0.0.0/8", newbits: 4, netnum: 6, want: "10.96.0.0/12"},
		{name: "README bare-metal subnet", base: "10.0.0.0/16", newbits: 9, netnum: 176, want: "10.0.88.0/25"},
		{name: "last subnet", base: "10.0.64.0/19", newbits: 6, netnum: 63, want: "10.0.95.128/25"},
		{name: "zero newbits is the prefix itself", base: "10.0.0.0/16", newbits: 0, netnum: 0, want: "10.0.0.0/16"},
		{name: "host bits in base are ignored", base: "10.0.12.34/16", newbits: 8, netnum: 1, want: "10.0.1.0/24"},
		{name: "to /32", base: "10.0.0.0/24", newbits: 8, netnum: 255, want: "10.0.0.255/32"},
		{name: "whole IPv4 space", base: "0.0.0.0/0", newbits: 1, netnum: 1, want: "128.0.0.0/1"},
		{name: "IPv6", base: "2001:db8::/32", newbits: 16, netnum: 0xabcd, want: "2001:db8:abcd::/48"},
		{name: "IPv6 /64 identity", base: "2a01:4f8:c0c:1234::/64", newbits: 0, netnum: 0, want: "2a01:4f8:c0c:1234::/64"},
		{name: "IPv6 host bits ignored", base: "2a01:4f8:c0c:1234::1/64", newbits: 0, netnum: 0, want: "2a01:4f8:c0c:1234::/64"},
		{name: "IPv6 to /128", base: "2001:db8::/64", newbits: 64, netnum: math.MaxInt64, want: "2001:db8::7fff:ffff:ffff:ffff/128"},

		{name: "prefix overflow", base: "10.0.0.0/16", newbits: 17, netnum: 0, wantErr: "insufficient address space to extend prefix of 16 by 17"},
		{name: "IPv6 prefix overflow", base: "2001:db8::/64", newbits: 65, netnum: 0, wantErr: "insufficient address space to extend prefix of 64 by 65"},
		{name: "huge newbits does not wrap", base: "10.0.0.0/16", newbits: math.MaxInt, netnum: 0, wantErr: "insufficient address space"},
		{name: "netnum overflow", base: "10.0.0.0/16", newbits: 3, netnum: 8, wantErr: "prefix extension of 3 does not accommodate a subnet numbered 8"},
		{name: "netnum overflow with zero newbits", base: "10.0.0.0/16", newbits: 0, netnum: 1, wantErr: "prefix extension of 0 does not accommodate a subnet numbered 1"},
		{name: "negative netnum", base: "10.0.0.0/16", newbits: 3, netnum: -1, wantErr: "netnum must not be negative"},
		{name: "negative newbits", base: "10.0.0.0/16", newbits: -1, netnum: 0, wantErr: "newbits must not be negative"},
		{name: "IPv4-mapped IPv6", base: "::ffff:10.0.0.0/104", newbits: 8, netnum: 1, wantErr: "IPv4-mapped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CIDRSubnet(netip.MustParsePrefix(tc.base), tc.newbits, tc.netnum)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got.String() != tc.want {
				t.Errorf("CIDRSubnet(%s, %d, %d) = %s, want %s", tc.base, tc.newbits, tc.netnum, got, tc.want)
			}
		})
	}
}

func TestCIDRSubnetBig(t *testing.T) {
	t.Parallel()
	twoTo100 := new(big.Int).Lsh(big.NewInt(1), 100)
	cases := []struct {
		name    string
		base    string
		newbits int
		netnum  *big.Int
		want    string
		wantErr string
	}{
		// 2^100 << (128-101) = 2^127: the top bit.
		{name: "netnum beyond int64", base: "::/0", newbits: 101, netnum: twoTo100, want: "8000::/101"},
		{name: "netnum beyond newbits", base: "::/0", newbits: 100, netnum: twoTo100, wantErr: "does not accommodate a subnet numbered 1267650600228229401496703205376"},
		{name: "nil netnum", base: "::/0", newbits: 1, netnum: nil, wantErr: "nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CIDRSubnetBig(netip.MustParsePrefix(tc.base), tc.newbits, tc.netnum)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got.String() != tc.want {
				t.Errorf("CIDRSubnetBig = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCIDRHost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prefix  string
		hostnum int64
		want    string
		wantErr string
	}{
		{name: "gateway", prefix: "10.0.0.0/16", hostnum: 1, want: "10.0.0.1"},
		{name: "network address", prefix: "10.0.0.0/16", hostnum: 0, want: "10.0.0.0"},
		{name: "carry into third octet", prefix: "10.0.0.0/16", hostnum: 258, want: "10.0.1.2"},
		{name: "last host", prefix: "10.0.0.0/16", hostnum: 65535, want: "10.0.255.255"},
		{name: "-1 is broadcast", prefix: "10.0.0.0/16", hostnum: -1, want: "10.0.255.255"},
		{name: "-2 is the one before", prefix: "10.0.0.0/16", hostnum: -2, want: "10.0.255.254"},
		{name: "control-plane VIP", prefix: "10.0.64.0/25", hostnum: -2, want: "10.0.64.126"},
		{name: "kube-api LB", prefix: "10.0.64.128/25", hostnum: -2, want: "10.0.64.254"},
		{name: "ingress LB", prefix: "10.0.64.128/25", hostnum: -4, want: "10.0.64.252"},
		{name: "-size is the network address", prefix: "10.0.0.0/16", hostnum: -65536, want: "10.0.0.0"},
		{name: "host bits in prefix are ignored", prefix: "10.0.0.77/24", hostnum: 5, want: "10.0.0.5"},
		{name: "/32 host 0", prefix: "10.1.2.3/32", hostnum: 0, want: "10.1.2.3"},
		{name: "/32 host -1", prefix: "10.1.2.3/32", hostnum: -1, want: "10.1.2.3"},
		{name: "whole IPv4 space -1", prefix: "0.0.0.0/0", hostnum: -1, want: "255.255.255.255"},
		{name: "IPv6 host 1", prefix: "2a01:4f8:c0c:1234::/64", hostnum: 1, want: "2a01:4f8:c0c:1234::1"},
		{name: "IPv6 -1", prefix: "2001:db8::/64", hostnum: -1, want: "2001:db8::ffff:ffff:ffff:ffff"},
		{name: "IPv6 max int64", prefix: "::/0", hostnum: math.MaxInt64, want: "::7fff:ffff:ffff:ffff"},
		// -(-2^63)-1 = 2^63-1 back from 2^128-1 is 2^128-2^63.
		{name: "IPv6 min int64", prefix: "::/0", hostnum: math.MinInt64, want: "ffff:ffff:ffff:ffff:8000::"},

		{name: "beyond the end", prefix: "10.0.0.0/16", hostnum: 65536, wantErr: "prefix of 16 does not accommodate a host numbered 65536"},
		{name: "beyond the start", prefix: "10.0.0.0/16", hostnum: -65537, wantErr: "prefix of 16 does not accommodate a host numbered -65537"},
		{name: "/32 host 1", prefix: "10.1.2.3/32", hostnum: 1, wantErr: "prefix of 32 does not accommodate a host numbered 1"},
		{name: "/32 host -2", prefix: "10.1.2.3/32", hostnum: -2, wantErr: "does not accommodate"},
		{name: "/30 host -5", prefix: "10.0.0.0/30", hostnum: -5, wantErr: "does not accommodate"},
		{name: "IPv4 min int64", prefix: "0.0.0.0/0", hostnum: math.MinInt64, wantErr: "does not accommodate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CIDRHost(netip.MustParsePrefix(tc.prefix), tc.hostnum)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got.String() != tc.want {
				t.Errorf("CIDRHost(%s, %d) = %s, want %s", tc.prefix, tc.hostnum, got, tc.want)
			}
		})
	}
}

func TestCIDRInvalidPrefix(t *testing.T) {
	t.Parallel()
	cases := map[string]netip.Prefix{
		"zero":       {},
		"bad length": netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), 33),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := CIDRSubnet(p, 1, 0); err == nil {
				t.Errorf("CIDRSubnet(%v) succeeded", p)
			}
			if _, err := CIDRHost(p, 0); err == nil {
				t.Errorf("CIDRHost(%v) succeeded", p)
			}
		})
	}
	if _, err := CIDRHostBig(netip.MustParsePrefix("10.0.0.0/8"), nil); err == nil {
		t.Error("CIDRHostBig with nil hostnum succeeded")
	}
}

// checkErr fails t unless err matches wantErr: nil for "", else an error
// containing wantErr.
func checkErr(t *testing.T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr != "" && err == nil:
		t.Fatalf("expected an error containing %q, got none", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q does not contain %q", err, wantErr)
	}
}
