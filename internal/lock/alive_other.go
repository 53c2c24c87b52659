//go:build !unix

package lock

// processAlive cannot tell here, so a lock is only taken over once expired.
func processAlive(int) bool { return true }
