package talossim_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	stdx509 "crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/role"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	simclock "github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

const endpoint = "https://127.0.0.1:6443"

type genCluster struct {
	bundle *secrets.Bundle
	cp, wk []byte
}

func generateCluster(t *testing.T, name string) genCluster {
	t.Helper()
	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), config.TalosVersionCurrent)
	if err != nil {
		t.Fatal(err)
	}
	in, err := generate.NewInput(name, endpoint, constants.DefaultKubernetesVersion, generate.WithSecretsBundle(bundle), generate.WithInstallDisk("/dev/sda"))
	if err != nil {
		t.Fatal(err)
	}
	render := func(typ machine.Type) []byte {
		cfg, err := in.Config(typ)
		if err != nil {
			t.Fatal(err)
		}
		b, err := cfg.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return genCluster{bundle: bundle, cp: render(machine.TypeControlPlane), wk: render(machine.TypeWorker)}
}

var ipSeq = 0

// nextIP returns a loopback address unlikely to be used by other tests.
func nextIP() string {
	ipSeq++
	return fmt.Sprintf("127.77.%d.%d", os.Getpid()%250+1, ipSeq)
}

var fastTimings = talossim.Timings{Boot: 10 * time.Second, Reboot: 10 * time.Second, Install: 20 * time.Second,
	Upgrade: 20 * time.Second, Reset: 5 * time.Second}

func newNode(t *testing.T, clk clock.Clock, cl *talossim.Cluster, host string, userData []byte) *talossim.Node {
	t.Helper()
	opts := talossim.NodeOptions{
		Addr: nextIP() + ":0", Hostname: host, Clock: clk, Cluster: cl, Timings: &fastTimings, Logf: t.Logf,
	}
	if userData != nil {
		opts.UserData = func() []byte { return userData }
	}
	n, err := talossim.NewNode(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// advanceUntil steps the manual clock until cond holds.
func advanceUntil(t *testing.T, clk *simclock.Manual, what string, cond func() bool) {
	t.Helper()
	testwait.Eventually(t, 5*time.Second, what, func() error {
		if cond() {
			return nil
		}
		clk.Advance(5 * time.Second)
		return errors.New("not yet")
	})
}

func waitState(t *testing.T, clk *simclock.Manual, n *talossim.Node, s talossim.State) {
	t.Helper()
	advanceUntil(t, clk, fmt.Sprintf("%s to be %s (is %s)", n.Hostname(), s, n.State()), func() bool { return n.State() == s })
}

// waitUnreachable fails the test unless addr stops answering within.
func waitUnreachable(t *testing.T, addr string, within time.Duration, what string) {
	t.Helper()
	testwait.Eventually(t, within, what, func() error {
		if reachable(addr) {
			return fmt.Errorf("%s still answers", addr)
		}
		return nil
	})
}

func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func maintenanceClient(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.New(t.Context(), client.WithEndpoints(addr), client.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roleClient connects like talosctl with a talosconfig whose client
// certificate is issued by the bundle's OS CA with the given roles.
func roleClient(t *testing.T, b *secrets.Bundle, addr string, roles ...role.Role) *client.Client {
	t.Helper()
	cert, err := secrets.NewAdminCertificateAndKey(time.Now(), b.Certs.OS, role.MakeSet(roles...), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientconfig.NewConfig("test", []string{addr}, b.Certs.OS.Crt, cert)
	c, err := client.New(t.Context(), client.WithConfig(cfg), client.WithEndpoints(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got nil", code)
	}
	if got := status.Code(err); got != code {
		t.Fatalf("want code %s, got %s (%v)", code, got, err)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not contain %q", err, contains)
	}
}

func TestSingleControlPlaneLifecycle(t *testing.T) {
	gen := generateCluster(t, "sim")
	clk := simclock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cl := talossim.NewCluster("sim")
	bootstrapped := make(chan string, 1)
	cl.SetHooks(talossim.ClusterHooks{OnBootstrap: func(n *talossim.Node) { bootstrapped <- n.Hostname() }})
	n := newNode(t, clk, cl, "sim-cp-1", nil)

	if n.State() != talossim.StateBooting {
		t.Fatalf("state = %s, want booting", n.State())
	}
	waitState(t, clk, n, talossim.StateMaintenance)
	addr := n.Addr()

	// --- maintenance mode: insecure, read-only but ApplyConfiguration
	mc := maintenanceClient(t, addr)
	ctx := ctxT(t)
	v, err := mc.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Messages[0]; got.Version.Tag != talossim.DefaultVersion || got.Platform.Name != "hcloud" {
		t.Fatalf("version = %v", got)
	}
	wantCode(t, mc.Bootstrap(ctx, &machineapi.BootstrapRequest{}), codes.PermissionDenied, "not authorized")
	_, err = mc.EtcdMemberList(ctx, &machineapi.EtcdMemberListRequest{})
	wantCode(t, err, codes.Unimplemented, "machine type is not set")
	_, err = mc.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: gen.cp, Mode: machineapi.ApplyConfigurationRequest_STAGED})
	wantCode(t, err, codes.Unimplemented, "not supported in maintenance mode")
	_, err = mc.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: []byte("machine: [oops"), Mode: machineapi.ApplyConfigurationRequest_AUTO})
	wantCode(t, err, codes.InvalidArgument, "")

	resp, err := mc.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: gen.cp, Mode: machineapi.ApplyConfigurationRequest_AUTO})
	if err != nil {
		t.Fatal(err)
	}
	if m := resp.Messages[0]; m.Mode != machineapi.ApplyConfigurationRequest_REBOOT {
		t.Fatalf("maintenance apply mode = %s (%s)", m.Mode, m.ModeDetails)
	}
	if err := n.WaitState(ctx, talossim.StateInstalling); err != nil {
		t.Fatal(err)
	}
	// The API goes down right after the triggering call has been answered
	// (graceful stop), so give it a moment of real time.
	waitUnreachable(t, addr, 2*time.Second, "API stops answering while installing")
	waitState(t, clk, n, talossim.StateRunning)
	if !n.Configured() || !n.IsControlPlane() {
		t.Fatal("node not configured as control plane")
	}

	// --- configured: the insecure client is refused, mTLS works
	if _, err := maintenanceClient(t, addr).Version(ctxT(t)); err == nil {
		t.Fatal("client without certificate accepted in configured mode")
	}
	admin := roleClient(t, gen.bundle, addr, role.Admin)
	ctx = ctxT(t)
	if _, err := admin.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if svc := serviceState(t, admin, "etcd"); svc != "Preparing" {
		t.Fatalf("etcd before bootstrap: %s", svc)
	}
	if _, err := admin.EtcdMemberList(ctx, &machineapi.EtcdMemberListRequest{}); err == nil {
		t.Fatal("member list before bootstrap succeeded")
	}

	// role enforcement: a reader may read, not bootstrap or reboot
	reader := roleClient(t, gen.bundle, addr, role.Reader)
	if _, err := reader.Version(ctx); err != nil {
		t.Fatal(err)
	}
	wantCode(t, reader.Bootstrap(ctx, &machineapi.BootstrapRequest{}), codes.PermissionDenied, "not authorized")
	wantCode(t, reader.Reboot(ctx), codes.PermissionDenied, "not authorized")
	_, err = reader.Kubeconfig(ctx)
	wantCode(t, err, codes.PermissionDenied, "")

	// a client certificate from another CA is rejected in the handshake
	other := generateCluster(t, "other")
	if _, err := roleClient(t, other.bundle, addr, role.Admin).Version(ctxT(t)); err == nil {
		t.Fatal("client certificate from a foreign CA accepted")
	}

	// --- bootstrap once
	if err := admin.Bootstrap(ctx, &machineapi.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-bootstrapped; got != "sim-cp-1" {
		t.Fatalf("OnBootstrap for %s", got)
	}
	wantCode(t, admin.Bootstrap(ctx, &machineapi.BootstrapRequest{}), codes.AlreadyExists, "etcd data directory is not empty")
	if svc := serviceState(t, admin, "etcd"); svc != "Running" {
		t.Fatalf("etcd after bootstrap: %s", svc)
	}
	ml, err := admin.EtcdMemberList(ctx, &machineapi.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	members := ml.Messages[0].Members
	if len(members) != 1 || members[0].Hostname != "sim-cp-1" || members[0].Id == 0 {
		t.Fatalf("members = %v", members)
	}

	// --- kubeconfig
	kc, err := admin.Kubeconfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkKubeconfig(t, kc, gen.bundle)
	raw, err := admin.KubeconfigRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkTarGz(t, raw)

	// --- configured apply: same config needs no reboot; machine type change does
	resp, err = admin.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: gen.cp, Mode: machineapi.ApplyConfigurationRequest_AUTO})
	if err != nil {
		t.Fatal(err)
	}
	if m := resp.Messages[0]; m.Mode != machineapi.ApplyConfigurationRequest_NO_REBOOT || m.ModeDetails != "Applied configuration without a reboot" {
		t.Fatalf("apply same config: %s %q", m.Mode, m.ModeDetails)
	}
	resp, err = admin.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: gen.wk, Mode: machineapi.ApplyConfigurationRequest_AUTO, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := resp.Messages[0]; m.Mode != machineapi.ApplyConfigurationRequest_REBOOT || !strings.Contains(m.ModeDetails, "Dry run summary") {
		t.Fatalf("dry run: %s %q", m.Mode, m.ModeDetails)
	}
	_, err = admin.ApplyConfiguration(ctx, &machineapi.ApplyConfigurationRequest{Data: gen.wk, Mode: machineapi.ApplyConfigurationRequest_NO_REBOOT})
	wantCode(t, err, codes.InvalidArgument, "can't be applied in immediate mode")
	if !n.IsControlPlane() {
		t.Fatal("dry run / refused apply changed the config")
	}

	// --- etcd errors of a single-member cluster
	_, err = admin.EtcdForfeitLeadership(ctx, &machineapi.EtcdForfeitLeadershipRequest{})
	if err == nil || !strings.Contains(err.Error(), "only one member") {
		t.Fatalf("forfeit with one member: %v", err)
	}
	err = admin.EtcdLeaveCluster(ctx, &machineapi.EtcdLeaveClusterRequest{})
	if err == nil || !strings.Contains(err.Error(), "not enough started members") {
		t.Fatalf("leave as last member: %v", err)
	}
	err = admin.EtcdRemoveMemberByID(ctx, &machineapi.EtcdRemoveMemberByIDRequest{MemberId: 42})
	wantCode(t, err, codes.NotFound, "member not found")

	// --- reboot: unreachable for a simulated while, then back with a new boot ID
	bootID := n.BootID()
	if err := roleClient(t, gen.bundle, addr, role.Operator).Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitState(ctx, talossim.StateRebooting); err != nil {
		t.Fatal(err)
	}
	// A graceful stop lets the Reboot call finish first.
	waitUnreachable(t, addr, 3*time.Second, "API stops answering after reboot")
	if _, err := roleClient(t, gen.bundle, addr, role.Admin).Version(ctxT(t)); err == nil {
		t.Fatal("Version answered while rebooting")
	}
	waitState(t, clk, n, talossim.StateRunning)
	if n.BootID() == bootID {
		t.Fatal("boot ID unchanged after reboot")
	}
	admin = roleClient(t, gen.bundle, addr, role.Admin)
	ctx = ctxT(t)
	if _, err := admin.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if !n.EtcdRunning() || len(cl.Members()) != 1 {
		t.Fatal("etcd member did not come back after reboot")
	}
}

func serviceState(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	resp, err := c.ServiceList(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp.Messages[0].Services {
		if s.Id == id {
			return s.State
		}
	}
	return ""
}

func checkTarGz(t *testing.T, r io.ReadCloser) {
	t.Helper()
	defer r.Close()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil || h.Name != "kubeconfig" {
		t.Fatalf("tar entry %v, %v", h, err)
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Fatalf("more than one file in kubeconfig archive: %v", err)
	}
}

func checkKubeconfig(t *testing.T, kc []byte, b *secrets.Bundle) {
	t.Helper()
	var doc struct {
		Clusters []struct {
			Name    string
			Cluster struct {
				Server string
				CAData string `yaml:"certificate-authority-data"`
			}
		}
		Users []struct {
			Name string
			User struct {
				Cert string `yaml:"client-certificate-data"`
				Key  string `yaml:"client-key-data"`
			}
		}
		CurrentContext string `yaml:"current-context"`
	}
	if err := yaml.Unmarshal(kc, &doc); err != nil {
		t.Fatalf("kubeconfig: %v\n%s", err, kc)
	}
	if len(doc.Clusters) != 1 || doc.Clusters[0].Cluster.Server != endpoint || len(doc.Users) != 1 || doc.CurrentContext != "admin@sim" {
		t.Fatalf("kubeconfig:\n%s", kc)
	}
	crtPEM, _ := base64.StdEncoding.DecodeString(doc.Users[0].User.Cert)
	keyPEM, _ := base64.StdEncoding.DecodeString(doc.Users[0].User.Key)
	caPEM, _ := base64.StdEncoding.DecodeString(doc.Clusters[0].Cluster.CAData)
	if _, err := tls.X509KeyPair(crtPEM, keyPEM); err != nil {
		t.Fatalf("client key pair: %v", err)
	}
	if !bytes.Contains(caPEM, b.Certs.K8s.Crt) {
		t.Fatal("kubeconfig CA is not the cluster CA")
	}
	blk, _ := pem.Decode(crtPEM)
	crt, err := stdx509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := stdx509.NewCertPool()
	pool.AppendCertsFromPEM(b.Certs.K8s.Crt)
	if _, err := crt.Verify(stdx509.VerifyOptions{Roots: pool, KeyUsages: []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("admin certificate not issued by the cluster CA: %v", err)
	}
	if len(crt.Subject.Organization) != 1 || crt.Subject.Organization[0] != "system:masters" {
		t.Fatalf("admin certificate organization %v", crt.Subject.Organization)
	}
}

// TestClusterEtcdAndUpgrade boots nodes configured from user data (the hcloud
// platform path), joins control planes after bootstrap, removes a dead member,
// and upgrades.
func TestClusterEtcdAndUpgrade(t *testing.T) {
	gen := generateCluster(t, "sim")
	clk := simclock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cl := talossim.NewCluster("sim")
	cp1 := newNode(t, clk, cl, "sim-cp-1", gen.cp)
	cp2 := newNode(t, clk, cl, "sim-cp-2", gen.cp)
	wk := newNode(t, clk, cl, "sim-wk-1", gen.wk)
	for _, n := range []*talossim.Node{cp1, cp2, wk} {
		waitState(t, clk, n, talossim.StateRunning)
	}
	ctx := ctxT(t)
	c1 := roleClient(t, gen.bundle, cp1.Addr(), role.Admin)
	cw := roleClient(t, gen.bundle, wk.Addr(), role.Admin)

	wantCode(t, cw.Bootstrap(ctx, &machineapi.BootstrapRequest{}), codes.FailedPrecondition, "control plane")

	// Addressed to the worker through cp1, as talosctl does with an endpoint:
	// cp1 forwards the call like apid, with the caller's roles.
	viaCP := client.WithNode(ctx, wk.IP().String())
	wantCode(t, c1.Bootstrap(viaCP, &machineapi.BootstrapRequest{}), codes.FailedPrecondition, "control plane")
	if _, err := c1.Kubeconfig(viaCP); status.Code(err) != codes.Unimplemented {
		t.Fatalf("kubeconfig forwarded to the worker: %v", err)
	}
	reader := roleClient(t, gen.bundle, cp1.Addr(), role.Reader)
	wantCode(t, reader.Bootstrap(viaCP, &machineapi.BootstrapRequest{}), codes.PermissionDenied, "")
	_, err := cw.Kubeconfig(ctx)
	wantCode(t, err, codes.Unimplemented, "only available on control plane nodes")
	if got := serviceState(t, cw, "etcd"); got != "" {
		t.Fatalf("worker runs etcd: %q", got)
	}

	if err := c1.Bootstrap(ctx, &machineapi.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}
	if !cp2.EtcdRunning() {
		t.Fatal("cp2 did not join after bootstrap")
	}
	// bootstrap is once per cluster: another control plane refuses too
	c2 := roleClient(t, gen.bundle, cp2.Addr(), role.Admin)
	wantCode(t, c2.Bootstrap(ctx, &machineapi.BootstrapRequest{}), codes.AlreadyExists, "")

	// a third control plane booting later joins at boot
	cp3 := newNode(t, clk, cl, "sim-cp-3", gen.cp)
	waitState(t, clk, cp3, talossim.StateRunning)
	ml, err := c1.EtcdMemberList(ctx, &machineapi.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ml.Messages[0].Members); got != 3 {
		t.Fatalf("%d members, want 3", got)
	}

	// leader hands over
	fl, err := c1.EtcdForfeitLeadership(ctx, &machineapi.EtcdForfeitLeadershipRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if fl.Messages[0].Member == "" || fl.Messages[0].Member == "sim-cp-1" {
		t.Fatalf("forfeit moved leadership to %q", fl.Messages[0].Member)
	}

	// cp3 dies: its member is unhealthy, so a control plane upgrade is refused
	cp3.Stop()
	_, err = c1.Upgrade(ctx, "ghcr.io/siderolabs/installer:v1.13.10", false, false)
	if err == nil || !strings.Contains(err.Error(), "not healthy") {
		t.Fatalf("upgrade with a dead member: %v", err)
	}
	m3, ok := cl.MemberOf(cp3)
	if !ok {
		t.Fatal("cp3 member missing")
	}
	if err := c1.EtcdRemoveMemberByID(ctx, &machineapi.EtcdRemoveMemberByIDRequest{MemberId: m3.ID}); err != nil {
		t.Fatal(err)
	}
	if got := len(cl.Members()); got != 2 {
		t.Fatalf("%d members after removal", got)
	}
	_, err = c1.Upgrade(ctx, "ghcr.io/siderolabs/installer:v1.13.10", false, false)
	if err == nil || !strings.Contains(err.Error(), "insufficient to maintain quorum") {
		t.Fatalf("upgrade with two members: %v", err)
	}

	// legacy upgrade (forced) on cp1: down, then back with the new version
	if _, err := c1.Upgrade(ctx, "ghcr.io/siderolabs/installer:v1.13.10", false, true); err != nil {
		t.Fatal(err)
	}
	if err := cp1.WaitState(ctx, talossim.StateUpgrading); err != nil {
		t.Fatal(err)
	}
	waitState(t, clk, cp1, talossim.StateRunning)
	v, err := roleClient(t, gen.bundle, cp1.Addr(), role.Admin).Version(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if tag := v.Messages[0].Version.Tag; tag != "v1.13.10" {
		t.Fatalf("version after upgrade %s", tag)
	}

	// LifecycleService upgrade on the worker installs, the reboot activates it
	stream, err := cw.LifecycleClient.Upgrade(ctx, &machineapi.LifecycleServiceUpgradeRequest{
		Source: &machineapi.InstallArtifactsSource{ImageName: "factory.talos.dev/installer/abc:v1.13.11"},
	})
	if err != nil {
		t.Fatal(err)
	}
	exit := int32(-1)
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := msg.GetProgress().GetResponse().(*machineapi.LifecycleServiceInstallProgress_ExitCode); ok {
			exit = e.ExitCode
		}
	}
	if exit != 0 || wk.Version() != talossim.DefaultVersion {
		t.Fatalf("exit %d, version %s", exit, wk.Version())
	}
	if err := cw.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wk.WaitState(ctx, talossim.StateRebooting); err != nil {
		t.Fatal(err)
	}
	waitState(t, clk, wk, talossim.StateRunning)
	if wk.Version() != "v1.13.11" {
		t.Fatalf("worker version %s after reboot", wk.Version())
	}

	// graceful reset of cp2 leaves etcd; with user data still set the node
	// comes back configured and rejoins
	if err := roleClient(t, gen.bundle, cp2.Addr(), role.Admin).Reset(ctxT(t), true, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := cl.MemberOf(cp2); ok {
		t.Fatal("cp2 still a member after graceful reset")
	}
	if err := cp2.WaitState(ctx, talossim.StateResetting); err != nil {
		t.Fatal(err)
	}
	waitState(t, clk, cp2, talossim.StateRunning)
	// Rejoining etcd follows reaching Running; under load it can lag a little.
	advanceUntil(t, clk, "cp2 to rejoin etcd after reset with user data", func() bool {
		_, ok := cl.MemberOf(cp2)
		return ok && cp2.EtcdRunning()
	})
}
