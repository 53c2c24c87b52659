//go:build !linux

package netwatch

// TreeConnections needs /proc.
func TreeConnections(root int) ([]Conn, error) { return nil, ErrUnsupported }
