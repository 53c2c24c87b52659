package clock

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// FetchReplica reads GET /_sim/clock from the simulator serving the Hetzner
// API at endpoint (its base URL, with or without /v1) and returns a Replica
// of its clock. It is a testing hook: a process pointed at the simulator
// (the CLI run by the demo) can wait in the simulator's accelerated time
// instead of the wall clock. Only a loopback endpoint is accepted and only a
// loopback address is dialled, so this can never reach, or be fooled by, a
// remote server.
func FetchReplica(ctx context.Context, endpoint string) (*Scaled, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("simulator clock: invalid endpoint %q: %w", endpoint, err)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("simulator clock: endpoint %q is not a loopback address; only a local simulator can lend its clock", endpoint)
	}
	clockURL := url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/_sim/clock"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clockURL.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("simulator clock: %w", err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:       nil, // a proxy would not be loopback
		DialContext: dialLoopback,
	}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulator clock: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("simulator clock: reading %s: %w", clockURL.String(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("simulator clock: %s answered %s (is this the simulator?)", clockURL.String(), resp.Status)
	}
	var r Reading
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("simulator clock: %s: %w", clockURL.String(), err)
	}
	if r.Now.IsZero() || r.RealNow.IsZero() {
		return nil, fmt.Errorf("simulator clock: %s has no now/real_now (a simulator older than this binary?)", clockURL.String())
	}
	return r.Replica(), nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialLoopback dials only addresses that resolve to loopback; "localhost"
// could be mapped elsewhere by a resolver.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	for _, ip := range ips {
		if ip.IP.IsLoopback() {
			return d.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
		}
	}
	return nil, fmt.Errorf("%s does not resolve to a loopback address", host)
}
