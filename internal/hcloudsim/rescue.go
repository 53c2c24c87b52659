package hcloudsim

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Rescue system SSH.
//
// While a server is booted into the rescue system, and rescue SSH is served
// (ServeRescueSSH), the simulator listens on <public IPv4>:<port> – port 22
// by default, which needs root or CAP_NET_BIND_SERVICE – with a host key
// derived from the seed and the server ID (stable across reconnects and
// reboots). It accepts user root with the public keys given to the
// enable_rescue that armed this boot, and runs the few commands an image
// builder sends (rescue_exec.go). The listener closes when the server leaves
// the rescue system: power off, shutdown, reboot into the OS, rebuild,
// delete, or "poweroff" typed in the rescue shell.
//
// Rescue SSH is opt-in: simulators in parallel test processes all hand out
// 127.0.1.1 first, so a fixed port would collide. Tests call
// ServeRescueSSH(0) for a free port and point their SSH client at it.

// rescueWatchInterval is how often (real time) a rescue listener checks that
// its server is still in the rescue system. The simulation only moves on
// requests, so this is also the longest a stale listener lingers after the
// request that ended the rescue boot.
const rescueWatchInterval = 5 * time.Millisecond

type rescueHostKey struct {
	signer ssh.Signer
}

type rescueListener struct {
	serverID int64
	boot     int
	addr     string
	ln       net.Listener
	done     chan struct{}
	once     sync.Once
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func (l *rescueListener) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.ln.Close()
		l.mu.Lock()
		for c := range l.conns {
			_ = c.Close()
		}
		l.mu.Unlock()
	})
}

// ServeRescueSSH turns rescue SSH on: servers booted into the rescue system
// (now or later) listen on <public IPv4>:port. Port 0 picks one free port for
// this simulator; the port in use is returned. Call StopRescueSSH when done.
func (s *Server) ServeRescueSSH(port int) (int, error) {
	if port < 0 || port > 65535 {
		return 0, fmt.Errorf("rescue SSH port %d out of range", port)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a rescue SSH port: %w", err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	x := s.extras()
	x.lnMu.Lock()
	x.sshOn, x.sshPort = true, port
	x.lnMu.Unlock()
	for _, sv := range sortedValues(s.st.servers) {
		if sv.inRescue && sv.status == statusRunning {
			s.startRescueSSH(sv)
		}
	}
	return port, nil
}

// RescueSSHPort is the port rescue systems listen on, 0 while rescue SSH is off.
func (s *Server) RescueSSHPort() int {
	x := s.extras()
	x.lnMu.Lock()
	defer x.lnMu.Unlock()
	if !x.sshOn {
		return 0
	}
	return x.sshPort
}

// StopRescueSSH closes every rescue SSH listener and connection and turns
// rescue SSH off.
func (s *Server) StopRescueSSH() {
	x := s.extras()
	x.lnMu.Lock()
	ls := x.listeners
	x.listeners = map[int64]*rescueListener{}
	x.sshOn = false
	x.lnMu.Unlock()
	for _, l := range ls {
		l.close()
	}
}

// RescueHostKey returns the host public key a server's rescue system presents.
func (s *Server) RescueHostKey(serverID int64) (ssh.PublicKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.servers[serverID]; !ok {
		return nil, false
	}
	return s.hostKey(serverID).signer.PublicKey(), true
}

// setRescueKeys is the hook of enable_rescue: the public keys the next
// rescue boot accepts, copied now as the real API does. Server.mu held.
func (s *Server) setRescueKeys(sv *server, ids []int64) {
	var keys []string
	for _, id := range ids {
		if k, ok := s.st.sshKeys[id]; ok {
			keys = append(keys, k.publicKey)
		}
	}
	s.extras().rescueKeys[sv.ID] = keys
}

// rescueBooted is the hook of every boot: a boot into the rescue system
// starts its SSH server with the armed keys; any other boot ends a previous
// rescue session. Server.mu held.
func (s *Server) rescueBooted(sv *server) {
	x := s.extras()
	if !sv.inRescue {
		delete(x.bootKeys, sv.ID)
		s.stopRescueSSH(sv.ID)
		return
	}
	x.bootKeys[sv.ID] = x.rescueKeys[sv.ID]
	delete(x.rescueKeys, sv.ID)
	s.startRescueSSH(sv)
}

// hostKey returns the server's rescue host key, derived from the seed and the
// server ID. Server.mu held.
func (s *Server) hostKey(serverID int64) *rescueHostKey {
	x := s.extras()
	if k, ok := x.hostKeys[serverID]; ok {
		return k
	}
	seed := sha256.Sum256(fmt.Appendf(nil, "hcloudsim rescue host key %d %d", s.opts.Seed, serverID))
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		panic("hcloudsim: rescue host key: " + err.Error())
	}
	k := &rescueHostKey{signer: signer}
	x.hostKeys[serverID] = k
	return k
}

// startRescueSSH listens for a server in the rescue system. Server.mu held.
func (s *Server) startRescueSSH(sv *server) {
	x := s.extras()
	ip := sv.publicV4()
	x.lnMu.Lock()
	defer x.lnMu.Unlock()
	if old := x.listeners[sv.ID]; old != nil {
		old.close()
		delete(x.listeners, sv.ID)
	}
	if !x.sshOn || ip == "" {
		return
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(x.sshPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.logf("rescue SSH for server %d: %v", sv.ID, err)
		return
	}
	l := &rescueListener{serverID: sv.ID, boot: sv.bootCount, addr: addr, ln: ln,
		done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	x.listeners[sv.ID] = l
	cfg := s.rescueSSHConfig(sv.ID, sv.bootCount, s.hostKey(sv.ID).signer)
	go s.acceptRescue(l, cfg)
	go s.watchRescue(l)
}

// stopRescueSSH closes a server's rescue listener. Server.mu held.
func (s *Server) stopRescueSSH(serverID int64) {
	x := s.extras()
	x.lnMu.Lock()
	l := x.listeners[serverID]
	delete(x.listeners, serverID)
	x.lnMu.Unlock()
	if l != nil {
		l.close()
	}
}

// inRescueBoot reports whether the server is still in the rescue boot a
// listener belongs to. Server.mu held.
func (s *Server) inRescueBoot(serverID int64, boot int) (*server, bool) {
	sv, ok := s.st.servers[serverID]
	if !ok || !sv.inRescue || sv.bootCount != boot || sv.status != statusRunning {
		return nil, false
	}
	return sv, true
}

// watchRescue closes the listener once its server has left the rescue boot.
// It reads the state as of the last request and does not settle, so it never
// moves the simulation by itself.
func (s *Server) watchRescue(l *rescueListener) {
	t := time.NewTicker(rescueWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		_, ok := s.inRescueBoot(l.serverID, l.boot)
		s.mu.Unlock()
		if !ok {
			s.dropRescueListener(l)
			return
		}
	}
}

// dropRescueListener unregisters and closes one listener (not a newer one of
// the same server).
func (s *Server) dropRescueListener(l *rescueListener) {
	x := s.extras()
	x.lnMu.Lock()
	if x.listeners[l.serverID] == l {
		delete(x.listeners, l.serverID)
	}
	x.lnMu.Unlock()
	l.close()
}

func (s *Server) rescueSSHConfig(serverID int64, boot int, hostKey ssh.Signer) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 (hcloudsim rescue)",
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if meta.User() != "root" {
				return nil, fmt.Errorf("user %q: the rescue system only has root", meta.User())
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.settle()
			if _, ok := s.inRescueBoot(serverID, boot); !ok {
				return nil, errors.New("server left the rescue system")
			}
			for _, authorized := range s.extras().bootKeys[serverID] {
				pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
				if err == nil && slices.Equal(pk.Marshal(), key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("public key not authorized for the rescue system")
		},
	}
	cfg.AddHostKey(hostKey)
	return cfg
}

func (s *Server) acceptRescue(l *rescueListener, cfg *ssh.ServerConfig) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		select {
		case <-l.done:
			l.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		go func() {
			defer func() {
				l.mu.Lock()
				delete(l.conns, c)
				l.mu.Unlock()
				_ = c.Close()
			}()
			s.serveRescueConn(l, c, cfg)
		}()
	}
}

func (s *Server) serveRescueConn(l *rescueListener, c net.Conn, cfg *ssh.ServerConfig) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // handshake
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = c.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.done:
			_ = conn.Close()
		case <-ctx.Done():
		}
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.Prohibited, "only session channels are supported")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.serveRescueSession(ctx, l, ch, creqs)
	}
}

func (s *Server) serveRescueSession(ctx context.Context, l *rescueListener, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "env":
			_ = req.Reply(true, nil)
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			res := s.runRescueCommand(ctx, l, p.Command)
			_, _ = ch.Write(res.stdout)
			_, _ = ch.Stderr().Write(res.stderr)
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(res.status)}))
			_ = ch.Close()
			if res.poweroff {
				s.dropRescueListener(l)
			}
			return
		default:
			// No pty, shell or subsystem: the builder only execs commands.
			_ = req.Reply(false, nil)
		}
	}
}
