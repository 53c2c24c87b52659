// Package loopback hands each local world its own range of loopback
// addresses. Simulated public IPv4 addresses live in 127.0.0.0/8 and fake
// Talos nodes listen on them, so two simulators on one machine that hand out
// the same addresses would serve each other's clients: a CLI would talk to
// the other world's nodes and wait without knowing why.
//
// A range is claimed across processes by binding a sentinel address that
// belongs to it: the kernel lets only one process hold a listener, so the
// holder owns the range for as long as it lives (a killed process releases it
// with its sockets), and a second world moves on to the next range.
package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// First and Last bound the second octets of the ranges handed out:
// 127.16.0.0/16 to 127.254.0.0/16. 127.0.0.0/16 is left alone, as
// 127.0.0.1 is everybody's localhost.
const (
	First = 16
	Last  = 254
)

// sentinelPort is the port of the sentinel listener at 127.b.255.254. No
// simulated address reaches it: a range holds 65,000 addresses before it.
const sentinelPort = 50999

// Range is a /16 of 127.0.0.0/8 that this process holds.
type Range struct {
	prefix   netip.Prefix
	sentinel net.Listener
}

// ErrExhausted means every range is held by another process.
var ErrExhausted = errors.New("every loopback range 127.16.0.0/16 to 127.254.0.0/16 is held by another local world")

// Claim takes the first free range, trying the second octets from start
// (clamped to First..Last) upwards and wrapping around; start spreads
// processes that claim at once over different ranges.
func Claim(start int) (*Range, error) {
	if start < First || start > Last {
		start = First
	}
	n := Last - First + 1
	for i := range n {
		b := byte(First + (start-First+i)%n)
		lis, err := net.Listen("tcp", netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, b, 255, 254}), sentinelPort).String())
		if err == nil {
			return &Range{prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{127, b, 0, 0}), 16), sentinel: lis}, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("claim loopback range 127.%d.0.0/16: %w", b, err)
		}
	}
	return nil, ErrExhausted
}

// Prefix is the range.
func (r *Range) Prefix() netip.Prefix { return r.prefix }

// Start is the address before the first one of the range's n-th /24 (n from
// 0 to 254), for hcloudsim.Options.PublicIPv4Start: a process that runs
// several simulators gives each its own /24.
func (r *Range) Start(n int) netip.Addr {
	b := r.prefix.Addr().As4()
	b[2] = byte(n % 255)
	return netip.AddrFrom4(b)
}

// Release gives the range back.
func (r *Range) Release() error { return r.sentinel.Close() }
