package image

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshHandshakeTimeout bounds the TCP connect plus SSH handshake.
const sshHandshakeTimeout = 30 * time.Second

// builderKey is the temporary SSH key pair of one build.
type builderKey struct {
	signer        ssh.Signer
	authorizedKey string // "ssh-ed25519 AAAA…" for the Hetzner API
}

func newBuilderKey() (*builderKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return &builderKey{signer: signer, authorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))}, nil
}

// hostKeyPin trusts the host key of the first connection (the rescue system
// is brand new, so there is nothing to verify it against) and insists on the
// same key for every later connection.
type hostKeyPin struct {
	mu  sync.Mutex
	key ssh.PublicKey
}

func (p *hostKeyPin) check(hostname string, _ net.Addr, key ssh.PublicKey) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key == nil {
		p.key = key
		return nil
	}
	if !bytes.Equal(p.key.Marshal(), key.Marshal()) {
		return fmt.Errorf("host key of %s changed since the first connection: pinned %s, got %s (refusing to continue: possible man-in-the-middle)",
			hostname, ssh.FingerprintSHA256(p.key), ssh.FingerprintSHA256(key))
	}
	return nil
}

// rescueShell is an SSH connection to a server's rescue system as root,
// re-established (with the pinned host key) when it breaks between commands.
type rescueShell struct {
	addr   string
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	config *ssh.ClientConfig
	client *ssh.Client
}

func newRescueShell(addr string, key *builderKey, pin *hostKeyPin, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *rescueShell {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return &rescueShell{
		addr: addr,
		dial: dial,
		config: &ssh.ClientConfig{
			User:            "root",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(key.signer)},
			HostKeyCallback: pin.check,
			Timeout:         sshHandshakeTimeout,
		},
	}
}

// connect dials and authenticates, bounded by ctx and sshHandshakeTimeout.
func (r *rescueShell) connect(ctx context.Context) error {
	r.close()
	ctx, cancel := context.WithTimeout(ctx, sshHandshakeTimeout)
	defer cancel()
	conn, err := r.dial(ctx, "tcp", r.addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, r.addr, r.config)
	stop()
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("ssh root@%s: %w", r.addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	r.client = ssh.NewClient(c, chans, reqs)
	return nil
}

func (r *rescueShell) close() {
	if r.client != nil {
		_ = r.client.Close()
		r.client = nil
	}
}

// commandError is a command that ran and failed.
type commandError struct {
	status int
	stderr string
}

func (e *commandError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("exit status %d", e.status)
	}
	return fmt.Sprintf("exit status %d: %s", e.status, e.stderr)
}

// run executes one command and returns its stdout. A broken connection is
// re-established once (the host key must still match) before the command
// starts; a command cut off while running is not repeated here.
func (r *rescueShell) run(ctx context.Context, command string) (string, error) {
	if r.client == nil {
		if err := r.connect(ctx); err != nil {
			return "", err
		}
	}
	sess, err := r.client.NewSession()
	if err != nil {
		if err := r.connect(ctx); err != nil {
			return "", fmt.Errorf("reconnect: %w", err)
		}
		if sess, err = r.client.NewSession(); err != nil {
			return "", fmt.Errorf("open SSH session: %w", err)
		}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if err := sess.Start(command); err != nil {
		return "", fmt.Errorf("start command: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		r.close() // unblocks Wait
		<-done
		return stdout.String(), ctx.Err()
	}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return stdout.String(), nil
	case errors.As(err, &exitErr):
		return stdout.String(), &commandError{status: exitErr.ExitStatus(), stderr: strings.TrimSpace(stderr.String())}
	default:
		return stdout.String(), fmt.Errorf("command %q: %w", firstWord(command), err)
	}
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
