// Package netwatch finds the network connections of a process tree that leave
// the loopback interface. The local world must never dial anything but
// loopback (docs/architecture.md, "The local world"): a test starts a Watcher
// on its own process, runs the world (in-process servers and the real
// components it starts as child processes), and fails on whatever the
// watcher saw.
//
// It reads /proc, so it works on Linux only. It samples: a connection that
// opens and closes between two samples is missed, so a Watcher proves that
// nothing stayed connected outside loopback, and catches most short
// connections, not all of them.
package netwatch

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Conn is one socket's connection.
type Conn struct {
	PID    int
	Proto  string // tcp, tcp6, udp, udp6
	Local  netip.AddrPort
	Remote netip.AddrPort
}

func (c Conn) String() string {
	return fmt.Sprintf("pid %d %s %s -> %s", c.PID, c.Proto, c.Local, c.Remote)
}

// Outside reports whether the connection's peer is not on loopback.
func (c Conn) Outside() bool {
	a := c.Remote.Addr().Unmap()
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback()
}

// ErrUnsupported means the system has no /proc to read.
var ErrUnsupported = errors.New("netwatch needs Linux's /proc")

// Watcher samples the connections of a process and its descendants.
type Watcher struct {
	root  int
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	seen  map[string]Conn // outside connections, by String
	err   error
	polls int
}

// Start samples root's process tree every interval until Stop.
func Start(root int, interval time.Duration) *Watcher {
	w := &Watcher{root: root, stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]Conn{}}
	go w.run(interval)
	return w
}

func (w *Watcher) run(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w.sample()
		select {
		case <-w.stop:
			w.sample() // what is open at the end counts too
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) sample() {
	conns, err := TreeConnections(w.root)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	if err != nil && w.err == nil {
		w.err = err
	}
	for _, c := range conns {
		if c.Outside() {
			w.seen[c.String()] = c
		}
	}
}

// Stop ends the sampling and returns every connection outside loopback that
// was seen, how many samples were taken, and the first error reading /proc.
func (w *Watcher) Stop() (outside []Conn, samples int, err error) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.seen {
		outside = append(outside, c)
	}
	sort.Slice(outside, func(i, j int) bool { return outside[i].String() < outside[j].String() })
	return outside, w.polls, w.err
}

// TB is the part of testing.TB that Guard needs.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// Guard watches the process tree of pid for the rest of the test and fails
// it, when it ends, for every connection outside loopback it saw.
func Guard(t TB, pid int) {
	t.Helper()
	w := Start(pid, 20*time.Millisecond)
	t.Cleanup(func() {
		outside, samples, err := w.Stop()
		if err != nil || samples < 2 {
			t.Errorf("netwatch: could not watch the world's connections: %v (%d samples)", err, samples)
		}
		for _, c := range outside {
			t.Errorf("netwatch: connection outside loopback: %s", c)
		}
	})
}
