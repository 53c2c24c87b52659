package talossim

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/siderolabs/talos/pkg/machinery/api/common"
	"github.com/siderolabs/talos/pkg/machinery/role"
)

var (
	rolesAll      = role.MakeSet(role.Admin, role.Operator, role.Reader)
	rolesOperator = role.MakeSet(role.Admin, role.Operator)
	rolesAdmin    = role.MakeSet(role.Admin)
)

// methodRoles mirrors machined's role map (system/services/machined.go) for
// the methods the fake serves; unlisted methods need os:admin.
var methodRoles = map[string]role.Set{
	"/machine.MachineService/ApplyConfiguration":    rolesAdmin,
	"/machine.MachineService/Bootstrap":             rolesAdmin,
	"/machine.MachineService/Kubeconfig":            rolesAdmin,
	"/machine.MachineService/Reset":                 rolesAdmin,
	"/machine.MachineService/Upgrade":               rolesAdmin,
	"/machine.MachineService/Shutdown":              rolesOperator,
	"/machine.MachineService/Reboot":                rolesOperator,
	"/machine.MachineService/Rollback":              rolesAdmin,
	"/machine.MachineService/EtcdLeaveCluster":      rolesAdmin,
	"/machine.MachineService/EtcdForfeitLeadership": rolesAdmin,
	"/machine.MachineService/EtcdRemoveMemberByID":  rolesAdmin,
	"/machine.MachineService/EtcdSnapshot":          role.MakeSet(role.Admin, role.Operator, role.EtcdBackup),
	"/machine.MachineService/EtcdMemberList":        rolesAll,
	"/machine.MachineService/EtcdStatus":            rolesAll,
	"/machine.MachineService/Version":               rolesAll,
	"/machine.MachineService/Hostname":              rolesAll,
	"/machine.MachineService/ServiceList":           rolesAll,
	"/machine.LifecycleService/Install":             rolesAdmin,
	"/machine.LifecycleService/Upgrade":             rolesAdmin,
}

// maintenanceAllowed are the methods a maintenance-mode client (treated as
// os:reader, certificates are not checked) may call besides reader methods.
var maintenanceAllowed = map[string]bool{
	"/machine.MachineService/ApplyConfiguration": true,
}

type ctxKey struct{}

type callInfo struct {
	roles       role.Set
	maintenance bool
	meta        *common.Metadata // set when the call was addressed with node metadata
	proxy       *Node            // the node the call is for, when it is another one
}

func callFrom(ctx context.Context) callInfo {
	if ci, ok := ctx.Value(ctxKey{}).(callInfo); ok {
		return ci
	}
	return callInfo{roles: role.Zero}
}

// authorize implements apid's authz: roles come from the verified client
// certificate's Organization; maintenance mode is read-only except for
// ApplyConfiguration.
func (n *Node) authorize(ctx context.Context, method string) (context.Context, error) {
	n.mu.Lock()
	maintenance := n.active == nil
	n.mu.Unlock()

	ci := callInfo{maintenance: maintenance}
	if maintenance {
		ci.roles = role.MakeSet(role.Reader)
	} else {
		ci.roles = role.Zero
		if p, ok := peer.FromContext(ctx); ok {
			if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 && len(ti.State.VerifiedChains[0]) > 0 {
				ci.roles, _ = role.Parse(ti.State.VerifiedChains[0][0].Subject.Organization)
			}
		}
	}

	allowed, ok := methodRoles[method]
	if !ok {
		allowed = rolesAdmin
	}
	if !ci.roles.IncludesAny(allowed) && !(maintenance && maintenanceAllowed[method]) {
		return nil, status.Error(codes.PermissionDenied, "not authorized")
	}

	// apid routes calls carrying node metadata: calls for this node are served
	// here (with metadata.hostname filled in), calls for another node of the
	// cluster are forwarded to it (proxy.go).
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		targets := append(md.Get("node"), md.Get("nodes")...)
		if len(targets) > 0 {
			if maintenance {
				for _, t := range targets {
					if !n.isSelf(strings.TrimSpace(t)) {
						return nil, status.Errorf(codes.Unavailable, "talossim: node %s is in maintenance mode and cannot proxy to %q", n.opts.Hostname, t)
					}
				}
			}
			target, err := n.proxyTarget(targets)
			if err != nil {
				return nil, err
			}
			ci.proxy = target
			ci.meta = &common.Metadata{Hostname: n.opts.Hostname}
		}
	}
	return context.WithValue(ctx, ctxKey{}, ci), nil
}

func (n *Node) isSelf(target string) bool {
	if target == n.opts.Hostname {
		return true
	}
	for _, ip := range n.nodeIPs() {
		if ip.String() == target {
			return true
		}
	}
	return false
}

func (n *Node) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := n.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	if ci := callFrom(ctx); ci.proxy != nil {
		return n.proxyUnary(ctx, ci.proxy, ci.roles, info.FullMethod, req)
	}
	return handler(ctx, req)
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

func (n *Node) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := n.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	if ci := callFrom(ctx); ci.proxy != nil {
		return n.proxyStream(&wrappedStream{ServerStream: ss, ctx: ctx}, ci.proxy, ci.roles, info)
	}
	return handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
}
