//go:build linux

package netwatch

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A live loopback connection of this process is found with the right
// addresses, and is not outside.
func TestFindsThisProcesssConnections(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	c, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := Start(os.Getpid(), time.Millisecond)
	conns, err := TreeConnections(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddrPort(lis.Addr().String())
	local := netip.MustParseAddrPort(c.LocalAddr().String())
	if !slices.ContainsFunc(conns, func(x Conn) bool { return x.Remote == want && x.Local == local }) {
		t.Fatalf("the connection %s -> %s is not among %v", local, want, conns)
	}
	outside, samples, err := w.Stop()
	if err != nil || samples == 0 || len(outside) != 0 {
		t.Errorf("watcher: outside %v, %d samples, err %v", outside, samples, err)
	}
}

// The kernel's table format, with one socket of ours connected to a private
// address, one to loopback, and a listener.
func TestParseTable(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 20 4 30 10 -1
   2: 0500000A:D431 0100000A:01BB 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 20 4 30 10 -1
   3: 0500000A:D432 0200000A:01BB 01 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 20 4 30 10 -1
`
	path := filepath.Join(t.TempDir(), "tcp")
	if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	conns, err := parseTable(f, "tcp", 7, map[string]bool{"111": true, "222": true, "333": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Conn{
		{PID: 7, Proto: "tcp", Local: netip.MustParseAddrPort("127.0.0.1:50000"), Remote: netip.MustParseAddrPort("127.0.0.1:8080")},
		{PID: 7, Proto: "tcp", Local: netip.MustParseAddrPort("10.0.0.5:54321"), Remote: netip.MustParseAddrPort("10.0.0.1:443")},
	}
	if !slices.Equal(conns, want) {
		t.Fatalf("parsed %v\nwant   %v", conns, want)
	}
	if conns[0].Outside() || !conns[1].Outside() {
		t.Errorf("outside: loopback %v, private %v", conns[0].Outside(), conns[1].Outside())
	}
}
