//go:build linux

package netwatch

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TreeConnections returns the connected sockets (not the listening ones) of
// root and every process below it.
func TreeConnections(root int) ([]Conn, error) {
	var out []Conn
	for _, pid := range descendants(root) {
		conns, err := connections(pid)
		if err != nil {
			if os.IsNotExist(err) {
				continue // exited between the listing and now
			}
			return out, err
		}
		out = append(out, conns...)
	}
	return out, nil
}

// descendants is root and every live process whose parent chain leads to it.
func descendants(root int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(pid); ok {
			parent[pid] = pp
		}
	}
	out := []int{root}
	for pid := range parent {
		for p := parent[pid]; p != 0; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
			if _, known := parent[p]; !known {
				break
			}
		}
	}
	return out
}

// ppid reads the parent of pid from /proc/<pid>/stat, whose second field
// (the command) may hold spaces and parentheses: the fields after the last
// ')' are fixed.
func ppid(pid int) (int, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// connections lists the sockets of pid: its fds name socket inodes, and the
// tables in /proc/<pid>/net (the process's network namespace) map inodes to
// addresses.
func connections(pid int) ([]Conn, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return nil, err
	}
	if len(inodes) == 0 {
		return nil, nil
	}
	var out []Conn
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		conns, err := parseTable(f, proto, pid, inodes)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/net/%s: %w", pid, proto, err)
		}
		out = append(out, conns...)
	}
	return out, nil
}

func socketInodes(pid int) (map[string]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return inodes, nil
}

// tcpListen is the TCP state LISTEN in /proc/net/tcp.
const tcpListen = "0A"

func parseTable(f *os.File, proto string, pid int, inodes map[string]bool) ([]Conn, error) {
	var out []Conn
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || !inodes[fields[9]] {
			continue
		}
		if strings.HasPrefix(proto, "tcp") && fields[3] == tcpListen {
			continue
		}
		local, err1 := parseAddr(fields[1])
		remote, err2 := parseAddr(fields[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad line %q", sc.Text())
		}
		if remote.Port() == 0 && remote.Addr().IsUnspecified() {
			continue // an unconnected UDP socket
		}
		out = append(out, Conn{PID: pid, Proto: proto, Local: local, Remote: remote})
	}
	return out, sc.Err()
}

// parseAddr reads "0100007F:1F90": the address as the kernel stores it (each
// 32-bit word in host byte order, little-endian here) and the port in hex.
func parseAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	raw, err := hex.DecodeString(host)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", host)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr, uint16(p)), nil
}
