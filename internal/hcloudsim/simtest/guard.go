package simtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Reporter is the part of testing.TB the dial guard needs; tests of the
// guard itself pass a fake.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Cleanup(func())
}

// LoopbackDialer returns a DialContext function that only connects to
// loopback IP literals (127.0.0.0/8, ::1) or "localhost". Any other
// destination – a private 10.x address of a simulated network, a public
// address, a DNS name – fails the test and the dial. This enforces the
// project rule that tests never send traffic off loopback.
func LoopbackDialer(r Reporter) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var done atomic.Bool
	r.Cleanup(func() { done.Store(true) })
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := CheckLoopback(addr); err != nil {
			if !done.Load() {
				r.Helper()
				r.Errorf("simtest: refused non-loopback dial: %v", err)
			}
			return nil, err
		}
		return d.DialContext(ctx, network, addr)
	}
}

// CheckLoopback reports an error unless addr (host:port) is a loopback destination.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dial %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %q: destination is not a loopback address", addr)
	}
	return nil
}

// LoopbackHTTPClient is an http.Client whose transport uses LoopbackDialer
// and ignores proxy settings from the environment.
func LoopbackHTTPClient(r Reporter) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         LoopbackDialer(r),
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}
