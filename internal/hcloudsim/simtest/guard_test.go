package simtest

import (
	"context"
	"fmt"
	"testing"
)

type fakeReporter struct {
	errors []string
}

func (f *fakeReporter) Helper()        {}
func (f *fakeReporter) Cleanup(func()) {}
func (f *fakeReporter) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func TestLoopbackDialer(t *testing.T) {
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1:1", true},
		{"127.0.1.7:1", true},
		{"[::1]:1", true},
		{"localhost:1", true},
		{"10.0.0.2:50000", false},
		{"192.168.1.1:80", false},
		{"1.1.1.1:443", false},
		{"api.hetzner.cloud:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := CheckLoopback(tt.addr) == nil; got != tt.allowed {
				t.Fatalf("CheckLoopback(%s) allowed=%v, want %v", tt.addr, got, tt.allowed)
			}
			if tt.allowed {
				return
			}
			r := &fakeReporter{}
			dial := LoopbackDialer(r)
			if _, err := dial(context.Background(), "tcp", tt.addr); err == nil {
				t.Fatal("dial succeeded")
			}
			if len(r.errors) != 1 {
				t.Fatalf("reported %d errors, want 1", len(r.errors))
			}
		})
	}
}
