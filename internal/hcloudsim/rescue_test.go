package hcloudsim_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"golang.org/x/crypto/ssh"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

func newSSHKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rescueEnv starts a simulator with rescue SSH and one server booted into
// the rescue system that accepts key.
type rescueEnv struct {
	env    *simtest.Env
	server *hcloud.Server
	addr   string
	key    ssh.Signer
}

func newRescueEnv(t *testing.T) *rescueEnv {
	t.Helper()
	env := newEnv(t)
	port, err := env.Sim.ServeRescueSSH(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Sim.StopRescueSSH)
	key := newSSHKey(t)
	hk := must[*hcloud.SSHKey](t)(env.Client.SSHKey.Create(testCtx(t), hcloud.SSHKeyCreateOpts{
		Name: "rescue", PublicKey: string(ssh.MarshalAuthorizedKey(key.PublicKey())),
	}))
	srv := createServer(t, env, serverSpec{name: "builder", noStart: true})
	r := must[hcloud.ServerEnableRescueResult](t)(env.Client.Server.EnableRescue(testCtx(t), srv, hcloud.ServerEnableRescueOpts{
		Type: hcloud.ServerRescueTypeLinux64, SSHKeys: []*hcloud.SSHKey{hk},
	}))
	wait(t, env, r.Action)
	wait(t, env, must[*hcloud.Action](t)(env.Client.Server.Poweron(testCtx(t), srv)))
	return &rescueEnv{env: env, server: srv, key: key,
		addr: net.JoinHostPort(srv.PublicNet.IPv4.IP.String(), strconv.Itoa(port))}
}

// dial connects as root with signer and records the host key.
func (r *rescueEnv) dial(t *testing.T, user string, signer ssh.Signer) (*ssh.Client, ssh.PublicKey, error) {
	t.Helper()
	if err := simtest.CheckLoopback(r.addr); err != nil {
		t.Fatal(err)
	}
	var hostKey ssh.PublicKey
	c, err := ssh.Dial("tcp", r.addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, Timeout: 5 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error { hostKey = k; return nil },
	})
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, hostKey, err
}

type execResult struct {
	stdout, stderr string
	status         int
}

func run(t *testing.T, c *ssh.Client, cmd string) execResult {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	err = s.Run(cmd)
	res := execResult{stdout: out.String(), stderr: errb.String()}
	var exitErr *ssh.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.status = exitErr.ExitStatus()
	case err != nil:
		t.Fatalf("%s: %v", cmd, err)
	}
	return res
}

func pipeline(url string) string {
	return "set -euo pipefail; wget --quiet --timeout=20 --waitretry=5 --tries=5 --retry-connrefused --inet4-only -O - '" + url +
		"' | xz -T0 -dc | dd of=/dev/sda bs=1M iflag=fullblock oflag=direct conv=fsync status=none"
}

func TestRescueSSHImageWorkflow(t *testing.T) {
	r := newRescueEnv(t)
	env, ctx := r.env, testCtx(t)
	payload := imagetest.DiskImage(strings.Repeat("ab", 32), "v1.13.9", "amd64")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/image.raw.xz":
			_, _ = w.Write(imagetest.EncodeXZ(payload))
		case "/plain":
			_, _ = w.Write([]byte("not xz"))
		default:
			http.NotFound(w, req)
		}
	}))
	defer files.Close()

	c, hostKey, err := r.dial(t, "root", r.key)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := env.Sim.RescueHostKey(r.server.ID)
	if !bytes.Equal(hostKey.Marshal(), want.Marshal()) {
		t.Fatal("host key differs from RescueHostKey")
	}
	// The host key is the same on a reconnect.
	if _, again, err := r.dial(t, "root", r.key); err != nil || !bytes.Equal(again.Marshal(), hostKey.Marshal()) {
		t.Fatalf("reconnect: %v, same key %v", err, again != nil && bytes.Equal(again.Marshal(), hostKey.Marshal()))
	}

	if res := run(t, c, "blkdiscard -v /dev/sda"); res.status != 0 || !strings.Contains(res.stdout, "/dev/sda: Discarded 42949672960 bytes") {
		t.Fatalf("blkdiscard: %+v", res)
	}
	if disk, ok := env.Sim.DiskContent(r.server.ID); !ok || len(disk) != 0 {
		t.Fatalf("disk after blkdiscard: %d bytes, %v", len(disk), ok)
	}
	if res := run(t, c, pipeline(files.URL+"/image.raw.xz")); res.status != 0 || res.stderr != "" {
		t.Fatalf("pipeline: %+v", res)
	}
	if disk, _ := env.Sim.DiskContent(r.server.ID); !bytes.Equal(disk, payload) {
		t.Fatalf("disk holds %d bytes, want the %d-byte image", len(disk), len(payload))
	}

	cases := []struct {
		cmd    string
		status int
		stderr string
	}{
		{"reboot now", 127, "bash: line 1: reboot: command not found"},
		{"blkdiscard /dev/sdb", 1, "cannot open /dev/sdb"},
		// With pipefail the status is the rightmost failure: xz on no input.
		{pipeline("https://factory.talos.dev/image/x/v1.13.9/hcloud-amd64.raw.xz"), 1, `refuses to fetch https://factory.talos.dev/image/x/v1.13.9/hcloud-amd64.raw.xz: host "factory.talos.dev" is not a loopback address`},
		{pipeline("http://192.0.2.10/image.raw.xz"), 1, "is not a loopback address"},
		{pipeline(files.URL + "/plain"), 1, "xz: (stdin): File format not recognized"},
		{pipeline(files.URL + "/missing"), 1, "xz: (stdin): File format not recognized"},
		{"wget -q -O - https://factory.talos.dev/x", 4, "is not a loopback address"},
		{"wget -q -O - " + files.URL + "/missing", 8, ""},
		{"wget --bogus -O - http://127.0.0.1/", 2, "unrecognized option '--bogus'"},
		{"dd of=/dev/sdb", 1, "failed to open '/dev/sdb'"},
		{"echo $(id)", 2, "not supported"},
		{"sync", 0, ""},
	}
	for _, tc := range cases {
		res := run(t, c, tc.cmd)
		if res.status != tc.status || !strings.Contains(res.stderr, tc.stderr) {
			t.Errorf("%s: status %d stderr %q, want %d and %q", tc.cmd, res.status, res.stderr, tc.status, tc.stderr)
		}
	}
	// Failed pipelines wrote nothing.
	if disk, _ := env.Sim.DiskContent(r.server.ID); !bytes.Equal(disk, payload) {
		t.Fatal("a failed pipeline changed the disk")
	}

	// poweroff ends the session and the rescue system; the server goes off.
	if res := run(t, c, "poweroff"); res.status != 0 {
		t.Fatalf("poweroff: %+v", res)
	}
	env.Eventually(t, time.Minute, func() bool {
		srv, _, err := env.Client.Server.GetByID(ctx, r.server.ID)
		return err == nil && srv.Status == hcloud.ServerStatusOff
	})
	r.waitClosed(t)

	// create_image keeps the disk; a server from the snapshot carries it.
	img := must[hcloud.ServerCreateImageResult](t)(env.Client.Server.CreateImage(ctx, r.server, &hcloud.ServerCreateImageOpts{Type: hcloud.ImageTypeSnapshot}))
	wait(t, env, img.Action)
	if disk, ok := env.Sim.ImageDiskContent(img.Image.ID); !ok || !bytes.Equal(disk, payload) {
		t.Fatalf("snapshot disk: %d bytes, %v", len(disk), ok)
	}
	clone := must[hcloud.ServerCreateResult](t)(env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
		Name: "clone", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{ID: img.Image.ID},
		Location: &hcloud.Location{Name: "fsn1"},
	}))
	if disk, ok := env.Sim.DiskContent(clone.Server.ID); !ok || !bytes.Equal(disk, payload) {
		t.Fatalf("server from the snapshot: %d bytes, %v", len(disk), ok)
	}
	wait(t, env, append([]*hcloud.Action{clone.Action}, clone.NextActions...)...)
	// Rebuilding from a system image gives the stock disk back.
	rb := must[hcloud.ServerRebuildResult](t)(env.Client.Server.RebuildWithResult(ctx, clone.Server, hcloud.ServerRebuildOpts{Image: &hcloud.Image{Name: "debian-13"}}))
	wait(t, env, rb.Action)
	if _, ok := env.Sim.DiskContent(clone.Server.ID); ok {
		t.Fatal("disk content survived a rebuild from a system image")
	}
}

// waitClosed waits until the rescue SSH port refuses connections.
func (r *rescueEnv) waitClosed(t *testing.T) {
	t.Helper()
	testwait.Eventually(t, 5*time.Second, "rescue SSH on "+r.addr+" refuses connections", func() error {
		conn, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err != nil {
			return nil
		}
		_ = conn.Close()
		return errors.New("still accepts connections")
	})
}

func TestRescueSSHRefusesWrongKeyAndUser(t *testing.T) {
	r := newRescueEnv(t)
	if _, _, err := r.dial(t, "root", newSSHKey(t)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("foreign key: err = %v", err)
	}
	if _, _, err := r.dial(t, "admin", r.key); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("user admin: err = %v", err)
	}
	if _, _, err := r.dial(t, "root", r.key); err != nil {
		t.Fatalf("rescue key: %v", err)
	}
}

func TestRescueSSHStopsOnPowerOffAndNotForNormalBoots(t *testing.T) {
	r := newRescueEnv(t)
	env, ctx := r.env, testCtx(t)
	c, _, err := r.dial(t, "root", r.key)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, env, must[*hcloud.Action](t)(env.Client.Server.Poweroff(ctx, r.server)))
	r.waitClosed(t)
	// The server closed the connection; the client learns it when its next
	// request meets the closed socket, which under load can take a moment.
	testwait.Eventually(t, 5*time.Second, "the open connection to end with the power off", func() error {
		s, err := c.NewSession()
		if err != nil {
			return nil
		}
		_ = s.Close()
		return errors.New("an open connection survived the power off")
	})
	// Rescue is used up: the next boot is the normal OS, without SSH.
	wait(t, env, must[*hcloud.Action](t)(env.Client.Server.Poweron(ctx, r.server)))
	time.Sleep(20 * time.Millisecond)
	r.waitClosed(t)
	if st := env.Sim.ServerStates()[0]; st.InRescue {
		t.Fatal("server still in rescue after a normal boot")
	}
}

func TestDiskContentAccessors(t *testing.T) {
	env := newEnv(t)
	srv := createServer(t, env, serverSpec{name: "plain"})
	if _, ok := env.Sim.DiskContent(srv.ID); ok {
		t.Error("a server from a system image has disk content")
	}
	if _, ok := env.Sim.DiskContent(42); ok {
		t.Error("unknown server has disk content")
	}
	img := must[hcloud.ServerCreateImageResult](t)(env.Client.Server.CreateImage(testCtx(t), srv, nil))
	wait(t, env, img.Action)
	if _, ok := env.Sim.ImageDiskContent(img.Image.ID); ok {
		t.Error("snapshot of a stock server has disk content")
	}
	if port := env.Sim.RescueSSHPort(); port != 0 {
		t.Errorf("RescueSSHPort = %d before ServeRescueSSH", port)
	}
}
