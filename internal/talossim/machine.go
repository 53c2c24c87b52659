package talossim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	machineapi "github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configdiff"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/types/v1alpha1"
	"github.com/siderolabs/talos/pkg/machinery/constants"
)

// machineServer implements machine.MachineService for one node. Methods not
// overridden answer Unimplemented.
type machineServer struct {
	machineapi.UnimplementedMachineServiceServer
	n *Node
}

// running returns the running config (nil in maintenance mode).
func (n *Node) running() config.Provider {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.active
}

// checkControlplane mirrors machined's check for control-plane-only APIs.
func (n *Node) checkControlplane(apiName string) (config.Provider, error) {
	cfg := n.running()
	if cfg == nil {
		return nil, status.Errorf(codes.Unimplemented, "machine type is not set, cannot use %s API", apiName)
	}
	if !cfg.Machine().Type().IsControlPlane() {
		return nil, status.Errorf(codes.Unimplemented, "%s is only available on control plane nodes", apiName)
	}
	return cfg, nil
}

// Version reports the booted version, the hcloud platform and RBAC.
func (s *machineServer) Version(ctx context.Context, _ *emptypb.Empty) (*machineapi.VersionResponse, error) {
	n := s.n
	cfg := n.running()
	var features *machineapi.FeaturesInfo
	if cfg != nil && cfg.Machine() != nil {
		features = &machineapi.FeaturesInfo{Rbac: true} // RBAC is always on since Talos 1.6
	}
	return &machineapi.VersionResponse{Messages: []*machineapi.Version{{
		Metadata: callFrom(ctx).meta,
		Version: &machineapi.VersionInfo{
			Tag: n.Version(), Sha: "talossim", Built: "", GoVersion: runtime.Version(), Os: "linux", Arch: n.opts.Arch,
		},
		Platform: &machineapi.PlatformInfo{Name: "hcloud", Mode: "cloud"},
		Features: features,
	}}}, nil
}

// Hostname returns the node's hostname.
func (s *machineServer) Hostname(ctx context.Context, _ *emptypb.Empty) (*machineapi.HostnameResponse, error) {
	return &machineapi.HostnameResponse{Messages: []*machineapi.Hostname{{
		Metadata: callFrom(ctx).meta, Hostname: s.n.Hostname(),
	}}}, nil
}

func modeFlag(m machineapi.ApplyConfigurationRequest_Mode) string {
	return strings.ReplaceAll(strings.ToLower(m.String()), "_", "-")
}

// ApplyConfiguration follows machined: in maintenance mode the first config is
// installed (then the node reboots into configured mode, or continues in place
// when PreInstalled); in configured mode AUTO picks NO_REBOOT when the change
// can be applied immediately and REBOOT otherwise, NO_REBOOT/TRY refuse
// changes that need a reboot, STAGED only persists, REBOOT persists and
// reboots, TRY reverts after try_mode_timeout.
func (s *machineServer) ApplyConfiguration(ctx context.Context, in *machineapi.ApplyConfigurationRequest) (*machineapi.ApplyConfigurationResponse, error) {
	n := s.n
	if !n.applyMu.TryLock() {
		return nil, status.Error(codes.FailedPrecondition, "another apply configuration is already in progress")
	}
	defer n.applyMu.Unlock()

	n.mu.Lock()
	cur, installed := n.active, n.installed
	n.mu.Unlock()

	cfg, err := configloader.NewFromBytes(in.GetData())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if cfg.RawV1Alpha1() == nil {
		return nil, status.Error(codes.InvalidArgument, "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?")
	}
	if cur == nil {
		switch in.GetMode() {
		case machineapi.ApplyConfigurationRequest_STAGED, machineapi.ApplyConfigurationRequest_TRY:
			return nil, status.Errorf(codes.Unimplemented, "apply configuration --mode='%s' is not supported in maintenance mode", modeFlag(in.GetMode()))
		}
	}
	warnings, err := cfg.Validate(cloudMode{installed: installed || n.opts.PreInstalled})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	meta := callFrom(ctx).meta

	if cur == nil {
		return n.applyMaintenance(in, cfg, warnings, meta)
	}

	mode := in.GetMode()
	modeDetails := "Applied configuration with a reboot"
	modeErr := ""
	if mode != machineapi.ApplyConfigurationRequest_TRY {
		n.mu.Lock()
		n.tryGen++ // cancels a pending try-mode rollback
		n.mu.Unlock()
	}
	switch mode {
	case machineapi.ApplyConfigurationRequest_TRY, machineapi.ApplyConfigurationRequest_NO_REBOOT:
		if err := canApplyImmediate(cur, cfg); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		modeDetails = "Applied configuration without a reboot"
	case machineapi.ApplyConfigurationRequest_STAGED:
		modeDetails = "Staged configuration to be applied after the next reboot"
	case machineapi.ApplyConfigurationRequest_AUTO:
		if err := canApplyImmediate(cur, cfg); err != nil {
			mode = machineapi.ApplyConfigurationRequest_REBOOT
			modeDetails = "Applied configuration with a reboot"
			modeErr = ": " + err.Error()
		} else {
			mode = machineapi.ApplyConfigurationRequest_NO_REBOOT
			modeDetails = "Applied configuration without a reboot"
		}
	}

	if in.GetDryRun() {
		diff, err := configdiff.DiffConfigs(cur, cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to generate diff: %w", err)
		}
		if diff == "" {
			diff = "No changes."
		}
		return &machineapi.ApplyConfigurationResponse{Messages: []*machineapi.ApplyConfiguration{{
			Metadata:    meta,
			Mode:        mode,
			ModeDetails: fmt.Sprintf("Dry run summary:\n%s (skipped in dry-run).\nConfig diff:\n\n%s", modeDetails, diff),
		}}}, nil
	}

	switch mode {
	case machineapi.ApplyConfigurationRequest_TRY:
		timeout := constants.ConfigTryTimeout
		if in.GetTryModeTimeout() != nil {
			timeout = in.GetTryModeTimeout().AsDuration()
		}
		modeDetails += fmt.Sprintf("\nThe config is applied in 'try' mode and will be automatically reverted back in %s", timeout.String())
		if err := n.activate(cfg, false); err != nil {
			return nil, err
		}
		n.scheduleRollback(timeout)
	case machineapi.ApplyConfigurationRequest_NO_REBOOT:
		if err := n.activate(cfg, true); err != nil {
			return nil, err
		}
	case machineapi.ApplyConfigurationRequest_STAGED:
		n.mu.Lock()
		n.persisted = cfg
		n.mu.Unlock()
	case machineapi.ApplyConfigurationRequest_REBOOT:
		n.mu.Lock()
		n.persisted = cfg
		n.mu.Unlock()
		n.reboot()
	default:
		return nil, fmt.Errorf("incorrect mode '%s' specified for the apply config call", mode.String())
	}
	if h := n.cluster.getHooks().OnConfigApplied; h != nil {
		h(n, mode.String())
	}
	return &machineapi.ApplyConfigurationResponse{Messages: []*machineapi.ApplyConfiguration{{
		Metadata:    meta,
		Mode:        mode,
		Warnings:    warnings,
		ModeDetails: modeDetails + modeErr,
	}}}, nil
}

// applyMaintenance handles the first configuration sent to a node in
// maintenance mode.
func (n *Node) applyMaintenance(in *machineapi.ApplyConfigurationRequest, cfg config.Provider, warnings []string, meta *common.Metadata) (*machineapi.ApplyConfigurationResponse, error) {
	mode := machineapi.ApplyConfigurationRequest_REBOOT
	details := "Applied configuration with a reboot"
	if n.opts.PreInstalled {
		mode = machineapi.ApplyConfigurationRequest_NO_REBOOT
		details = "Applied configuration without a reboot"
	}
	if in.GetDryRun() {
		return &machineapi.ApplyConfigurationResponse{Messages: []*machineapi.ApplyConfiguration{{
			Metadata:    meta,
			Mode:        mode,
			ModeDetails: fmt.Sprintf("Dry run summary:\n%s (skipped in dry-run).\nNode is running in maintenance mode and does not have a config yet.", details),
		}}}, nil
	}
	prepare := func() {
		n.mu.Lock()
		n.persisted, n.installed = cfg, true
		n.mu.Unlock()
		n.cluster.learnCA(cfg)
	}
	var ok bool
	if n.opts.PreInstalled {
		// configure in place: apid restarts with the OS CA at once
		ok = n.transition(StateBooting, 0, prepare, false)
	} else {
		ok = n.transition(StateInstalling, n.timings.Install+n.timings.Reboot, prepare, true)
	}
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "node is not accepting a configuration right now")
	}
	if h := n.cluster.getHooks().OnConfigApplied; h != nil {
		h(n, mode.String())
	}
	return &machineapi.ApplyConfigurationResponse{Messages: []*machineapi.ApplyConfiguration{{
		Metadata: meta, Mode: mode, Warnings: warnings, ModeDetails: details,
	}}}, nil
}

// activate makes cfg the running config (persisting it when asked) and
// reissues the serving certificate (machine.certSANs may have changed).
func (n *Node) activate(cfg config.Provider, persist bool) error {
	n.cluster.learnCA(cfg)
	cert, err := n.servingCertFor(cfg)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.active = cfg
	n.servingCert = cert
	if persist {
		n.persisted = cfg
	}
	return nil
}

// scheduleRollback reverts a try-mode config after timeout unless another
// apply came in meanwhile or the node rebooted.
func (n *Node) scheduleRollback(timeout time.Duration) {
	n.mu.Lock()
	n.tryGen++
	gen, boot, ctx := n.tryGen, n.bootID, n.powerCtx
	n.mu.Unlock()
	if ctx == nil {
		return
	}
	go func() {
		if !n.sleep(ctx, timeout) {
			return
		}
		n.mu.Lock()
		if n.tryGen != gen || n.bootID != boot || n.active == nil || n.persisted == nil {
			n.mu.Unlock()
			return
		}
		back := n.persisted
		n.mu.Unlock()
		_ = n.activate(back, false)
		n.logf("try mode: configuration reverted")
	}()
}

// canApplyImmediate approximates machined's check: the v1alpha1 documents
// must be equal once the sections applied on the fly are cleared (cluster,
// debug, and machine certSANs, network, install, time, sysctls, sysfs,
// logging, controlplane, kubelet, kernel, registries, pods, seccomp
// profiles, node labels/annotations/taints, env, files, udev and a few
// features).
func canApplyImmediate(cur, next config.Provider) error {
	a, b := cur.RawV1Alpha1(), next.RawV1Alpha1()
	if a == nil || b == nil {
		if a == nil && b == nil {
			return nil
		}
		return errors.New("this config change can't be applied in immediate mode")
	}
	a, b = a.DeepCopy(), b.DeepCopy()
	for _, c := range []*v1alpha1.Config{a, b} {
		c.ConfigDebug = nil
		c.ClusterConfig = nil
		m := c.MachineConfig
		if m == nil {
			continue
		}
		m.MachineCertSANs = nil
		m.MachineNetwork = nil
		m.MachineInstall = nil
		m.MachineTime = nil
		m.MachineSysctls = nil
		m.MachineSysfs = nil
		m.MachineLogging = nil
		m.MachineControlPlane = nil
		m.MachineKubelet = nil
		m.MachineKernel = nil
		m.MachineRegistries = v1alpha1.RegistriesConfig{}
		m.MachinePods = nil
		m.MachineSeccompProfiles = nil
		m.MachineNodeLabels = nil
		m.MachineNodeAnnotations = nil
		m.MachineNodeTaints = nil
		m.MachineEnv = nil
		m.MachineFiles = nil
		m.MachineUdev = nil
		if f := m.MachineFeatures; f != nil {
			f.KubernetesTalosAPIAccessConfig = nil
			f.KubePrismSupport = nil
			f.HostDNSSupport = nil
			f.ImageCacheSupport = nil
			f.FeatureNodeAddressSortAlgorithm = ""
		}
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	diff, err := configdiff.DiffConfigs(cur, next)
	if err != nil {
		diff = err.Error()
	}
	return fmt.Errorf("this config change can't be applied in immediate mode\ndiff: %s", diff)
}

// Bootstrap bootstraps etcd once per cluster.
func (s *machineServer) Bootstrap(ctx context.Context, _ *machineapi.BootstrapRequest) (*machineapi.BootstrapResponse, error) {
	n := s.n
	n.mu.Lock()
	cfg, etcdData := n.active, n.etcdData
	n.mu.Unlock()
	if cfg == nil || n.State() != StateRunning {
		return nil, status.Error(codes.FailedPrecondition, "bootstrap is not available yet")
	}
	if !cfg.Machine().Type().IsControlPlane() {
		return nil, status.Error(codes.FailedPrecondition, "bootstrap can only be performed on a control plane node")
	}
	if etcdData || n.cluster.Bootstrapped() {
		return nil, status.Error(codes.AlreadyExists, "etcd data directory is not empty")
	}
	m, ok := n.cluster.bootstrap(n)
	if !ok {
		return nil, status.Error(codes.AlreadyExists, "etcd data directory is not empty")
	}
	n.mu.Lock()
	n.etcdData = true
	n.mu.Unlock()
	n.etcdUp.Store(true)
	hooks := n.cluster.getHooks()
	if hooks.OnMemberJoin != nil {
		hooks.OnMemberJoin(n, m)
	}
	// control planes waiting for the bootstrap join now
	for _, o := range n.cluster.Nodes() {
		if o != n {
			o.startEtcd()
		}
	}
	if hooks.OnBootstrap != nil {
		hooks.OnBootstrap(n)
	}
	return &machineapi.BootstrapResponse{Messages: []*machineapi.Bootstrap{{Metadata: callFrom(ctx).meta}}}, nil
}

// Kubeconfig streams a .tar.gz holding the admin kubeconfig.
func (s *machineServer) Kubeconfig(_ *emptypb.Empty, stream grpc.ServerStreamingServer[common.Data]) error {
	cfg, err := s.n.checkControlplane("kubeconfig")
	if err != nil {
		return err
	}
	kc, err := adminKubeconfig(cfg)
	if err != nil {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "kubeconfig", Size: int64(len(kc)), ModTime: time.Now(), Mode: 0o600}); err != nil {
		return err
	}
	if _, err := tw.Write(kc); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return stream.Send(&common.Data{Metadata: callFrom(stream.Context()).meta, Bytes: buf.Bytes()})
}

// ServiceList reports the services machined runs in the node's state.
func (s *machineServer) ServiceList(ctx context.Context, _ *emptypb.Empty) (*machineapi.ServiceListResponse, error) {
	n := s.n
	n.mu.Lock()
	cfg, etcdFailed := n.active, n.etcdFailed
	n.mu.Unlock()
	ts := timestamppb.New(n.clock.Now())
	svc := func(id, state string, health *machineapi.ServiceHealth, msg string) *machineapi.ServiceInfo {
		return &machineapi.ServiceInfo{
			Id: id, State: state, Health: health,
			Events: &machineapi.ServiceEvents{Events: []*machineapi.ServiceEvent{{Msg: msg, State: state, Ts: ts}}},
		}
	}
	healthy := func() *machineapi.ServiceHealth {
		return &machineapi.ServiceHealth{Healthy: true, LastChange: ts}
	}
	unknown := func() *machineapi.ServiceHealth { return &machineapi.ServiceHealth{Unknown: true} }

	list := []*machineapi.ServiceInfo{
		svc("apid", "Running", healthy(), "Health check successful"),
		svc("auditd", "Running", unknown(), "Service started as goroutine"),
		svc("machined", "Running", unknown(), "Service started as goroutine"),
		svc("syslogd", "Running", unknown(), "Service started as goroutine"),
		svc("udevd", "Running", healthy(), "Health check successful"),
	}
	if cfg != nil {
		list = append(list,
			svc("containerd", "Running", healthy(), "Health check successful"),
			svc("cri", "Running", healthy(), "Health check successful"),
			svc("kubelet", "Running", healthy(), "Health check successful"),
		)
		if cfg.Machine().Type().IsControlPlane() {
			list = append(list, svc("trustd", "Running", healthy(), "Health check successful"))
			switch {
			case n.etcdRunning():
				list = append(list, svc("etcd", "Running", healthy(), "Health check successful"))
			case etcdFailed:
				list = append(list, svc("etcd", "Failed", &machineapi.ServiceHealth{LastMessage: "member removed from the cluster", LastChange: ts}, "Error running Containerd(etcd), going to restart forever: member removed"))
			default:
				list = append(list, svc("etcd", "Preparing", unknown(), "Running pre state"))
			}
		}
	}
	slices.SortFunc(list, func(a, b *machineapi.ServiceInfo) int { return strings.Compare(a.Id, b.Id) })
	return &machineapi.ServiceListResponse{Messages: []*machineapi.ServiceList{{Metadata: callFrom(ctx).meta, Services: list}}}, nil
}

func etcdMemberProto(m EtcdMember) *machineapi.EtcdMember {
	return &machineapi.EtcdMember{Id: m.ID, Hostname: m.Hostname, PeerUrls: m.PeerURLs, ClientUrls: m.ClientURLs}
}

// etcdReachable mirrors what an etcd client built from the control plane IPs
// sees: a bootstrapped cluster with a leader (quorum).
func (n *Node) etcdReachable(local bool) error {
	if local && !n.etcdRunning() {
		return status.Error(codes.Unavailable, "failed to create etcd client: etcd is not running on this node")
	}
	n.cluster.mu.Lock()
	defer n.cluster.mu.Unlock()
	if !n.cluster.bootstrapped || len(n.cluster.members) == 0 {
		return errors.New("failed to create etcd client: no controlplane endpoints discovered yet")
	}
	if !n.cluster.quorumLocked() {
		return errNoLeader
	}
	return nil
}

// EtcdMemberList lists the cluster's members.
func (s *machineServer) EtcdMemberList(ctx context.Context, in *machineapi.EtcdMemberListRequest) (*machineapi.EtcdMemberListResponse, error) {
	n := s.n
	if _, err := n.checkControlplane("etcd member list"); err != nil {
		return nil, err
	}
	if err := n.etcdReachable(in.GetQueryLocal()); err != nil {
		return nil, err
	}
	msg := &machineapi.EtcdMembers{Metadata: callFrom(ctx).meta}
	for _, m := range n.cluster.Members() {
		msg.LegacyMembers = append(msg.LegacyMembers, m.Hostname)
		msg.Members = append(msg.Members, etcdMemberProto(m))
	}
	return &machineapi.EtcdMemberListResponse{Messages: []*machineapi.EtcdMembers{msg}}, nil
}

// EtcdStatus reports this node's own etcd member, as Talos reads it from
// the local etcd: it fails when etcd does not run here, and a member cut off
// from quorum lists the error its client sees.
func (s *machineServer) EtcdStatus(ctx context.Context, _ *emptypb.Empty) (*machineapi.EtcdStatusResponse, error) {
	n := s.n
	if _, err := n.checkControlplane("etcd status"); err != nil {
		return nil, err
	}
	if err := n.etcdReachable(true); err != nil && !errors.Is(err, errNoLeader) {
		return nil, err
	}
	m, ok := n.cluster.MemberOf(n)
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "etcd member ID not found: this node is not a member of the cluster")
	}
	st := &machineapi.EtcdMemberStatus{MemberId: m.ID, ProtocolVersion: "3.5.0", StorageVersion: "3.5.0", DbSize: 20 << 20, DbSizeInUse: 12 << 20}
	n.cluster.mu.Lock()
	st.Leader = n.cluster.leader
	quorum := n.cluster.quorumLocked()
	n.cluster.mu.Unlock()
	if !quorum {
		st.Leader = 0
		st.Errors = []string{errNoLeader.Error()}
	}
	return &machineapi.EtcdStatusResponse{Messages: []*machineapi.EtcdStatus{{Metadata: callFrom(ctx).meta, MemberStatus: st}}}, nil
}

// memberRemoved updates the node behind a removed member.
func (n *Node) memberRemoved(m EtcdMember, leaving *Node) {
	if o := m.node; o != nil && o != leaving && o.etcdRunning() {
		o.etcdUp.Store(false)
		o.mu.Lock()
		o.etcdFailed = true
		o.mu.Unlock()
	}
	if h := n.cluster.getHooks().OnMemberLeave; h != nil {
		h(m.node, m)
	}
}

// EtcdRemoveMemberByID removes a member (meant for members without a node).
func (s *machineServer) EtcdRemoveMemberByID(ctx context.Context, in *machineapi.EtcdRemoveMemberByIDRequest) (*machineapi.EtcdRemoveMemberByIDResponse, error) {
	n := s.n
	if _, err := n.checkControlplane("etcd remove member"); err != nil {
		return nil, err
	}
	if err := n.etcdReachable(false); err != nil {
		return nil, fmt.Errorf("failed to create etcd client: %w", err)
	}
	m, err := n.cluster.remove(in.GetMemberId())
	if err != nil {
		err = fmt.Errorf("failed to remove member %d: %w", in.GetMemberId(), err)
		if errors.Is(err, errMemberNotFound) {
			return nil, status.Error(codes.NotFound, err.Error())
		}
		return nil, fmt.Errorf("failed to remove member: %w", err)
	}
	n.memberRemoved(m, nil)
	return &machineapi.EtcdRemoveMemberByIDResponse{Messages: []*machineapi.EtcdRemoveMemberByID{{Metadata: callFrom(ctx).meta}}}, nil
}

// leaveEtcd removes the node's own member, stops etcd and wipes its data.
func (n *Node) leaveEtcd() error {
	m, ok := n.cluster.MemberOf(n)
	if !ok || !n.etcdRunning() {
		return errors.New("etcd member ID not found: etcd is not running on this node")
	}
	if _, err := n.cluster.remove(m.ID); err != nil {
		return fmt.Errorf("failed to remove member %d: %w", m.ID, err)
	}
	n.etcdUp.Store(false)
	n.mu.Lock()
	n.etcdData = false
	n.mu.Unlock()
	n.memberRemoved(m, n)
	return nil
}

// EtcdLeaveCluster removes this node's member from etcd.
func (s *machineServer) EtcdLeaveCluster(ctx context.Context, _ *machineapi.EtcdLeaveClusterRequest) (*machineapi.EtcdLeaveClusterResponse, error) {
	n := s.n
	if _, err := n.checkControlplane("etcd leave"); err != nil {
		return nil, err
	}
	if err := n.etcdReachable(false); err != nil {
		return nil, fmt.Errorf("failed to create etcd client: %w", err)
	}
	if err := n.leaveEtcd(); err != nil {
		return nil, fmt.Errorf("failed to leave cluster: %w", err)
	}
	return &machineapi.EtcdLeaveClusterResponse{Messages: []*machineapi.EtcdLeaveCluster{{Metadata: callFrom(ctx).meta}}}, nil
}

// EtcdForfeitLeadership moves etcd leadership away from this node.
func (s *machineServer) EtcdForfeitLeadership(ctx context.Context, _ *machineapi.EtcdForfeitLeadershipRequest) (*machineapi.EtcdForfeitLeadershipResponse, error) {
	n := s.n
	if _, err := n.checkControlplane("etcd forfeit leadership"); err != nil {
		return nil, err
	}
	if err := n.etcdReachable(true); err != nil {
		return nil, err
	}
	leader, err := n.cluster.forfeit(n)
	if err != nil {
		return nil, fmt.Errorf("failed to forfeit leadership: %w", err)
	}
	return &machineapi.EtcdForfeitLeadershipResponse{Messages: []*machineapi.EtcdForfeitLeadership{{Metadata: callFrom(ctx).meta, Member: leader}}}, nil
}

// Reboot reboots asynchronously; the API goes dark for Timings.Reboot +
// Timings.Boot and the boot ID changes.
func (s *machineServer) Reboot(ctx context.Context, _ *machineapi.RebootRequest) (*machineapi.RebootResponse, error) {
	actor := newUUID()
	if !s.n.reboot() {
		return nil, status.Error(codes.FailedPrecondition, "another sequence is already running")
	}
	return &machineapi.RebootResponse{Messages: []*machineapi.Reboot{{Metadata: callFrom(ctx).meta, ActorId: actor}}}, nil
}

// Shutdown powers the node off.
func (s *machineServer) Shutdown(ctx context.Context, _ *machineapi.ShutdownRequest) (*machineapi.ShutdownResponse, error) {
	n := s.n
	actor := newUUID()
	if !n.powerOff(StateShutdown, 0, nil) {
		return nil, status.Error(codes.FailedPrecondition, "another sequence is already running")
	}
	return &machineapi.ShutdownResponse{Messages: []*machineapi.Shutdown{{Metadata: callFrom(ctx).meta, ActorId: actor}}}, nil
}

var resettableLabels = []string{"STATE", "EPHEMERAL", "META"}

// Reset wipes the node and reboots or powers off. Graceful resets of control
// planes leave etcd first (synchronously in the fake, so a refusal is the
// RPC's error); non-graceful resets leave a dangling member behind, as the
// real node does.
func (s *machineServer) Reset(ctx context.Context, in *machineapi.ResetRequest) (*machineapi.ResetResponse, error) {
	n := s.n
	if len(in.GetUserDisksToWipe()) > 0 {
		if in.GetMode() == machineapi.ResetRequest_SYSTEM_DISK {
			return nil, errors.New("reset failed: invalid input, wipe mode SYSTEM_DISK doesn't support UserDisksToWipe parameter")
		}
		return nil, fmt.Errorf("reset user disk failed: device %s wasn't found", in.GetUserDisksToWipe()[0])
	}
	wipeState, wipeEphemeral := true, true
	if parts := in.GetSystemPartitionsToWipe(); len(parts) > 0 {
		if in.GetMode() == machineapi.ResetRequest_USER_DISKS {
			return nil, errors.New("reset failed: invalid input, wipe mode USER_DISKS doesn't support SystemPartitionsToWipe parameter")
		}
		wipeState, wipeEphemeral = false, false
		for _, p := range parts {
			if !slices.Contains(resettableLabels, p.GetLabel()) {
				return nil, fmt.Errorf("failed to reset: volume %q is not located", p.GetLabel())
			}
			if p.GetWipe() {
				wipeState = wipeState || p.GetLabel() == "STATE"
				wipeEphemeral = wipeEphemeral || p.GetLabel() == "EPHEMERAL"
			}
		}
	}
	if in.GetMode() == machineapi.ResetRequest_USER_DISKS {
		wipeState, wipeEphemeral = false, false
	}
	cfg := n.running()
	if in.GetGraceful() && cfg != nil && cfg.Machine().Type().IsControlPlane() && n.etcdRunning() {
		if err := n.leaveEtcd(); err != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "failed to leave etcd cluster: %v", err)
		}
	}
	prepare := func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if wipeState {
			n.persisted = nil
		}
		if wipeEphemeral {
			n.etcdData = false
		}
	}
	actor := newUUID()
	var ok bool
	if in.GetReboot() {
		ok = n.transition(StateResetting, n.timings.Reset+n.timings.Reboot, prepare, true)
	} else {
		ok = n.powerOff(StateResetting, n.timings.Reset, prepare)
	}
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "another sequence is already running")
	}
	return &machineapi.ResetResponse{Messages: []*machineapi.Reset{{Metadata: callFrom(ctx).meta, ActorId: actor}}}, nil
}

// imageVersion extracts the Talos version from an installer image reference
// ("ghcr.io/siderolabs/installer:v1.13.10", "factory.talos.dev/installer/<id>:v1.13.10").
func imageVersion(image string) string {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	tag := ref[i+1:]
	if !strings.HasPrefix(tag, "v") {
		return ""
	}
	return tag
}

// validateForUpgrade mirrors etcd.ValidateForUpgrade.
func (n *Node) validateForUpgrade() error {
	n.cluster.mu.Lock()
	defer n.cluster.mu.Unlock()
	if len(n.cluster.members) == 0 {
		return errors.New("failed to create etcd client: no controlplane endpoints discovered yet")
	}
	if len(n.cluster.members) == 2 {
		return fmt.Errorf("etcd member count(%d) is insufficient to maintain quorum if upgrade commences", len(n.cluster.members))
	}
	for _, m := range n.cluster.members {
		if !healthy(m) {
			return fmt.Errorf("etcd member %016x is not healthy; all members must be healthy to perform an upgrade: context deadline exceeded", m.ID)
		}
	}
	return nil
}

// Upgrade is the legacy (deprecated) upgrade: validate, then install and
// reboot into the new version.
func (s *machineServer) Upgrade(ctx context.Context, in *machineapi.UpgradeRequest) (*machineapi.UpgradeResponse, error) {
	n := s.n
	cfg := n.running()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "Talos is not installed")
	}
	if in.GetImage() == "" {
		return nil, fmt.Errorf("error validating installer image %q: image reference is empty", in.GetImage())
	}
	if cfg.Machine().Type().IsControlPlane() && !in.GetForce() {
		if err := n.validateForUpgrade(); err != nil {
			return nil, fmt.Errorf("error validating etcd for upgrade: %w", err)
		}
	}
	version := imageVersion(in.GetImage())
	actor := newUUID()
	ok := n.transition(StateUpgrading, n.timings.Upgrade+n.timings.Reboot, func() {
		if version != "" {
			n.mu.Lock()
			n.pendingVersion = version
			n.mu.Unlock()
		}
	}, true)
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, "another sequence is already running")
	}
	return &machineapi.UpgradeResponse{Messages: []*machineapi.Upgrade{{
		Metadata: callFrom(ctx).meta, Ack: "Upgrade request received", ActorId: actor,
	}}}, nil
}

// lifecycleServer implements machine.LifecycleService (Talos >= 1.13).
type lifecycleServer struct {
	machineapi.UnimplementedLifecycleServiceServer
	n *Node
}

func progressMsg(msg string) *machineapi.LifecycleServiceUpgradeResponse {
	return &machineapi.LifecycleServiceUpgradeResponse{Progress: &machineapi.LifecycleServiceInstallProgress{
		Response: &machineapi.LifecycleServiceInstallProgress_Message{Message: msg},
	}}
}

func progressExit(code int32) *machineapi.LifecycleServiceUpgradeResponse {
	return &machineapi.LifecycleServiceUpgradeResponse{Progress: &machineapi.LifecycleServiceInstallProgress{
		Response: &machineapi.LifecycleServiceInstallProgress_ExitCode{ExitCode: code},
	}}
}

// Upgrade installs the new version to the disk without rebooting; the next
// boot (Reboot RPC) runs it. Failures are reported as a non-zero exit code,
// not as a gRPC error.
func (s *lifecycleServer) Upgrade(in *machineapi.LifecycleServiceUpgradeRequest, stream grpc.ServerStreamingServer[machineapi.LifecycleServiceUpgradeResponse]) error {
	n := s.n
	n.mu.Lock()
	installed := n.persisted != nil && n.active != nil
	n.mu.Unlock()
	if !installed {
		return status.Error(codes.FailedPrecondition, "Talos is not installed")
	}
	image := in.GetSource().GetImageName()
	if image == "" {
		return status.Error(codes.InvalidArgument, "source image name is required")
	}
	if err := stream.Send(progressMsg("pulling installer image " + image)); err != nil {
		return err
	}
	version := imageVersion(image)
	if version == "" {
		if err := stream.Send(progressMsg(fmt.Sprintf("error: cannot determine the Talos version of %q", image))); err != nil {
			return err
		}
		return stream.Send(progressExit(1))
	}
	if err := stream.Send(progressMsg("installing Talos " + version)); err != nil {
		return err
	}
	n.mu.Lock()
	n.pendingVersion = version
	n.mu.Unlock()
	if err := stream.Send(progressMsg("upgrade installed, reboot to activate")); err != nil {
		return err
	}
	return stream.Send(progressExit(0))
}
