// Package formation turns booted Talos servers into a Kubernetes cluster: it pushes
// each node's machine configuration over the maintenance API, bootstraps etcd on
// the primary control plane once, waits for etcd membership, the API server and
// every node to be Ready, and hands back the talosconfig and kubeconfig.
//
// Formation is a list of named steps on a State (APISteps, then ReadySteps), so
// that apply can run them as part of its own list and put the addons between the
// two; Form runs them all. Every step is idempotent: a node that already runs a
// configuration is left alone, and bootstrap answers "already done" on a formed
// cluster. Every wait runs on Inputs.Clock, so it follows the simulator's scaled
// time in the local world.
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

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/procedure"
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
	// Clock paces the waits and measures their timeouts; nil means the wall
	// clock. The local world passes the simulator's scaled clock.
	Clock clock.Clock
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
	in.Clock = clock.OrReal(in.Clock)
}

// State is one formation in progress: its inputs, what each step leaves for
// the next, and the Result the steps fill in.
type State struct {
	in   Inputs
	mtls *tls.Config
	// cps are the control planes, as the Talos configurations describe them.
	cps []talos.ControlPlaneNode
	// configs holds each node's machine configuration by name, generated
	// from ci.
	configs map[string][]byte
	ci      talos.ClusterInputs
	// running are the nodes that were configured before this run.
	running []Node
	// primary is the control plane that bootstraps etcd and hands out the
	// kubeconfig.
	primary Node
	// api talks to the Kubernetes API once the kubeconfig is known.
	api *kubeAPI
	// Result is what the formation has produced so far.
	Result Result
}

// NewState starts a formation with in; the steps of APISteps and ReadySteps
// then run on it.
func NewState(in Inputs) *State {
	in.defaults()
	return &State{in: in}
}

// Form configures, bootstraps and waits for the cluster: APISteps then
// ReadySteps, run on a NewState.
func Form(ctx context.Context, in Inputs) (*Result, error) {
	s := NewState(in)
	steps := append(APISteps(), ReadySteps()...)
	if _, err := procedure.Run(ctx, procedure.Runner{Clock: s.in.Clock}, steps, s); err != nil {
		return nil, err
	}
	return &s.Result, nil
}

// APISteps bring the nodes up to a Kubernetes API that answers. Every step is
// idempotent, so a formation stopped anywhere continues when run again.
func APISteps() []procedure.Step[State] {
	return []procedure.Step[State]{
		{Name: "generate configurations", Run: generateConfigs},
		{Name: "configure nodes", Run: configureNodes},
		{Name: "update running nodes", Run: updateRunningNodes},
		{Name: "bootstrap", Run: bootstrapEtcd},
		{Name: "wait for etcd", Run: waitForEtcd},
		{Name: "get kubeconfig", Run: getKubeconfig},
		{Name: "wait for API", Run: waitForAPI},
	}
}

// ReadySteps wait for every node to be Ready. What must be in the cluster
// before its nodes can become Ready (a CNI, the cloud controller manager: the
// addons) is installed between APISteps and ReadySteps.
func ReadySteps() []procedure.Step[State] {
	return []procedure.Step[State]{
		{Name: "wait for nodes", Run: waitForNodes},
	}
}

// generateConfigs makes the talosconfig and every node's machine configuration,
// and picks the primary control plane.
func generateConfigs(_ context.Context, s *State) error {
	in := s.in
	s.cps = nil
	for _, n := range in.Nodes {
		if n.Role == talos.RoleControlPlane {
			s.cps = append(s.cps, talos.ControlPlaneNode{Name: n.Name, PrivateIPv4: n.PrivateIPv4, PublicIPv4: n.PublicIPv4, PublicIPv6: n.PublicIPv6})
		}
	}
	if len(s.cps) == 0 {
		return errors.New("no control-plane servers to form a cluster with")
	}
	tc, err := talos.Talosconfig(in.Cluster, in.Secrets, s.cps)
	if err != nil {
		return err
	}
	if s.Result.Talosconfig, err = talos.Marshal(tc); err != nil {
		return err
	}
	if s.mtls, err = clientTLS(tc); err != nil {
		return err
	}
	ci := talos.ClusterInputs{
		Secrets: in.Secrets, HCloudToken: in.HCloudToken, ControlPlanes: s.cps,
		KubeAPILoadBalancerPublicIPv4: in.KubeAPILoadBalancerPublicIPv4, PublicVIPIPv4: in.PublicVIPIPv4,
	}
	s.configs, s.ci = map[string][]byte{}, ci
	for _, n := range in.Nodes {
		data, err := talos.Generate(in.Cluster, talos.NodeInputs{ClusterInputs: ci, Role: n.Role, Pool: n.Pool, ServerName: n.Name, ServerID: n.ID})
		if err != nil {
			return err
		}
		s.configs[n.Name] = data
	}
	s.primary, _ = Primary(in.Nodes)
	return nil
}

// AutoscalerConfigs are the Talos worker configurations of the cluster file's
// autoscaler pools, by pool name, for the cluster autoscaler to give the
// servers it creates. They need the cluster's configurations generated
// (the "generate configurations" step ran).
func (s *State) AutoscalerConfigs() (map[string]string, error) {
	if s.configs == nil {
		return nil, errors.New("formation: the configurations are not generated yet")
	}
	out := map[string]string{}
	for _, p := range s.in.Cluster.AutoscalerNodepools {
		data, err := talos.Generate(s.in.Cluster, talos.NodeInputs{ClusterInputs: s.ci, Role: talos.RoleAutoscaler, Pool: p.Name})
		if err != nil {
			return nil, err
		}
		out[p.Name] = string(data)
	}
	return out, nil
}

// configureNew configures every node that is still in maintenance mode, in
// parallel, and notes the ones that already run a configuration.
func configureNodes(ctx context.Context, s *State) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	s.running = nil
	for _, n := range s.in.Nodes {
		wg.Go(func() {
			applied, err := s.configure(ctx, n, s.configs[n.Name])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
			}
			if applied {
				s.Result.Configured = append(s.Result.Configured, n.Name)
			} else if err == nil {
				s.running = append(s.running, n)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	sort.Strings(s.Result.Configured)
	return nil
}

// updateRunning gives the nodes that were already running a changed
// configuration one at a time, control planes first, each back before the
// next: a change that needs a reboot must not take several nodes down at once.
func updateRunningNodes(ctx context.Context, s *State) error {
	running := s.running
	sort.Slice(running, func(i, j int) bool {
		if (running[i].Role == talos.RoleControlPlane) != (running[j].Role == talos.RoleControlPlane) {
			return running[i].Role == talos.RoleControlPlane
		}
		return running[i].Name < running[j].Name
	})
	for _, n := range running {
		updated, err := s.update(ctx, n, s.configs[n.Name])
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		if updated {
			s.Result.Updated = append(s.Result.Updated, n.Name)
		}
	}
	return nil
}

func bootstrapEtcd(ctx context.Context, s *State) (err error) {
	s.Result.Bootstrapped, err = s.bootstrap(ctx, s.primary)
	return err
}

// waitEtcdMembers waits until etcd has every control plane.
func waitForEtcd(ctx context.Context, s *State) error {
	return s.waitEtcd(ctx, s.primary, len(s.cps))
}

// getKubeconfig fetches the kubeconfig from the primary and points it at the
// external API URL.
func getKubeconfig(ctx context.Context, s *State) error {
	kc, err := s.kubeconfig(ctx, s.primary)
	if err != nil {
		return err
	}
	if s.Result.Kubeconfig, err = rewriteServer(kc, s.in.KubeAPIURL); err != nil {
		return err
	}
	return nil
}

func (s *State) say(format string, args ...any) {
	fmt.Fprintf(s.in.Progress, "  "+format+"\n", args...)
}

// deadline, expired and sleep pace every wait on the formation's clock, so
// that in the local world they follow the simulator's time.
func (s *State) expired(deadline time.Time) bool { return s.in.Clock.Now().After(deadline) }

func (s *State) deadline() time.Time { return s.in.Clock.Now().Add(s.in.Timeout) }

func (s *State) sleep(ctx context.Context) error { return s.in.Clock.Sleep(ctx, s.in.PollInterval) }

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

func (s *State) dial(ctx context.Context, n Node, maintenance bool) (*client.Client, error) {
	tlsCfg := s.mtls.Clone()
	if maintenance {
		// The maintenance API has a self-signed certificate and no client auth;
		// there is nothing to verify it against yet (as talosctl --insecure).
		tlsCfg = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // maintenance mode has no CA yet
	}
	return client.New(ctx, client.WithEndpoints(n.PublicIPv4.String()), client.WithTLSConfig(tlsCfg))
}

// probe reports whether the node answers with mTLS (configured) or in
// maintenance; when it does neither, why says what the attempts returned.
func (s *State) probe(ctx context.Context, n Node) (configured, maintenance bool, why string) {
	try := func(insecure bool) error {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := s.dial(pctx, n, insecure)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Version(pctx)
		return err
	}
	mtlsErr := try(false)
	if mtlsErr == nil {
		return true, false, ""
	}
	maintErr := try(true)
	if maintErr == nil {
		return false, true, ""
	}
	return false, false, describeAttempt(mtlsErr, maintErr)
}

// configure pushes the node's configuration if it is in maintenance mode and waits
// until it answers with mTLS. A node that already does is left as it is.
func (s *State) configure(ctx context.Context, n Node, data []byte) (applied bool, err error) {
	deadline := s.deadline()
	waiting := s.newWaitReporter(n)
	for {
		configured, maintenance, why := s.probe(ctx, n)
		waiting.attempt(why)
		switch {
		case configured:
			return applied, nil
		case maintenance && !applied:
			if err := s.apply(ctx, n, data); err != nil {
				return false, err
			}
			applied = true
			s.say("✓ configuration applied to %s (%s)", n.Name, n.PublicIPv4)
		}
		if s.expired(deadline) {
			if applied {
				return applied, fmt.Errorf("did not come back with its configuration within %s", s.in.Timeout)
			}
			return false, fmt.Errorf("the Talos API at %s:50000 did not answer within %s (last attempt: %s; is the server running, and does the firewall allow this machine?)", n.PublicIPv4, s.in.Timeout, waiting.last)
		}
		if err := s.sleep(ctx); err != nil {
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
func (s *State) update(ctx context.Context, n Node, data []byte) (bool, error) {
	var details string
	var dryMode machine.ApplyConfigurationRequest_Mode
	err := s.withClient(ctx, n, func(c *client.Client) error {
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
	want := applyModes[s.in.Cluster.Talos.ApplyMode]
	if s.in.Cluster.Talos.ApplyMode == "staged_if_needing_reboot" {
		want = machine.ApplyConfigurationRequest_AUTO
		if dryMode == machine.ApplyConfigurationRequest_REBOOT {
			want = machine.ApplyConfigurationRequest_STAGED
		}
	}
	var mode machine.ApplyConfigurationRequest_Mode
	err = s.withClient(ctx, n, func(c *client.Client) error {
		resp, err := c.ApplyConfiguration(ctx, &machine.ApplyConfigurationRequest{Data: data, Mode: want})
		if err == nil && len(resp.GetMessages()) > 0 {
			mode = resp.GetMessages()[0].GetMode()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("apply configuration (mode %s): %w", strings.ToLower(want.String()), err)
	}
	s.say("✓ configuration updated on %s (%s)", n.Name, strings.ToLower(mode.String()))
	if mode == machine.ApplyConfigurationRequest_STAGED {
		if !s.in.Cluster.Talos.StagedAutomaticRebootEnabled {
			s.say("  %s has a staged configuration; it takes effect at its next reboot", n.Name)
			return true, nil
		}
		if err := s.withClient(ctx, n, func(c *client.Client) error { return c.Reboot(ctx) }); err != nil {
			return true, fmt.Errorf("reboot into the staged configuration: %w", err)
		}
		s.say("  rebooting %s into its staged configuration", n.Name)
		mode = machine.ApplyConfigurationRequest_REBOOT
	}
	deadline := s.deadline()
	if mode == machine.ApplyConfigurationRequest_REBOOT {
		// Let the node go down first, so the wait below sees it come back
		// rather than the moment before its reboot.
		for configured, _, _ := s.probe(ctx, n); configured && !s.expired(deadline); configured, _, _ = s.probe(ctx, n) {
			if err := s.sleep(ctx); err != nil {
				return true, err
			}
		}
	}
	for {
		if err := s.sleep(ctx); err != nil {
			return true, err
		}
		if configured, _, _ := s.probe(ctx, n); configured {
			return true, nil
		}
		if s.expired(deadline) {
			return true, fmt.Errorf("did not come back after its configuration change within %s", s.in.Timeout)
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

func (s *State) apply(ctx context.Context, n Node, data []byte) error {
	c, err := s.dial(ctx, n, true)
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

// Primary returns the primary control plane among nodes, by layout's rule
// (the smallest server name); ok is false when there is no control plane.
func Primary(nodes []Node) (primary Node, ok bool) {
	var cps []Node
	for _, n := range nodes {
		if n.Role == talos.RoleControlPlane {
			cps = append(cps, n)
		}
	}
	return layout.Primary(cps, func(n Node) string { return n.Name })
}

// bootstrap starts etcd on the primary; "already bootstrapped" is success.
func (s *State) bootstrap(ctx context.Context, p Node) (bool, error) {
	deadline := s.deadline()
	for {
		err := s.withClient(ctx, p, func(c *client.Client) error {
			return c.Bootstrap(ctx, &machine.BootstrapRequest{})
		})
		if err == nil {
			s.say("✓ etcd bootstrapped on %s", p.Name)
			return true, nil
		}
		if status.Code(err) == codes.AlreadyExists {
			return false, nil // formed earlier: bootstrapping again would split etcd
		}
		if s.expired(deadline) {
			return false, fmt.Errorf("bootstrap %s: %w", p.Name, err)
		}
		if err := s.sleep(ctx); err != nil {
			return false, err
		}
	}
}

func (s *State) withClient(ctx context.Context, n Node, fn func(*client.Client) error) error {
	c, err := s.dial(ctx, n, false)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

func (s *State) waitEtcd(ctx context.Context, p Node, want int) error {
	deadline := s.deadline()
	last := -1
	for {
		n := 0
		err := s.withClient(ctx, p, func(c *client.Client) error {
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
			s.say("  etcd has %d of %d members", n, want)
			last = n
		}
		if err == nil && n >= want {
			return nil
		}
		if s.expired(deadline) {
			return fmt.Errorf("etcd has %d of %d members after %s (last error: %v)", n, want, s.in.Timeout, err)
		}
		if err := s.sleep(ctx); err != nil {
			return err
		}
	}
}

func (s *State) kubeconfig(ctx context.Context, p Node) ([]byte, error) {
	deadline := s.deadline()
	for {
		var kc []byte
		err := s.withClient(ctx, p, func(c *client.Client) error {
			var err error
			kc, err = c.Kubeconfig(ctx)
			return err
		})
		if err == nil {
			return kc, nil
		}
		if s.expired(deadline) {
			return nil, fmt.Errorf("get the kubeconfig from %s: %w", p.Name, err)
		}
		if err := s.sleep(ctx); err != nil {
			return nil, err
		}
	}
}
