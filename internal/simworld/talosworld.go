package simworld

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld/chartrepo"
	"github.com/hcloud-k8s/hcloud-k8s/internal/talossim"
)

// TalosWorldOptions configure StartTalosWorld.
type TalosWorldOptions struct {
	// TalosImages reports whether a server booted from the image runs Talos
	// (a Talos snapshot: see SeedTalosSnapshots and ImageSet). Required.
	TalosImages func(imageID int64) bool
	// Log receives the world's and the fake nodes' debug logs; silent when nil.
	Log io.Writer
	// KubeBinDir holds etcd and kube-apiserver (kubesim.Options.BinDir);
	// default $KUBE_TESTBIN, else the `go run ./hack/testbin` cache.
	KubeBinDir string
	// KubeLogDir, when set, keeps the etcd and kube-apiserver logs of every
	// cluster in <KubeLogDir>/<cluster>.
	KubeLogDir string
	// Timings are the simulated durations of the fake nodes' transitions
	// (talossim.DefaultTimings when nil).
	Timings *talossim.Timings
	// Hooks are called for every cluster after the world's own hooks.
	Hooks talossim.ClusterHooks
	// OnPowerOff is called with the server ID when a Talos node powers
	// itself off (Reset without reboot, Shutdown), so the caller can power
	// the server off in the simulator. Without it the server stays running
	// in the simulator while its node stays off until the next boot.
	OnPowerOff func(serverID int64)
	// PollInterval is the real-time interval at which the world follows the
	// simulator's servers (5ms when zero).
	PollInterval time.Duration
	// KubeletInterval is the real-time interval of the fake kubelets'
	// sync (50ms when zero).
	KubeletInterval time.Duration
	// PodStartDelay is the simulated time a pod's containers take to start
	// once its node can run it (2s when zero).
	PodStartDelay time.Duration
	// JobRunTime is the simulated time a Job's pod runs before it succeeds
	// (5s when zero).
	JobRunTime time.Duration
	// PodStopDelay caps the simulated time a deleted pod takes to stop; a
	// shorter grace period wins (1s when zero).
	PodStopDelay time.Duration
}

// ImageSet returns a TalosImages function that accepts exactly ids.
func ImageSet(ids ...int64) func(imageID int64) bool {
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return func(id int64) bool { return set[id] }
}

// TalosWorld runs what boots on the simulator's servers: a fake Talos node
// (talossim) for every running server booted from a Talos snapshot, one
// talossim.Cluster per value of the servers' "cluster" label, a real
// kube-apiserver (kubesim) per bootstrapped cluster reachable on every
// control plane's "<public IPv4>:6443", and a fake kubelet per configured
// node that keeps its Node object up to date.
type TalosWorld struct {
	sim   *hcloudsim.Server
	opts  TalosWorldOptions
	clock clock.Clock // the simulator's: nodes and kubelets live in its time

	ctx      context.Context
	cancel   context.CancelFunc
	poke     chan struct{}
	loopDone chan struct{}
	wg       sync.WaitGroup // API server starts and kubelets

	// owned by the reconcile goroutine (and Close after it ended)
	servers map[int64]*serverEntry

	logMu     sync.Mutex
	closeOnce sync.Once
	closeDone chan struct{}

	charts *chartrepo.Repo

	mu       sync.Mutex
	closed   bool
	clusters map[string]*worldCluster
	nodes    map[int64]*talossim.Node
	errs     []error
}

// serverEntry is the reconcile loop's view of one Talos server.
type serverEntry struct {
	id        int64
	name      string
	cluster   string
	imageID   int64
	publicV4  string
	privateV4 []string
	running   bool // the server is running Talos (not off, not in rescue)
	bootCount int
	powered   bool
	node      *talossim.Node
	userData  atomic.Pointer[string]
}

// nodeView is what a kubelet knows about one server of its cluster.
type nodeView struct {
	serverID  int64
	name      string
	publicV4  string
	privateV4 []string
	running   bool
	node      *talossim.Node
}

// API server states of a cluster.
const (
	apiNone = iota
	apiStarting
	apiUp
	apiFailed
)

// worldCluster is one simulated Talos/Kubernetes cluster.
type worldCluster struct {
	name string
	tc   *talossim.Cluster

	// guarded by TalosWorld.mu
	apiState int
	api      *kubesim.APIServer
	apiErr   error
	apiDone  chan struct{} // closed when the API server is up or failed
	views    []nodeView

	// owned by the reconcile goroutine
	forwarders map[string]*forwarder
	fwdErrs    map[string]string

	kubeletSyncs atomic.Int64 // rounds of the cluster's kubelets, for tests to wait on
}

// StartTalosWorld starts following sim's servers. Close it when done.
func StartTalosWorld(ctx context.Context, sim *hcloudsim.Server, opts TalosWorldOptions) (*TalosWorld, error) {
	if sim == nil {
		return nil, errors.New("simworld: no simulator")
	}
	if opts.TalosImages == nil {
		return nil, errors.New("simworld: TalosWorldOptions.TalosImages is required")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Millisecond
	}
	if opts.KubeletInterval <= 0 {
		opts.KubeletInterval = 50 * time.Millisecond
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &TalosWorld{
		sim:       sim,
		opts:      opts,
		clock:     sim.Clock(),
		ctx:       wctx,
		cancel:    cancel,
		poke:      make(chan struct{}, 1),
		loopDone:  make(chan struct{}),
		closeDone: make(chan struct{}),
		servers:   map[int64]*serverEntry{},
		clusters:  map[string]*worldCluster{},
		nodes:     map[int64]*talossim.Node{},
	}
	repo, err := chartrepo.Start(wctx, chartrepo.Options{})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("simworld: chart repository: %w", err)
	}
	w.charts = repo
	w.tick()
	go w.loop(ctx)
	return w, nil
}

// ChartMirror is the world's chart repository (our own charts of every
// addon under the module's pinned names and versions, on loopback), for
// HCLOUD_K8S_CHART_MIRROR: a cluster file's charts point at the internet,
// which the world never dials.
func (w *TalosWorld) ChartMirror() string { return w.charts.HTTPURL() }

// ChartRegistry is the same charts as an OCI registry (oci://...).
func (w *TalosWorld) ChartRegistry() string { return w.charts.OCIURL() }

func (w *TalosWorld) logf(format string, args ...any) {
	if w.opts.Log == nil {
		return
	}
	w.logMu.Lock() // one writer at a time
	defer w.logMu.Unlock()
	fmt.Fprintf(w.opts.Log, format+"\n", args...)
}

func (w *TalosWorld) fail(err error) {
	w.logf("simworld: %v", err)
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

// clusterClient is an admin client of the cluster's API server for one of
// the world's components, named by its User-Agent; when it cannot be made,
// the world records the failure and ok is false.
func (w *TalosWorld) clusterClient(c *worldCluster, api *kubesim.APIServer, userAgent string) (_ kubernetes.Interface, ok bool) {
	rc, err := api.AdminClient()
	if err == nil {
		rc.UserAgent = userAgent
		var cs kubernetes.Interface
		if cs, err = kubernetes.NewForConfig(rc); err == nil {
			return cs, true
		}
	}
	w.fail(fmt.Errorf("simworld: cluster %s: %s client: %w", c.name, userAgent, err))
	return nil, false
}

// Err returns the errors of background work so far (an API server that
// failed to start), joined; nil when there were none.
func (w *TalosWorld) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

func (w *TalosWorld) wake() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

func (w *TalosWorld) loop(parent context.Context) {
	defer close(w.loopDone)
	t := time.NewTicker(w.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-parent.Done():
			go w.Close()
			return
		case <-t.C:
		case <-w.poke:
		}
		w.tick()
	}
}

// tick follows the simulator once: nodes, then forwarders, then what the
// kubelets see.
func (w *TalosWorld) tick() {
	states := w.sim.ServerStates()
	seen := make(map[int64]bool, len(states))
	for _, s := range states {
		seen[s.ID] = true
		w.reconcileServer(s)
	}
	for id, e := range w.servers {
		if !seen[id] {
			w.logf("simworld: server %s (%d) deleted", e.name, id)
			w.powerOff(e)
			delete(w.servers, id)
		}
	}
	w.publish()
	w.reconcileForwarders()
}

func (w *TalosWorld) powerOff(e *serverEntry) {
	if e.powered {
		e.node.Stop()
		e.powered = false
	}
}

func (w *TalosWorld) reconcileServer(s hcloudsim.ServerState) {
	e := w.servers[s.ID]
	if e == nil && !w.opts.TalosImages(s.ImageID) {
		return
	}
	if e != nil && e.imageID != s.ImageID {
		// rebuilt from another image: a new disk
		w.logf("simworld: server %s (%d) rebuilt from image %d", s.Name, s.ID, s.ImageID)
		w.powerOff(e)
		delete(w.servers, s.ID)
		e = nil
		if !w.opts.TalosImages(s.ImageID) {
			return
		}
	}
	running := s.Status == "running" && !s.InRescue && s.PublicV4 != ""
	if e == nil {
		if !running {
			return
		}
		var err error
		if e, err = w.newEntry(s); err != nil {
			w.fail(fmt.Errorf("server %s: %w", s.Name, err))
			return
		}
		w.servers[s.ID] = e
	}
	ud := s.UserData
	e.userData.Store(&ud)
	e.running = running
	if (e.publicV4 != s.PublicV4 && s.PublicV4 != "") || !slices.Equal(e.privateV4, s.PrivateV4) {
		// An address appeared or changed (private IPs show up once the
		// network attachment is done). The node's addresses are fixed at
		// construction: recreate it while nothing is on its disk.
		if !e.node.Installed() {
			w.logf("simworld: server %s (%d): addresses now %s %v: node recreated", s.Name, s.ID, s.PublicV4, s.PrivateV4)
			w.powerOff(e)
			ne, err := w.newEntry(s)
			if err != nil {
				w.fail(fmt.Errorf("server %s: %w", s.Name, err))
				return
			}
			ne.userData.Store(&ud)
			ne.running = running
			w.servers[s.ID], e = ne, ne
		} else {
			w.logf("simworld: server %s: addresses changed to %s %v after Talos was installed; the node keeps its old ones", s.Name, s.PublicV4, s.PrivateV4)
			e.publicV4, e.privateV4 = s.PublicV4, slices.Clone(s.PrivateV4)
		}
	}
	switch {
	case !running:
		if e.powered {
			w.logf("simworld: server %s (%d) is %s: node off", s.Name, s.ID, s.Status)
		}
		w.powerOff(e)
	case !e.powered:
		w.logf("simworld: server %s (%d) running: node on", s.Name, s.ID)
		e.bootCount = s.BootCount
		e.powered = true
		_ = e.node.Start(context.Background())
	case s.BootCount != e.bootCount:
		w.logf("simworld: server %s (%d) rebooted (boot %d)", s.Name, s.ID, s.BootCount)
		e.node.Stop()
		e.bootCount = s.BootCount
		_ = e.node.Start(context.Background())
	}
}

func (w *TalosWorld) newEntry(s hcloudsim.ServerState) (*serverEntry, error) {
	e := &serverEntry{
		id: s.ID, name: s.Name, cluster: s.Labels[layout.LabelCluster], imageID: s.ImageID,
		publicV4: s.PublicV4, privateV4: slices.Clone(s.PrivateV4),
	}
	var extra []net.IP
	for _, p := range s.PrivateV4 {
		if ip := net.ParseIP(p); ip != nil {
			extra = append(extra, ip)
		}
	}
	var tc *talossim.Cluster
	if e.cluster != "" {
		tc = w.cluster(e.cluster).tc
	}
	id := s.ID
	node, err := talossim.NewNode(talossim.NodeOptions{
		Addr:     net.JoinHostPort(s.PublicV4, "50000"),
		Hostname: s.Name,
		ExtraIPs: extra,
		Clock:    w.clock,
		Cluster:  tc,
		Timings:  w.opts.Timings,
		UserData: func() []byte {
			if p := e.userData.Load(); p != nil {
				return []byte(*p)
			}
			return nil
		},
		PreInstalled: true,
		OnPowerOff: func(*talossim.Node) {
			if w.opts.OnPowerOff != nil {
				w.opts.OnPowerOff(id)
			}
		},
		OnBootFailure: func(n *talossim.Node, err error) {
			w.fail(fmt.Errorf("server %s (%d): its fake Talos node cannot come up, so nothing answers on its address: %w (another local world or process may hold the address: run one world per loopback range)", s.Name, s.ID, err))
		},
		Logf: func(format string, args ...any) { w.logf(format, args...) },
	})
	if err != nil {
		return nil, err
	}
	e.node = node
	return e, nil
}

// cluster returns the world's cluster of that name, creating it.
func (w *TalosWorld) cluster(name string) *worldCluster {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clusterLocked(name)
}

func (w *TalosWorld) clusterLocked(name string) *worldCluster {
	if c := w.clusters[name]; c != nil {
		return c
	}
	c := &worldCluster{
		name: name, tc: talossim.NewCluster(name), apiDone: make(chan struct{}),
		forwarders: map[string]*forwarder{}, fwdErrs: map[string]string{},
	}
	user := w.opts.Hooks
	c.tc.SetHooks(talossim.ClusterHooks{
		OnBootstrap: func(n *talossim.Node) {
			w.startAPIServer(c, n)
			if user.OnBootstrap != nil {
				user.OnBootstrap(n)
			}
		},
		OnMemberJoin: func(n *talossim.Node, m talossim.EtcdMember) {
			w.wake()
			if user.OnMemberJoin != nil {
				user.OnMemberJoin(n, m)
			}
		},
		OnMemberLeave: func(n *talossim.Node, m talossim.EtcdMember) {
			w.wake()
			if user.OnMemberLeave != nil {
				user.OnMemberLeave(n, m)
			}
		},
		OnConfigApplied: func(n *talossim.Node, mode string) {
			w.wake()
			if user.OnConfigApplied != nil {
				user.OnConfigApplied(n, mode)
			}
		},
		OnStateChange: func(n *talossim.Node, s talossim.State) {
			w.wake()
			if user.OnStateChange != nil {
				user.OnStateChange(n, s)
			}
		},
	})
	w.clusters[name] = c
	return c
}

// publish hands the kubelets and accessors the current nodes.
func (w *TalosWorld) publish() {
	views := map[string][]nodeView{}
	nodes := make(map[int64]*talossim.Node, len(w.servers))
	for _, e := range w.servers {
		nodes[e.id] = e.node
		if e.cluster == "" {
			continue
		}
		views[e.cluster] = append(views[e.cluster], nodeView{
			serverID: e.id, name: e.name, publicV4: e.publicV4, privateV4: e.privateV4,
			running: e.running && e.powered, node: e.node,
		})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nodes = nodes
	for name, c := range w.clusters {
		v := views[name]
		slices.SortFunc(v, func(a, b nodeView) int { return int(a.serverID - b.serverID) })
		c.views = v
	}
}

// servesAPI reports whether the server's node runs a kube-apiserver:
// a running, configured control plane whose etcd member is up.
func servesAPI(e *serverEntry) bool {
	return e.powered && e.running && e.node.State() == talossim.StateRunning &&
		e.node.IsControlPlane() && e.node.EtcdRunning()
}

// reconcileForwarders keeps "<public IPv4>:6443" of every control plane
// that serves the API forwarded to its cluster's kube-apiserver.
func (w *TalosWorld) reconcileForwarders() {
	w.mu.Lock()
	clusters := make([]*worldCluster, 0, len(w.clusters))
	targets := map[*worldCluster]string{}
	for _, c := range w.clusters {
		clusters = append(clusters, c)
		if c.apiState == apiUp {
			targets[c] = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.api.Port()))
		}
	}
	w.mu.Unlock()
	var addrs []hcloudsim.AddressState
	if len(targets) > 0 {
		addrs = w.sim.PublicAddresses()
	}
	for _, c := range clusters {
		want := map[string]bool{}
		if target := targets[c]; target != "" {
			for _, e := range w.servers {
				if e.cluster == c.name && servesAPI(e) {
					want[e.publicV4] = true
				}
			}
			// The kube-API load balancer and the control plane's public VIP reach
			// the same API server (Talos moves the VIP between control planes).
			for _, a := range addrs {
				if a.PublicV4 == "" || a.Labels[layout.LabelCluster] != c.name {
					continue
				}
				if (a.Kind == "load_balancer" && a.Labels[layout.LabelRole] == layout.RoleKubeAPI) ||
					(a.Kind == "floating_ip" && a.Labels[layout.LabelRole] == layout.RoleControlPlane) {
					want[a.PublicV4] = true
				}
			}
		}
		for ip, f := range c.forwarders {
			if !want[ip] {
				f.Close()
				delete(c.forwarders, ip)
				w.logf("simworld: %s: stopped forwarding %s:6443", c.name, ip)
			}
		}
		for ip := range want {
			if c.forwarders[ip] != nil {
				continue
			}
			f, err := startForwarder(net.JoinHostPort(ip, "6443"), targets[c])
			if err != nil {
				if c.fwdErrs[ip] != err.Error() {
					c.fwdErrs[ip] = err.Error()
					w.logf("simworld: %s: %v", c.name, err)
				}
				continue
			}
			delete(c.fwdErrs, ip)
			c.forwarders[ip] = f
			w.logf("simworld: %s: forwarding %s:6443 to the kube-apiserver", c.name, ip)
		}
	}
}

// startAPIServer starts the cluster's kube-apiserver in the background, once.
func (w *TalosWorld) startAPIServer(c *worldCluster, n *talossim.Node) {
	w.mu.Lock()
	if w.closed || c.apiState != apiNone {
		w.mu.Unlock()
		return
	}
	c.apiState = apiStarting
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.wg.Done()
		api, err := w.launchAPIServer(c, n)
		if err == nil {
			// What Talos adds to every API server it runs, before anyone
			// (apply's addons) could need it.
			if err = registerTalosServiceAccounts(w.ctx, api); err != nil {
				_ = api.Stop()
				err = fmt.Errorf("simworld: cluster %s: %w", c.name, err)
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			c.apiState, c.apiErr = apiFailed, err
			w.errs = append(w.errs, err)
			close(c.apiDone)
			w.logf("simworld: %v", err)
			return
		}
		if w.closed {
			_ = api.Stop()
			c.apiState, c.apiErr = apiFailed, errors.New("simworld: closed")
			close(c.apiDone)
			return
		}
		c.api, c.apiState = api, apiUp
		close(c.apiDone)
		// The cluster's kubelets, and what runs in place of the CCM and CSI
		// containers while their pods run.
		for _, run := range []func(*worldCluster, *kubesim.APIServer){w.runKubelet, w.runCCM, w.runCSI} {
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				run(c, api)
			}()
		}
		w.wake()
	}()
}

func (w *TalosWorld) launchAPIServer(c *worldCluster, n *talossim.Node) (*kubesim.APIServer, error) {
	cfg := n.Config()
	if cfg == nil {
		return nil, fmt.Errorf("simworld: cluster %s: bootstrapped node %s has no configuration", c.name, n.Hostname())
	}
	ca := cfg.Cluster().IssuingCA()
	if ca == nil || len(ca.Crt) == 0 || len(ca.Key) == 0 {
		return nil, fmt.Errorf("simworld: cluster %s: the machine configuration has no Kubernetes CA", c.name)
	}
	sans := []string{}
	add := func(s string) {
		if s != "" && !slices.Contains(sans, s) {
			sans = append(sans, s)
		}
	}
	for _, s := range cfg.Cluster().CertSANs() {
		add(s)
	}
	for _, s := range cfg.Machine().Security().CertSANs() {
		add(s)
	}
	if ep := cfg.Cluster().Endpoint(); ep != nil {
		add(ep.Hostname())
	}
	for _, s := range w.sim.ServerStates() {
		if s.Labels[layout.LabelCluster] != c.name || s.Labels[layout.LabelRole] != layout.RoleControlPlane {
			continue
		}
		add(s.PublicV4)
		for _, p := range s.PrivateV4 {
			add(p)
		}
	}
	// The control plane of a real cluster: the API server with the real
	// controller manager (external cloud provider, node IPAM over the
	// cluster's pod network, node lifecycle, the workload controllers) and
	// scheduler, so that Deployments, DaemonSets, PodDisruptionBudgets and
	// evictions behave as they would on Hetzner.
	opts := kubesim.Options{CACert: ca.Crt, CAKey: ca.Key, SANs: sans, BinDir: w.opts.KubeBinDir, ControllerManager: true, Scheduler: true}
	if net := cfg.Cluster().Network(); net != nil {
		opts.ClusterCIDR = firstIPv4(net.PodCIDRs())
		opts.ServiceCIDR = firstIPv4(net.ServiceCIDRs())
	}
	if sa := cfg.Cluster().ServiceAccount(); sa != nil {
		opts.ServiceAccountKey = sa.Key
	}
	if w.opts.KubeLogDir != "" {
		opts.LogDir = w.opts.KubeLogDir + "/" + c.name
	}
	w.logf("simworld: %s bootstrapped on %s: starting kube-apiserver, kube-controller-manager and kube-scheduler (SANs %v)", c.name, n.Hostname(), sans)
	start := time.Now()
	api, err := kubesim.Start(w.ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("simworld: cluster %s: start kube-apiserver: %w", c.name, err)
	}
	w.logf("simworld: %s: kube-apiserver up at %s after %v", c.name, api.URL(), time.Since(start).Round(time.Millisecond))
	return api, nil
}

// firstIPv4 is the first IPv4 range of cidrs, or "" (the component's default).
func firstIPv4(cidrs []string) string {
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			return p.String()
		}
	}
	return ""
}

// Cluster returns the talossim cluster of the servers labelled
// cluster=name (created on first use, so hooks can be inspected before the
// first server boots).
func (w *TalosWorld) Cluster(name string) *talossim.Cluster { return w.cluster(name).tc }

// Node returns the fake Talos node of a server (nil when the server never
// ran a Talos image).
func (w *TalosWorld) Node(serverID int64) *talossim.Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nodes[serverID]
}

// APIServer returns the cluster's kube-apiserver, nil until it is up.
func (w *TalosWorld) APIServer(cluster string) *kubesim.APIServer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.clusters[cluster]; c != nil && c.apiState == apiUp {
		return c.api
	}
	return nil
}

// WaitAPIServer waits until the cluster's kube-apiserver is up (the
// cluster must have been bootstrapped) and returns it, or the start error.
func (w *TalosWorld) WaitAPIServer(ctx context.Context, cluster string) (*kubesim.APIServer, error) {
	c := w.cluster(cluster)
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("simworld: waiting for the kube-apiserver of %s: %w", cluster, ctx.Err())
	case <-c.apiDone:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.apiState != apiUp {
		return nil, c.apiErr
	}
	return c.api, nil
}

// Close stops every node, forwarder, kubelet and API server and waits for
// them. It is safe to call more than once and from several goroutines.
func (w *TalosWorld) Close() {
	w.closeOnce.Do(func() {
		defer close(w.closeDone)
		w.close()
	})
	<-w.closeDone
}

func (w *TalosWorld) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	<-w.loopDone
	for _, e := range w.servers {
		w.powerOff(e)
	}
	w.mu.Lock()
	clusters := make([]*worldCluster, 0, len(w.clusters))
	for _, c := range w.clusters {
		clusters = append(clusters, c)
	}
	w.mu.Unlock()
	for _, c := range clusters {
		for ip, f := range c.forwarders {
			f.Close()
			delete(c.forwarders, ip)
		}
	}
	w.wg.Wait()
	w.charts.Close()
	for _, c := range clusters {
		if c.api != nil {
			if err := c.api.Stop(); err != nil {
				w.logf("simworld: %s: stop kube-apiserver: %v", c.name, err)
			}
		}
	}
}
