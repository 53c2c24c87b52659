// Package testwait holds the one helper tests use to wait for something that
// happens asynchronously (a process shutting down, a member rejoining), instead
// of hand-written deadline loops or bare sleeps.
package testwait

import (
	"testing"
	"time"
)

// Eventually calls cond until it returns nil or within has passed in real
// time, polling every 10 ms. On timeout it fails the test with what and the
// last error cond returned, so the failure says which state was never reached
// and what was seen instead.
func Eventually(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s: %v", what, within, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
