package layout

import (
	"net/netip"
	"testing"
)

func TestIPLabels(t *testing.T) {
	t.Parallel()
	cases := []struct{ ip, want string }{
		{"1.2.3.4", "4.3.2.1"},
		{"203.0.113.7", "7.113.0.203"},
		{"10.0.64.1", "1.64.0.10"},
		// RFC 3596 §2.5's example, without the ip6.arpa suffix.
		{"4321:0:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4"},
		// Zero groups and leading zeros are expanded: 2a01:04f8:0c0c:1234:0:0:0:1.
		{"2a01:4f8:c0c:1234::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.3.2.1.c.0.c.0.8.f.4.0.1.0.a.2"},
		{"::", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			t.Parallel()
			if got := IPLabels(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Errorf("IPLabels(%s) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
	if got := IPLabels(netip.Addr{}); got != "" {
		t.Errorf("IPLabels(zero) = %q, want empty", got)
	}
}

func TestRenderRDNS(t *testing.T) {
	t.Parallel()
	v4 := RDNSVars{
		ClusterDomain: "cluster.local",
		ClusterName:   "prod",
		Hostname:      "prod-workers-3",
		ID:            4711,
		IP:            netip.MustParseAddr("203.0.113.7"),
		Pool:          "workers",
		Role:          RoleWorker,
	}
	v6 := v4
	v6.IP = netip.MustParseAddr("2a01:4f8:c0c:1234::1")

	cases := []struct {
		name     string
		template string
		vars     RDNSVars
		want     string
	}{
		{"hostname and domain", "{{ hostname }}.example.com", v4, "prod-workers-3.example.com"},
		{
			"every placeholder",
			"{{ role }}.{{ pool }}.{{ id }}.{{ ip-type }}.{{ ip-labels }}.{{ hostname }}.{{ cluster-name }}.{{ cluster-domain }}",
			v4,
			"worker.workers.4711.ipv4.7.113.0.203.prod-workers-3.prod.cluster.local",
		},
		{"no whitespace", "{{hostname}}.{{cluster-name}}", v4, "prod-workers-3.prod"},
		{"lots of whitespace", "{{   pool \t}}.{{\tid}}", v4, "workers.4711"},
		{"newline counts as whitespace", "{{\nrole\n}}", v4, "worker"},
		{"repeated placeholder", "{{ id }}-{{ id }}", v4, "4711-4711"},
		{"no placeholders", "static.example.com", v4, "static.example.com"},
		{"unknown placeholder is kept", "{{ zone }}.{{ hostname }}", v4, "{{ zone }}.prod-workers-3"},
		{"placeholders are case-sensitive", "{{ Hostname }}", v4, "{{ Hostname }}"},
		{"single braces are kept", "{ hostname }", v4, "{ hostname }"},
		{"dollar signs are literal", "{{ hostname }}$1", v4, "prod-workers-3$1"},
		{
			"IPv6",
			"{{ ip-labels }}.{{ ip-type }}.example.com",
			v6,
			"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.3.2.1.c.0.c.0.8.f.4.0.1.0.a.2.ipv6.example.com",
		},
		{
			// The module substitutes one placeholder after the other in a
			// fixed order, so a value that contains a later placeholder is
			// expanded again (cluster-domain comes before hostname).
			"substitution order matches the module",
			"{{ cluster-domain }}",
			RDNSVars{ClusterDomain: "{{ hostname }}", Hostname: "{{ cluster-domain }}"},
			"{{ cluster-domain }}",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := RenderRDNS(tc.template, tc.vars); got != tc.want {
				t.Errorf("RenderRDNS(%q) = %q, want %q", tc.template, got, tc.want)
			}
		})
	}
}
