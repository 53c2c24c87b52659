package kubesim

import (
	"errors"
	"syscall"
)

// sysProcAttr makes the kernel kill the child when the test process dies
// (panic, timeout, SIGKILL), so a crashed test leaks no servers.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// pidAlive reports whether a process with this id exists.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
