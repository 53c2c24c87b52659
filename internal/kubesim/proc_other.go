//go:build !linux

package kubesim

import "syscall"

// sysProcAttr: only Linux can tie the child's lifetime to the parent; elsewhere
// Stop (or cancelling the Start context) is the only clean-up.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// pidAlive is conservative where it cannot check: stale directories of
// crashed runs are then left alone.
func pidAlive(int) bool { return true }
