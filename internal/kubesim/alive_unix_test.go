//go:build unix

package kubesim

import "syscall"

// processAlive reports whether pid exists (signal 0 probes without signalling).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }
