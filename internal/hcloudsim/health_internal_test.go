package hcloudsim

import (
	"context"
	"strings"
	"testing"
)

// TestProbesNeverLeaveLoopback: whatever address a target names, the
// health prober refuses to dial anything but loopback, and a private target
// is probed on its server's public loopback address.
func TestProbesNeverLeaveLoopback(t *testing.T) {
	for _, addr := range []string{"10.0.1.2:6443", "192.0.2.10:80", "[2001:db8::1]:80", "example.com:80"} {
		if _, err := dialLoopback(context.Background(), "tcp", addr); err == nil || !strings.Contains(err.Error(), "not a loopback") {
			t.Fatalf("dialLoopback(%s) = %v, want a refusal before dialing", addr, err)
		}
	}
	s := New(Options{})
	sv := &server{status: statusRunning, pip4: s.newPrimaryIP("ipv4", s.st.locations[0], "", true, nil)}
	out := map[healthKey]string{}
	k := healthKey{tgt: &lbTarget{typ: "server", usePrivateIP: true}}
	addServerHealth(out, k, sv, "6443")
	if got := out[k]; !strings.HasPrefix(got, "127.") || !strings.HasSuffix(got, ":6443") {
		t.Fatalf("private target probed on %q, want its public loopback address", got)
	}
}

func TestStatusMatches(t *testing.T) {
	tests := []struct {
		patterns []string
		code     int
		want     bool
	}{
		{nil, 204, true},
		{nil, 302, true},
		{nil, 404, false},
		{[]string{"200"}, 200, true},
		{[]string{"200"}, 201, false},
		{[]string{"4??", "2?4"}, 204, true},
		{[]string{"2??"}, 500, false},
	}
	for _, tt := range tests {
		if got := statusMatches(tt.patterns, tt.code); got != tt.want {
			t.Errorf("statusMatches(%v, %d) = %v, want %v", tt.patterns, tt.code, got, tt.want)
		}
	}
}
