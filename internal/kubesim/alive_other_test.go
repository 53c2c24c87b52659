//go:build !unix

package kubesim

func processAlive(int) bool { return false }
