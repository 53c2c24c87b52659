package lifecycle

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Public IP lookup services the module uses (firewall.tf).
const (
	ipv4LookupURL = "https://ipv4.icanhazip.com"
	ipv6LookupURL = "https://ipv6.icanhazip.com"
)

// LookupPublicIPs asks icanhazip.com for this machine's public addresses, as the
// module does, and returns them as an IPv4 /32 and an IPv6 /64. Only the real CLI
// uses it; tests and the local demo pass explicit addresses instead.
func LookupPublicIPs(ctx context.Context, client *http.Client, ipv4, ipv6 bool) ([]string, error) {
	var out []string
	if ipv4 {
		a, err := lookup(ctx, client, ipv4LookupURL)
		if err != nil {
			return nil, fmt.Errorf("IPv4: %w", err)
		}
		if !a.Is4() {
			return nil, fmt.Errorf("IPv4: %s answered %s", ipv4LookupURL, a)
		}
		out = append(out, netip.PrefixFrom(a, 32).String())
	}
	if ipv6 {
		// A machine without IPv6 is normal; the module skips it too.
		if a, err := lookup(ctx, client, ipv6LookupURL); err == nil && a.Is6() {
			p, _ := a.Prefix(64)
			out = append(out, p.String())
		}
	}
	return out, nil
}

func lookup(ctx context.Context, client *http.Client, url string) (netip.Addr, error) {
	var last error
	for attempt := 0; attempt < 10; attempt++ {
		if attempt > 0 {
			// A real service on the internet answers here, so the retry waits
			// in real time whatever clock the procedure runs on.
			if err := clock.Real().Sleep(ctx, time.Second); err != nil {
				return netip.Addr{}, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return netip.Addr{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("%s answered %s", url, resp.Status)
			continue
		}
		return netip.ParseAddr(strings.TrimSpace(string(body)))
	}
	return netip.Addr{}, last
}
