package image

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

func TestHostKeyPin(t *testing.T) {
	a, err := newBuilderKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBuilderKey()
	if err != nil {
		t.Fatal(err)
	}
	var pin hostKeyPin
	for i := range 2 {
		if err := pin.check("127.0.1.1:22", nil, a.signer.PublicKey()); err != nil {
			t.Fatalf("connection %d with the first key: %v", i+1, err)
		}
	}
	err = pin.check("127.0.1.1:22", nil, b.signer.PublicKey())
	if err == nil || !strings.Contains(err.Error(), "host key of 127.0.1.1:22 changed") {
		t.Fatalf("changed key: err = %v", err)
	}
}

// TestRescueShellPinsHostKey runs the builder's SSH client against two
// simulated rescue systems: reconnecting to the first works, but the same
// address answering with the second server's host key is refused.
func TestRescueShellPinsHostKey(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{})
	port, err := env.Sim.ServeRescueSSH(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Sim.StopRescueSSH)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key, err := newBuilderKey()
	if err != nil {
		t.Fatal(err)
	}
	hk, _, err := env.Client.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "builder", PublicKey: key.authorizedKey})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, name := range []string{"a", "b"} {
		res, _, err := env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name: name, ServerType: &hcloud.ServerType{Name: "cpx11"}, Image: &hcloud.Image{Name: "debian-13"},
			Location: &hcloud.Location{Name: "ash"}, SSHKeys: []*hcloud.SSHKey{hk}, StartAfterCreate: hcloud.Ptr(false),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Action.WaitFor(ctx, res.Action); err != nil {
			t.Fatal(err)
		}
		r, _, err := env.Client.Server.EnableRescue(ctx, res.Server, hcloud.ServerEnableRescueOpts{Type: hcloud.ServerRescueTypeLinux64, SSHKeys: []*hcloud.SSHKey{hk}})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Action.WaitFor(ctx, r.Action); err != nil {
			t.Fatal(err)
		}
		a, _, err := env.Client.Server.Poweron(ctx, res.Server)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Action.WaitFor(ctx, a); err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, net.JoinHostPort(res.Server.PublicNet.IPv4.IP.String(), strconv.Itoa(port)))
	}

	pin := &hostKeyPin{}
	sh := newRescueShell(addrs[0], key, pin, simtest.LoopbackDialer(t))
	defer sh.close()
	if _, err := sh.run(ctx, "sync"); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	sh.close()
	if _, err := sh.run(ctx, "sync"); err != nil {
		t.Fatalf("reconnect to the same rescue system: %v", err)
	}
	if _, err := sh.run(ctx, "no-such-tool"); err == nil || !strings.Contains(err.Error(), "exit status 127: bash: line 1: no-such-tool: command not found") {
		t.Fatalf("unknown command: %v", err)
	}
	sh.close()
	sh.addr = addrs[1] // same pin, another host key
	_, err = sh.run(ctx, "sync")
	if err == nil || !strings.Contains(err.Error(), "changed since the first connection") {
		t.Fatalf("changed host key: err = %v", err)
	}
}
