package talossim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/constants"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// State is the lifecycle state of a fake node.
type State string

// Lifecycle states. The API answers only in StateMaintenance and StateRunning.
const (
	StateOff         State = "off"           // powered off, API dark
	StateBooting     State = "booting"       // powered on, API not up yet
	StateMaintenance State = "maintenance"   // no config: insecure API waiting for ApplyConfiguration
	StateInstalling  State = "installing"    // first config applied: installing, then reboot
	StateRunning     State = "running"       // configured; mTLS API
	StateRebooting   State = "rebooting"     // API dark until the reboot completes
	StateUpgrading   State = "upgrading"     // installing a new version, then reboot
	StateResetting   State = "resetting"     // wiping, then reboot or power off
	StateShutdown    State = "shutting-down" // Shutdown RPC: powering off
)

// DefaultVersion is the Talos version a node reports unless NodeOptions.Version
// says otherwise.
const DefaultVersion = "v1.13.9"

// Timings are the simulated durations of the node's transitions.
type Timings struct {
	Boot    time.Duration // power on (or end of reboot) until the API answers
	Reboot  time.Duration // shutdown part of a reboot
	Install time.Duration // install after the first ApplyConfiguration in maintenance mode
	Upgrade time.Duration // legacy Upgrade: install of the new version before the reboot
	Reset   time.Duration // wipe before reboot / power off
}

// DefaultTimings are rough real-world durations on Hetzner Cloud.
func DefaultTimings() Timings {
	return Timings{Boot: 30 * time.Second, Reboot: 15 * time.Second, Install: 60 * time.Second,
		Upgrade: 60 * time.Second, Reset: 10 * time.Second}
}

// NodeOptions configure a fake node.
type NodeOptions struct {
	// Addr is the address the API listens on, e.g. "127.0.1.5:50000". A
	// missing port means 50000; port 0 picks a free port on first boot and
	// keeps it across reboots.
	Addr string
	// Hostname is the node's hostname (the server name on Hetzner).
	Hostname string
	// ExtraIPs are further addresses of the node (private network IPs) put in
	// the serving certificate.
	ExtraIPs []net.IP
	// Clock drives simulated time (reboots, installs, upgrades); the wall
	// clock when nil. simworld passes the Hetzner simulator's clock.
	Clock clock.Clock
	// Cluster is the per-cluster shared state; a private one when nil.
	Cluster *Cluster
	// Version is the Talos version booted (DefaultVersion when empty).
	Version string
	// Arch is reported by Version ("amd64" when empty).
	Arch string
	// Timings of the transitions; DefaultTimings when nil.
	Timings *Timings
	// UserData, when set, is consulted at every boot without an installed
	// config, like the hcloud platform reading the server's user_data. An
	// empty result or a config that does not load means maintenance mode.
	UserData func() []byte
	// PreInstalled means Talos is already on the disk (booted from a Talos
	// snapshot): the first ApplyConfiguration in maintenance mode then
	// configures the node in place instead of installing and rebooting.
	PreInstalled bool
	// OnPowerOff is called (in its own goroutine) when the node powers itself
	// off: Reset without reboot or Shutdown. The Hetzner integration marks the
	// server off there.
	OnPowerOff func(n *Node)
	// OnBootFailure is called when the node cannot come up at all, for
	// example because another process holds its address: the node then
	// stays down, and a world that hid this would leave a CLI waiting for a
	// node that never answers.
	OnBootFailure func(n *Node, err error)
	// Logf receives debug logs; silent when nil.
	Logf func(format string, args ...any)
}

// Node is one fake Talos node: the machine API served on Addr with apid's TLS
// behaviour and machined's RPC semantics.
type Node struct {
	opts    NodeOptions
	clock   clock.Clock
	cluster *Cluster
	timings Timings
	ip      net.IP

	etcdUp atomic.Bool // the node's etcd member is running

	applyMu sync.Mutex // held while an ApplyConfiguration runs

	mu          sync.Mutex
	addr        string
	state       State
	changed     chan struct{}
	powerCtx    context.Context
	powerCancel context.CancelFunc
	wg          sync.WaitGroup
	srv         *grpc.Server
	lastErr     error

	active         config.Provider // running configuration
	persisted      config.Provider // configuration on disk (STATE)
	installed      bool
	version        string
	pendingVersion string
	bootID         string
	etcdData       bool // etcd data directory not empty
	etcdFailed     bool // member removed under a running etcd
	tryGen         int
	servingCert    *tls.Certificate
}

// NewNode returns a powered-off node. Call Start to power it on.
func NewNode(opts NodeOptions) (*Node, error) {
	host, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		host, port = opts.Addr, strconv.Itoa(constants.ApidPort)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, fmt.Errorf("talossim: address %q: host must be an IP", opts.Addr)
	}
	if opts.Hostname == "" {
		opts.Hostname = "talos-" + host
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Arch == "" {
		opts.Arch = "amd64"
	}
	n := &Node{
		opts:    opts,
		clock:   opts.Clock,
		cluster: opts.Cluster,
		ip:      ip,
		addr:    net.JoinHostPort(host, port),
		state:   StateOff,
		changed: make(chan struct{}),
		version: opts.Version,
	}
	n.clock = clock.OrReal(n.clock)
	if n.cluster == nil {
		n.cluster = NewCluster(opts.Hostname)
	}
	if opts.Timings != nil {
		n.timings = *opts.Timings
	} else {
		n.timings = DefaultTimings()
	}
	n.cluster.register(n)
	return n, nil
}

func (n *Node) logf(format string, args ...any) {
	if n.opts.Logf != nil {
		n.opts.Logf("talossim %s: "+format, append([]any{n.opts.Hostname}, args...)...)
	}
}

// Hostname returns the node's hostname.
func (n *Node) Hostname() string { return n.opts.Hostname }

// IP returns the IP the API listens on.
func (n *Node) IP() net.IP { return n.ip }

// Addr returns the API address (with the port actually bound once booted).
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Cluster returns the node's cluster.
func (n *Node) Cluster() *Cluster { return n.cluster }

// State returns the lifecycle state.
func (n *Node) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Running reports whether the API answers (maintenance or configured).
func (n *Node) Running() bool {
	s := n.State()
	return s == StateRunning || s == StateMaintenance
}

// Configured reports whether the node runs with a machine configuration.
func (n *Node) Configured() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.active != nil
}

// Installed reports whether a configuration is persisted on the node's disk.
func (n *Node) Installed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.persisted != nil
}

// Config returns the running configuration (nil in maintenance mode).
func (n *Node) Config() config.Provider {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.active
}

// MachineType returns the running configuration's machine type (unknown in
// maintenance mode).
func (n *Node) MachineType() machine.Type {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.active == nil {
		return machine.TypeUnknown
	}
	return n.active.Machine().Type()
}

// IsControlPlane reports whether the running configuration is a control plane's.
func (n *Node) IsControlPlane() bool { return n.MachineType().IsControlPlane() }

// Version returns the Talos version currently booted.
func (n *Node) Version() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.version
}

// BootID changes on every boot.
func (n *Node) BootID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bootID
}

// EtcdRunning reports whether the node's etcd member is up.
func (n *Node) EtcdRunning() bool { return n.etcdRunning() }

func (n *Node) etcdRunning() bool { return n.etcdUp.Load() }

// Err returns the last error of the lifecycle (e.g. the address could not be bound).
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastErr
}

// WaitState blocks until the node reaches one of states or ctx ends.
func (n *Node) WaitState(ctx context.Context, states ...State) error {
	for {
		n.mu.Lock()
		s, ch := n.state, n.changed
		n.mu.Unlock()
		for _, want := range states {
			if s == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s in state %s: %w", n.opts.Hostname, s, ctx.Err())
		case <-ch:
		}
	}
}

// setStateLocked changes the state; the caller fires hooks via afterState.
func (n *Node) setStateLocked(s State) {
	if n.state == s {
		return
	}
	n.state = s
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *Node) setState(s State) {
	n.mu.Lock()
	n.setStateLocked(s)
	n.mu.Unlock()
	n.afterState(s)
}

func (n *Node) afterState(s State) {
	if h := n.cluster.getHooks().OnStateChange; h != nil {
		h(n, s)
	}
}

// Start powers the node on: after Timings.Boot it serves the API in
// maintenance mode, or configured when a config is installed (or user data
// provides one). Start returns at once; it is a no-op when already powered.
// Cancelling ctx powers the node off like Stop.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.powerCtx != nil {
		n.mu.Unlock()
		return nil
	}
	pctx, cancel := context.WithCancel(context.Background())
	n.powerCtx, n.powerCancel = pctx, cancel
	n.lastErr = nil
	n.wg.Add(2)
	n.setStateLocked(StateBooting)
	n.mu.Unlock()
	n.afterState(StateBooting)

	go func() {
		defer n.wg.Done()
		select {
		case <-ctx.Done():
			go n.Stop()
		case <-pctx.Done():
		}
	}()
	go func() {
		defer n.wg.Done()
		n.boot(pctx, true)
	}()
	return nil
}

// Stop powers the node off at once (Hetzner poweroff/reset/delete): the API
// goes dark, connections drop, in-flight transitions are abandoned. Disk
// state (installed config, etcd data) survives.
func (n *Node) Stop() {
	n.mu.Lock()
	cancel, srv := n.powerCancel, n.srv
	n.powerCtx, n.powerCancel, n.srv = nil, nil, nil
	n.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	if srv != nil {
		srv.Stop()
	}
	n.wg.Wait()
	n.etcdUp.Store(false)
	n.mu.Lock()
	n.active = nil
	n.setStateLocked(StateOff)
	n.mu.Unlock()
	n.afterState(StateOff)
}

// Wipe erases the node's disk (Hetzner rebuild): no installed config, no etcd
// data. Only allowed while powered off.
func (n *Node) Wipe() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.powerCtx != nil {
		return errors.New("talossim: wipe a powered node")
	}
	n.persisted, n.installed, n.etcdData, n.etcdFailed, n.pendingVersion = nil, false, false, false, ""
	return nil
}

// sleep waits d of simulated time; false when the power was cut meanwhile.
func (n *Node) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-n.clock.After(d):
		return ctx.Err() == nil
	}
}

// boot runs the boot sequence and starts the API.
func (n *Node) boot(ctx context.Context, wait bool) {
	if n.State() != StateBooting {
		n.setState(StateBooting)
	}
	if wait && !n.sleep(ctx, n.timings.Boot) {
		return
	}
	n.mu.Lock()
	if n.pendingVersion != "" {
		n.version, n.pendingVersion = n.pendingVersion, ""
	}
	n.bootID = newUUID()
	n.etcdFailed = false
	if n.persisted == nil && n.opts.UserData != nil {
		if data := n.opts.UserData(); len(data) > 0 {
			// booted from a Talos image: installed, no install disk needed
			if cfg, err := loadConfig(data, true); err == nil {
				n.persisted, n.installed = cfg, true
			} else {
				n.logf("user data ignored: %v", err)
			}
		}
	}
	n.active = n.persisted
	configured := n.active != nil
	active := n.active
	n.mu.Unlock()
	n.cluster.learnCA(active)

	for {
		err := n.serve(ctx)
		if err == nil {
			break
		}
		if errors.Is(err, errTrustdUnavailable) {
			// apid waits for its certificate; retry like the real node does
			n.logf("boot: %v", err)
			if !n.sleep(ctx, 5*time.Second) {
				return
			}
			continue
		}
		n.mu.Lock()
		n.lastErr = err
		n.mu.Unlock()
		n.logf("boot: %v", err)
		if n.opts.OnBootFailure != nil {
			n.opts.OnBootFailure(n, err)
		}
		return
	}
	if !configured {
		n.setState(StateMaintenance)
		return
	}
	n.setState(StateRunning)
	n.startEtcd()
}

// startEtcd brings up the etcd member of a configured control plane: an
// existing member restarts, a node without member joins a bootstrapped
// cluster, otherwise etcd waits for Bootstrap.
func (n *Node) startEtcd() {
	if !n.IsControlPlane() || n.State() != StateRunning {
		return
	}
	if _, ok := n.cluster.MemberOf(n); ok {
		n.mu.Lock()
		n.etcdData = true
		n.mu.Unlock()
		n.etcdUp.Store(true)
		return
	}
	// A member removed while the node was away: its data is stale; the fake
	// wipes it and joins again.
	m, ok := n.cluster.join(n)
	if !ok {
		return
	}
	n.mu.Lock()
	n.etcdData, n.etcdFailed = true, false
	n.mu.Unlock()
	n.etcdUp.Store(true)
	if h := n.cluster.getHooks().OnMemberJoin; h != nil {
		h(n, m)
	}
}

// serve binds the address and starts a gRPC server with TLS matching the
// current configuration.
func (n *Node) serve(ctx context.Context) error {
	n.mu.Lock()
	cfg := n.active
	addr := n.addr
	n.mu.Unlock()

	tlsCfg, err := n.tlsConfig(cfg)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsCfg)),
		grpc.ChainUnaryInterceptor(n.unaryInterceptor),
		grpc.ChainStreamInterceptor(n.streamInterceptor),
		grpc.MaxRecvMsgSize(32<<20),
	)
	machineapi.RegisterMachineServiceServer(srv, &machineServer{n: n})
	machineapi.RegisterLifecycleServiceServer(srv, &lifecycleServer{n: n})

	n.mu.Lock()
	if ctx.Err() != nil || n.powerCtx == nil {
		n.mu.Unlock()
		_ = lis.Close()
		return ctx.Err()
	}
	n.addr = lis.Addr().String() // resolves port 0 once; later boots reuse it
	n.srv = srv
	n.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
	return nil
}

// stopServing takes the API down gracefully: in-flight RPCs (such as the
// Reboot call that triggered this) finish, then the listener and connections
// close.
func (n *Node) stopServing() {
	n.mu.Lock()
	srv := n.srv
	n.srv = nil
	n.mu.Unlock()
	if srv == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second): // real time: a stuck stream must not hold the node
		srv.Stop()
		<-done
	}
}

// transition takes the API down, waits the given simulated durations in the
// given state, then boots again. It runs on its own goroutine tied to the
// power cycle. prepare runs after the API is down (wipes, version changes).
func (n *Node) transition(s State, down time.Duration, prepare func(), bootWait bool) bool {
	n.mu.Lock()
	ctx := n.powerCtx
	if ctx == nil || (n.state != StateRunning && n.state != StateMaintenance) {
		n.mu.Unlock()
		return false
	}
	n.setStateLocked(s)
	n.wg.Add(1)
	n.mu.Unlock()
	n.afterState(s)

	go func() {
		defer n.wg.Done()
		n.stopServing()
		n.etcdUp.Store(false)
		n.mu.Lock()
		n.active = nil
		n.mu.Unlock()
		if prepare != nil {
			prepare()
		}
		if !n.sleep(ctx, down) {
			return
		}
		n.boot(ctx, bootWait)
	}()
	return true
}

// reboot reboots the node (Reboot RPC, ApplyConfiguration REBOOT).
func (n *Node) reboot() bool { return n.transition(StateRebooting, n.timings.Reboot, nil, true) }

// powerOff shuts the node down by itself (Reset without reboot, Shutdown).
func (n *Node) powerOff(s State, down time.Duration, prepare func()) bool {
	n.mu.Lock()
	ctx := n.powerCtx
	if ctx == nil || (n.state != StateRunning && n.state != StateMaintenance) {
		n.mu.Unlock()
		return false
	}
	n.setStateLocked(s)
	n.mu.Unlock()
	n.afterState(s)
	go func() {
		n.stopServing()
		n.etcdUp.Store(false)
		if prepare != nil {
			prepare()
		}
		if !n.sleep(ctx, down) {
			return
		}
		n.Stop()
		if n.opts.OnPowerOff != nil {
			n.opts.OnPowerOff(n)
		}
	}()
	return true
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// loadConfig parses and validates a machine configuration like machined does.
func loadConfig(data []byte, installed bool) (config.Provider, error) {
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return nil, err
	}
	if cfg.RawV1Alpha1() == nil {
		return nil, errors.New("the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?")
	}
	if _, err := cfg.Validate(cloudMode{installed: installed}); err != nil {
		return nil, err
	}
	return cfg, nil
}

// cloudMode is the validation mode of the hcloud platform ("cloud").
type cloudMode struct{ installed bool }

func (cloudMode) String() string          { return "cloud" }
func (m cloudMode) RequiresInstall() bool { return !m.installed }
func (cloudMode) InContainer() bool       { return false }

// clientCAPool builds the pool of CAs accepted for client certificates.
func clientCAPool(cfg config.Provider) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	sec := cfg.Machine().Security()
	if ca := sec.IssuingCA(); ca != nil && len(ca.Crt) > 0 {
		if !pool.AppendCertsFromPEM(ca.Crt) {
			return nil, errors.New("machine.ca: no certificate")
		}
	}
	for _, ca := range sec.AcceptedCAs() {
		pool.AppendCertsFromPEM(ca.Crt)
	}
	return pool, nil
}
