package layout

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// RDNSVars are the values substituted into a reverse-DNS template
// (rdns.tf). ip-labels and ip-type are derived from IP.
type RDNSVars struct {
	ClusterDomain string     // {{ cluster-domain }}, e.g. cluster.local
	ClusterName   string     // {{ cluster-name }}
	Hostname      string     // {{ hostname }}: server or load balancer name
	ID            int64      // {{ id }}: Hetzner server/LB ID, or Robot server number
	IP            netip.Addr // the address whose PTR record is set
	Pool          string     // {{ pool }}: nodepool; "ingress" for the single ingress LB, the pool name for pool LBs
	Role          string     // {{ role }}: control-plane, worker or ingress
}

// rdnsPlaceholders are the module's substitutions, in the module's order.
// Each matches {{\s*name\s*}} like the module's regexes.
var rdnsPlaceholders = []struct {
	re    *regexp.Regexp
	value func(RDNSVars) string
}{
	{placeholder("cluster-domain"), func(v RDNSVars) string { return v.ClusterDomain }},
	{placeholder("cluster-name"), func(v RDNSVars) string { return v.ClusterName }},
	{placeholder("hostname"), func(v RDNSVars) string { return v.Hostname }},
	{placeholder("id"), func(v RDNSVars) string { return strconv.FormatInt(v.ID, 10) }},
	{placeholder("ip-labels"), func(v RDNSVars) string { return IPLabels(v.IP) }},
	{placeholder("ip-type"), func(v RDNSVars) string { return IPType(v.IP) }},
	{placeholder("pool"), func(v RDNSVars) string { return v.Pool }},
	{placeholder("role"), func(v RDNSVars) string { return v.Role }},
}

func placeholder(name string) *regexp.Regexp {
	return regexp.MustCompile(`\{\{\s*` + regexp.QuoteMeta(name) + `\s*\}\}`)
}

// RenderRDNS fills the placeholders {{ cluster-domain }}, {{ cluster-name }},
// {{ hostname }}, {{ id }}, {{ ip-labels }}, {{ ip-type }}, {{ pool }} and
// {{ role }} of template (whitespace inside the braces is optional) one after
// the other, in that order, as the module does. Unknown placeholders are left
// alone.
func RenderRDNS(template string, v RDNSVars) string {
	s := template
	for _, p := range rdnsPlaceholders {
		s = p.re.ReplaceAllLiteralString(s, p.value(v))
	}
	return s
}

// IPType is "ipv4" or "ipv6", the {{ ip-type }} of an address.
func IPType(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// IPLabels is the {{ ip-labels }} of an address, the labels of its PTR name
// without the arpa suffix: the IPv4 octets reversed (1.2.3.4 → 4.3.2.1), or
// the 32 nibbles of the fully expanded IPv6 address reversed
// (2001:db8::1 → 1.0.0.0. ... .8.b.d.0.1.0.0.2). It is empty for the zero Addr.
func IPLabels(a netip.Addr) string {
	switch {
	case a.Is4():
		b := a.As4()
		return strconv.Itoa(int(b[3])) + "." + strconv.Itoa(int(b[2])) + "." +
			strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[0]))
	case a.Is6():
		const hexDigits = "0123456789abcdef"
		b := a.As16()
		var s strings.Builder
		s.Grow(63)
		for i := len(b) - 1; i >= 0; i-- {
			if i != len(b)-1 {
				s.WriteByte('.')
			}
			s.WriteByte(hexDigits[b[i]&0x0f])
			s.WriteByte('.')
			s.WriteByte(hexDigits[b[i]>>4])
		}
		return s.String()
	}
	return ""
}
