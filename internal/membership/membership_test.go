package membership_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/role"

	simclock "github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/membership"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// world is a bootstrapped Talos cluster of fake control planes.
type world struct {
	nodes       map[string]*talossim.Node
	cl          *talossim.Cluster
	clk         *simclock.Manual
	talosconfig []byte
}

func newWorld(t *testing.T, count int) *world {
	t.Helper()
	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), config.TalosVersionCurrent)
	if err != nil {
		t.Fatal(err)
	}
	in, err := generate.NewInput("m", "https://127.0.0.1:6443", constants.DefaultKubernetesVersion, generate.WithSecretsBundle(bundle), generate.WithInstallDisk("/dev/sda"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := in.Config(machine.TypeControlPlane)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := cfg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{nodes: map[string]*talossim.Node{}, cl: talossim.NewCluster("m"), clk: simclock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	timings := talossim.Timings{Boot: 10 * time.Second, Reboot: 10 * time.Second, Install: 20 * time.Second, Upgrade: 20 * time.Second, Reset: 5 * time.Second}
	for i := 1; i <= count; i++ {
		name := fmt.Sprintf("m-cp-%d", i)
		n, err := talossim.NewNode(talossim.NodeOptions{
			Addr: fmt.Sprintf("127.78.%d.%d:0", os.Getpid()%250+1, i), Hostname: name, Clock: w.clk, Cluster: w.cl,
			Timings: &timings, Logf: t.Logf, UserData: func() []byte { return cp },
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(n.Stop)
		w.nodes[name] = n
	}
	w.advanceUntil(t, "every control plane running", func() bool {
		for _, n := range w.nodes {
			if n.State() != talossim.StateRunning {
				return false
			}
		}
		return true
	})
	cert, err := secrets.NewAdminCertificateAndKey(time.Now(), bundle.Certs.OS, role.MakeSet(role.Admin), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tc := clientconfig.NewConfig("m", []string{w.nodes["m-cp-1"].IP().String()}, bundle.Certs.OS.Crt, cert)
	if w.talosconfig, err = tc.Bytes(); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(t.Context(), client.WithConfig(tc), client.WithEndpoints(w.nodes["m-cp-1"].Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bootstrap(t.Context(), &machineapi.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}
	w.advanceUntil(t, "every control plane in etcd", func() bool { return len(w.cl.Members()) == count })
	return w
}

func (w *world) advanceUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Eventually(t, 10*time.Second, what, func() error {
		if cond() {
			return nil
		}
		w.clk.Advance(5 * time.Second)
		return fmt.Errorf("not yet")
	})
}

func (w *world) node(name string) membership.Node {
	return membership.Node{Name: name, Addr: w.nodes[name].Addr()}
}

func (w *world) client(t *testing.T) *membership.Client {
	t.Helper()
	c, err := membership.New(w.talosconfig)
	if err != nil {
		t.Fatal(err)
	}
	c.Clock, c.Poll, c.Timeout, c.CallTimeout = w.clk, time.Second, time.Minute, 2*time.Second
	return c
}

func healths(s *membership.Survey) string {
	var out []string
	for _, m := range s.Members {
		out = append(out, m.Name+"="+string(m.Health))
	}
	return strings.Join(out, " ")
}

// TestSurveyLeaveAndRemoveByID: a healthy survey, a control plane leaving
// with the others as witnesses, and a dead one removed by ID — each checked
// against the simulated etcd's own membership.
func TestSurveyLeaveAndRemoveByID(t *testing.T) {
	w := newWorld(t, 5)
	c := w.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	all := []membership.Node{w.node("m-cp-1"), w.node("m-cp-2"), w.node("m-cp-3"), w.node("m-cp-4"), w.node("m-cp-5")}

	s, err := c.Survey(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := healths(s), "m-cp-1=healthy m-cp-2=healthy m-cp-3=healthy m-cp-4=healthy m-cp-5=healthy"; got != want {
		t.Fatalf("survey: %s, want %s", got, want)
	}
	leaders := 0
	for _, m := range s.Members {
		if m.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders in %+v", leaders, s.Members)
	}

	// m-cp-5's machine is gone, m-cp-4's does not answer.
	w.nodes["m-cp-4"].Stop()
	known := []membership.Node{all[0], all[1], all[2], all[3]}
	s, err = c.Survey(ctx, known)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := healths(s), "m-cp-1=healthy m-cp-2=healthy m-cp-3=healthy m-cp-4=unreachable m-cp-5=no machine"; got != want {
		t.Fatalf("survey with two dead: %s, want %s", got, want)
	}
	// m-cp-5's fake node still runs etcd; a member without a machine must
	// not count as healthy all the same.
	if s.Healthy() != 3 {
		t.Fatalf("%d healthy members, want 3", s.Healthy())
	}
	m4, _ := s.Member("m-cp-4")
	if err := c.RemoveByID(ctx, m4.Name, m4.ID, []membership.Node{all[0], all[1]}); err != nil {
		t.Fatal(err)
	}
	// Again: already gone is done.
	if err := c.RemoveByID(ctx, m4.Name, m4.ID, []membership.Node{all[0]}); err != nil {
		t.Fatalf("second removal: %v", err)
	}

	// m-cp-3 leaves, even when it leads.
	witnesses := []membership.Node{all[0], all[1]}
	if err := c.Leave(ctx, all[2], witnesses); err != nil {
		t.Fatal(err)
	}
	if err := c.Leave(ctx, all[2], witnesses); err != nil {
		t.Fatalf("leaving again: %v", err)
	}
	var names []string
	for _, m := range w.cl.Members() {
		names = append(names, m.Hostname)
	}
	if got, want := strings.Join(names, " "), "m-cp-1 m-cp-2 m-cp-5"; got != want {
		t.Fatalf("members %q, want %q", got, want)
	}
	if w.nodes["m-cp-3"].EtcdRunning() {
		t.Fatal("m-cp-3 still runs etcd after leaving")
	}
}

// TestSurveyWithoutQuorumFails: with two of three members down, no control
// plane can list the members, and the error says etcd has no leader.
func TestSurveyWithoutQuorumFails(t *testing.T) {
	w := newWorld(t, 3)
	c := w.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	w.nodes["m-cp-2"].Stop()
	w.nodes["m-cp-3"].Stop()
	s, err := c.Survey(ctx, []membership.Node{w.node("m-cp-1"), w.node("m-cp-2"), w.node("m-cp-3")})
	if err == nil {
		t.Fatalf("survey without quorum answered: %s", healths(s))
	}
	if !strings.Contains(err.Error(), "no leader") {
		t.Fatalf("survey error does not say etcd lost its leader: %v", err)
	}
}
