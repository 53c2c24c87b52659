// Package formation turns booted Talos servers into a Kubernetes cluster: it pushes
// each node's machine configuration over the maintenance API, bootstraps etcd on
// the primary control plane once, waits for etcd membership, the API server and
// every node to be Ready, and hands back the talosconfig and kubeconfig.
//
// Every step is idempotent: a node that already runs a configuration is left alone,
// and bootstrap answers "already done" on a formed cluster.
package formation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talos"
)

// Node is one server of the cluster, as Hetzner reports it.
type Node struct {
	Name        string
	ID          int64
	Role        talos.Role // RoleControlPlane or RoleWorker
	Pool        string
	PublicIPv4  netip.Addr
	PublicIPv6  netip.Addr
	PrivateIPv4 netip.Addr
}

// Inputs are what Form needs.
type Inputs struct {
	Cluster     *config.Cluster
	Nodes       []Node
	Secrets     *secrets.Bundle
	HCloudToken string // goes into the control planes' VIP documents
	// KubeAPIURL is the external API URL written into the kubeconfig.
	KubeAPIURL string
	// ClusterInputs extras: load balancer and VIP addresses.
	KubeAPILoadBalancerPublicIPv4 netip.Addr
	PublicVIPIPv4                 netip.Addr
	// PollInterval is how often waits look again (default 2s).
	PollInterval time.Duration
	// Timeout bounds each wait (default 15 minutes).
	Timeout  time.Duration
	Progress io.Writer
}

// Result is a formed cluster's client configuration. Both hold credentials.
type Result struct {
	Talosconfig []byte
	Kubeconfig  []byte
	// Bootstrapped is true when this run bootstrapped etcd.
	Bootstrapped bool
	// Configured lists the nodes this run pushed a first configuration to.
	Configured []string
	// Updated lists running nodes whose configuration this run changed.
	Updated []string
}

func (in *Inputs) defaults() {
	if in.PollInterval <= 0 {
		in.PollInterval = 2 * time.Second
	}
	if in.Timeout <= 0 {
		in.Timeout = 15 * time.Minute
	}
	if in.Progress == nil {
		in.Progress = io.Discard
	}
}

// Form configures, bootstraps and waits for the cluster.
func Form(ctx context.Context, in Inputs) (*Result, error) {
	in.defaults()
	c := in.Cluster
	var cps []talos.ControlPlaneNode
	for _, n := range in.Nodes {
		if n.Role == talos.RoleControlPlane {
			cps = append(cps, talos.ControlPlaneNode{Name: n.Name, PrivateIPv4: n.PrivateIPv4, PublicIPv4: n.PublicIPv4, PublicIPv6: n.PublicIPv6})
		}
	}
	if len(cps) == 0 {
		return nil, errors.New("no control-plane servers to form a cluster with")
	}
	tc, err := talos.Talosconfig(c, in.Secrets, cps)
	if err != nil {
		return nil, err
	}
	tcBytes, err := talos.Marshal(tc)
	if err != nil {
		return nil, err
	}
	mtls, err := clientTLS(tc)
	if err != nil {
		return nil, err
	}
	ci := talos.ClusterInputs{
		Secrets: in.Secrets, HCloudToken: in.HCloudToken, ControlPlanes: cps,
		KubeAPILoadBalancerPublicIPv4: in.KubeAPILoadBalancerPublicIPv4, PublicVIPIPv4: in.PublicVIPIPv4,
	}
	res := &Result{Talosconfig: tcBytes}
	f := &former{in: in, mtls: mtls}

	// 1. Configure every node that is still in maintenance mode, in parallel.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	configs := map[string][]byte{}
	var running []Node // already configured before this run
	for _, n := range in.Nodes {
		data, err := talos.Generate(c, talos.NodeInputs{ClusterInputs: ci, Role: n.Role, Pool: n.Pool, ServerName: n.Name, ServerID: n.ID})
		if err != nil {
			return nil, err
		}
		configs[n.Name] = data
	}
	for _, n := range in.Nodes {
		wg.Go(func() {
			applied, err := f.configure(ctx, n, configs[n.Name])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
			}
			if applied {
				res.Configured = append(res.Configured, n.Name)
			} else if err == nil {
				running = append(running, n)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Strings(res.Configured)

	// 1b. Nodes that were already running get a changed configuration one at a
	// time, control planes first, each back before the next: a change that needs
	// a reboot must not take several nodes down at once.
	sort.Slice(running, func(i, j int) bool {
		if (running[i].Role == talos.RoleControlPlane) != (running[j].Role == talos.RoleControlPlane) {
			return running[i].Role == talos.RoleControlPlane
		}
		return running[i].Name < running[j].Name
	})
	for _, n := range running {
		updated, err := f.update(ctx, n, configs[n.Name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
		if updated {
			res.Updated = append(res.Updated, n.Name)
		}
	}

	// 2. Bootstrap the primary control plane (the first by name), once.
	primary := primaryNode(in.Nodes)
	if res.Bootstrapped, err = f.bootstrap(ctx, primary); err != nil {
		return nil, err
	}
	// 3. etcd has every control plane.
	if err := f.waitEtcd(ctx, primary, len(cps)); err != nil {
		return nil, err
	}
	// 4. The kubeconfig, pointed at the external API URL.
	kc, err := f.kubeconfig(ctx, primary)
	if err != nil {
		return nil, err
	}
	if res.Kubeconfig, err = rewriteServer(kc, in.KubeAPIURL); err != nil {
		return nil, err
	}
	// 5. The API server answers and every node is Ready.
	if err := f.waitNodesReady(ctx, res.Kubeconfig, in.Nodes); err != nil {
		return nil, err
	}
	return res, nil
}

type former struct {
	in   Inputs
	mtls *tls.Config
}

func (f *former) say(format string, args ...any) {
	fmt.Fprintf(f.in.Progress, "  "+format+"\n", args...)
}

// clientTLS is the mTLS configuration of the talosconfig's admin certificate.
func clientTLS(cfg *clientconfig.Config) (*tls.Config, error) {
	ctxName := cfg.Context
	cc, ok := cfg.Contexts[ctxName]
	if !ok {
		return nil, fmt.Errorf("talosconfig has no context %q", ctxName)
	}
	dec := func(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
	ca, err := dec(cc.CA)
	if err != nil {
		return nil, errors.New("talosconfig: bad CA encoding")
	}
	crt, err := dec(cc.Crt)
	if err != nil {
		return nil, errors.New("talosconfig: bad certificate encoding")
	}
	key, err := dec(cc.Key)
	if err != nil {
		return nil, errors.New("talosconfig: bad key encoding")
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, errors.New("talosconfig: bad client certificate")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("talosconfig: bad CA certificate")
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13}, nil
}

func (f *former) dial(ctx context.Context, n Node, maintenance bool) (*client.Client, error) {
	tlsCfg := f.mtls.Clone()
	if maintenance {
		// The maintenance API has a self-signed certificate and no client auth;
		// there is nothing to verify it against yet (as talosctl --insecure).
		tlsCfg = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // maintenance mode has no CA yet
	}
	return client.New(ctx, client.WithEndpoints(n.PublicIPv4.String()), client.WithTLSConfig(tlsCfg))
}

// probe reports whether the node answers with mTLS (configured) or in maintenance.
func (f *former) probe(ctx context.Context, n Node) (configured, maintenance bool) {
	try := func(insecure bool) bool {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := f.dial(pctx, n, insecure)
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = c.Version(pctx)
		return err == nil
	}
	if try(false) {
		return true, false
	}
	return false, try(true)
}

// configure pushes the node's configuration if it is in maintenance mode and waits
// until it answers with mTLS. A node that already does is left as it is.
func (f *former) configure(ctx context.Context, n Node, data []byte) (applied bool, err error) {
	deadline := time.Now().Add(f.in.Timeout)
	for {
		configured, maintenance := f.probe(ctx, n)
		switch {
		case configured:
			return applied, nil
		case maintenance && !applied:
			if err := f.apply(ctx, n, data); err != nil {
				return false, err
			}
			applied = true
			f.say("✓ configuration applied to %s (%s)", n.Name, n.PublicIPv4)
		}
		if time.Now().After(deadline) {
			if applied {
				return applied, fmt.Errorf("did not come back with its configuration within %s", f.in.Timeout)
			}
			return false, fmt.Errorf("the Talos API at %s:50000 did not answer within %s (is the server running, and does the firewall allow this machine?)", n.PublicIPv4, f.in.Timeout)
		}
		if err := sleep(ctx, f.in.PollInterval); err != nil {
			return applied, err
		}
	}
}

// update pushes a changed configuration to a running node. A dry run first asks
// Talos whether anything would change (and whether that needs a reboot), so an
// unchanged node is left alone. talos.applyMode picks the mode as the module does
// (staged_if_needing_reboot stages only what needs a reboot); a staged change is
// followed by a reboot when talos.stagedAutomaticRebootEnabled is on. The node must
// answer again before update returns.
func (f *former) update(ctx context.Context, n Node, data []byte) (bool, error) {
	var details string
	var dryMode machine.ApplyConfigurationRequest_Mode
	err := f.withClient(ctx, n, func(c *client.Client) error {
		resp, err := c.ApplyConfiguration(ctx, &machine.ApplyConfigurationRequest{Data: data, Mode: machine.ApplyConfigurationRequest_AUTO, DryRun: true})
		if err != nil {
			return err
		}
		for _, m := range resp.GetMessages() {
			details += m.GetModeDetails()
			dryMode = m.GetMode()
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("dry-run configuration: %w", err)
	}
	if strings.Contains(details, "No changes.") {
		return false, nil
	}
	want := applyModes[f.in.Cluster.Talos.ApplyMode]
	if f.in.Cluster.Talos.ApplyMode == "staged_if_needing_reboot" {
		want = machine.ApplyConfigurationRequest_AUTO
		if dryMode == machine.ApplyConfigurationRequest_REBOOT {
			want = machine.ApplyConfigurationRequest_STAGED
		}
	}
	var mode machine.ApplyConfigurationRequest_Mode
	err = f.withClient(ctx, n, func(c *client.Client) error {
		resp, err := c.ApplyConfiguration(ctx, &machine.ApplyConfigurationRequest{Data: data, Mode: want})
		if err == nil && len(resp.GetMessages()) > 0 {
			mode = resp.GetMessages()[0].GetMode()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("apply configuration (mode %s): %w", strings.ToLower(want.String()), err)
	}
	f.say("✓ configuration updated on %s (%s)", n.Name, strings.ToLower(mode.String()))
	if mode == machine.ApplyConfigurationRequest_STAGED {
		if !f.in.Cluster.Talos.StagedAutomaticRebootEnabled {
			f.say("  %s has a staged configuration; it takes effect at its next reboot", n.Name)
			return true, nil
		}
		if err := f.withClient(ctx, n, func(c *client.Client) error { return c.Reboot(ctx) }); err != nil {
			return true, fmt.Errorf("reboot into the staged configuration: %w", err)
		}
		f.say("  rebooting %s into its staged configuration", n.Name)
		mode = machine.ApplyConfigurationRequest_REBOOT
	}
	deadline := time.Now().Add(f.in.Timeout)
	if mode == machine.ApplyConfigurationRequest_REBOOT {
		// Let the node go down first, so the wait below sees it come back
		// rather than the moment before its reboot.
		for configured, _ := f.probe(ctx, n); configured && time.Now().Before(deadline); configured, _ = f.probe(ctx, n) {
			if err := sleep(ctx, f.in.PollInterval); err != nil {
				return true, err
			}
		}
	}
	for {
		if err := sleep(ctx, f.in.PollInterval); err != nil {
			return true, err
		}
		if configured, _ := f.probe(ctx, n); configured {
			return true, nil
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("did not come back after its configuration change within %s", f.in.Timeout)
		}
	}
}

// applyModes maps talos.applyMode to the API's modes.
var applyModes = map[string]machine.ApplyConfigurationRequest_Mode{
	"auto":      machine.ApplyConfigurationRequest_AUTO,
	"reboot":    machine.ApplyConfigurationRequest_REBOOT,
	"no_reboot": machine.ApplyConfigurationRequest_NO_REBOOT,
	"staged":    machine.ApplyConfigurationRequest_STAGED,
}

func (f *former) apply(ctx context.Context, n Node, data []byte) error {
	c, err := f.dial(ctx, n, true)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ApplyConfiguration(ctx, &machine.ApplyConfigurationRequest{Data: data, Mode: machine.ApplyConfigurationRequest_AUTO})
	if err != nil {
		return fmt.Errorf("apply configuration: %w", err)
	}
	return nil
}

func primaryNode(nodes []Node) Node {
	var cps []Node
	for _, n := range nodes {
		if n.Role == talos.RoleControlPlane {
			cps = append(cps, n)
		}
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].Name < cps[j].Name })
	return cps[0]
}

// bootstrap starts etcd on the primary; "already bootstrapped" is success.
func (f *former) bootstrap(ctx context.Context, p Node) (bool, error) {
	deadline := time.Now().Add(f.in.Timeout)
	for {
		err := f.withClient(ctx, p, func(c *client.Client) error {
			return c.Bootstrap(ctx, &machine.BootstrapRequest{})
		})
		if err == nil {
			f.say("✓ etcd bootstrapped on %s", p.Name)
			return true, nil
		}
		if status.Code(err) == codes.AlreadyExists {
			return false, nil // formed earlier: bootstrapping again would split etcd
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("bootstrap %s: %w", p.Name, err)
		}
		if err := sleep(ctx, f.in.PollInterval); err != nil {
			return false, err
		}
	}
}

func (f *former) withClient(ctx context.Context, n Node, fn func(*client.Client) error) error {
	c, err := f.dial(ctx, n, false)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

func (f *former) waitEtcd(ctx context.Context, p Node, want int) error {
	deadline := time.Now().Add(f.in.Timeout)
	last := -1
	for {
		n := 0
		err := f.withClient(ctx, p, func(c *client.Client) error {
			resp, err := c.EtcdMemberList(ctx, &machine.EtcdMemberListRequest{})
			if err != nil {
				return err
			}
			for _, m := range resp.GetMessages() {
				n += len(m.GetMembers())
			}
			return nil
		})
		if err == nil && n != last {
			f.say("  etcd has %d of %d members", n, want)
			last = n
		}
		if err == nil && n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd has %d of %d members after %s (last error: %v)", n, want, f.in.Timeout, err)
		}
		if err := sleep(ctx, f.in.PollInterval); err != nil {
			return err
		}
	}
}

func (f *former) kubeconfig(ctx context.Context, p Node) ([]byte, error) {
	deadline := time.Now().Add(f.in.Timeout)
	for {
		var kc []byte
		err := f.withClient(ctx, p, func(c *client.Client) error {
			var err error
			kc, err = c.Kubeconfig(ctx)
			return err
		})
		if err == nil {
			return kc, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("get the kubeconfig from %s: %w", p.Name, err)
		}
		if err := sleep(ctx, f.in.PollInterval); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
