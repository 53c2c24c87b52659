package talossim

import (
	"context"
	"crypto/tls"
	stdx509 "crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/siderolabs/crypto/x509"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// apid forwards a call addressed (with "node" metadata) to another node of the
// cluster, authenticating with a certificate of its own that carries the caller's
// roles. The fake does the same for one target node, unary and server-streaming
// calls, which is what talosctl and hcloud-k8s send through an endpoint.

// proxyTarget finds the cluster node a call is addressed to, or nil when the call
// is for this node.
func (n *Node) proxyTarget(targets []string) (*Node, error) {
	var other []string
	for _, t := range targets {
		for t := range strings.SplitSeq(t, ",") {
			if t = strings.TrimSpace(t); t != "" && !n.isSelf(t) {
				other = append(other, t)
			}
		}
	}
	switch {
	case len(other) == 0:
		return nil, nil
	case len(other) > 1 || len(other) != len(targets):
		return nil, status.Errorf(codes.Unimplemented, "talossim: node %s proxies a call to one other node only, not to %v", n.opts.Hostname, targets)
	}
	if n.cluster != nil {
		for _, m := range n.cluster.Nodes() {
			if m != n && m.isSelf(other[0]) {
				return m, nil
			}
		}
	}
	return nil, status.Errorf(codes.Unavailable, "talossim: node %s knows no node %q in its cluster", n.opts.Hostname, other[0])
}

// proxyConn dials the target's API with a client certificate from this node's OS CA.
func (n *Node) proxyConn(target *Node, roles role.Set) (*grpc.ClientConn, error) {
	cfg := n.Config()
	if cfg == nil {
		return nil, status.Error(codes.FailedPrecondition, "talossim: not configured, cannot proxy")
	}
	issuing := cfg.Machine().Security().IssuingCA()
	if issuing == nil || len(issuing.Key) == 0 {
		return nil, status.Errorf(codes.Unavailable, "talossim: node %s has no OS CA key to proxy with", n.opts.Hostname)
	}
	ca, err := x509.NewCertificateAuthorityFromCertificateAndKey(issuing)
	if err != nil {
		return nil, fmt.Errorf("machine.ca: %w", err)
	}
	now := time.Now()
	kp, err := x509.NewKeyPair(ca,
		x509.CommonName(n.opts.Hostname),
		x509.Organization(roles.Strings()...),
		x509.NotBefore(now.Add(-time.Minute)),
		x509.NotAfter(now.Add(time.Hour)),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}),
	)
	if err != nil {
		return nil, fmt.Errorf("issue proxy certificate: %w", err)
	}
	pool := stdx509.NewCertPool()
	pool.AppendCertsFromPEM(issuing.Crt)
	creds := credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{*kp.Certificate}, MinVersion: tls.VersionTLS12})
	return grpc.NewClient(target.Addr(), grpc.WithTransportCredentials(creds))
}

// methodTypes returns new request and response messages of a gRPC method.
func methodTypes(fullMethod string) (req, resp proto.Message, err error) {
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(fullMethod, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil, nil, status.Errorf(codes.Unimplemented, "talossim: cannot proxy %s: %v", fullMethod, err)
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, nil, status.Errorf(codes.Unimplemented, "talossim: %s is not a method", fullMethod)
	}
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil, nil, err
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, nil, err
	}
	return in.New().Interface(), out.New().Interface(), nil
}

// outgoing copies the caller's metadata without the routing keys.
func outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	md.Delete("node")
	md.Delete("nodes")
	return metadata.NewOutgoingContext(ctx, md)
}

func (n *Node) proxyUnary(ctx context.Context, target *Node, roles role.Set, method string, req any) (any, error) {
	conn, err := n.proxyConn(target, roles)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_, resp, err := methodTypes(method)
	if err != nil {
		return nil, err
	}
	if err := conn.Invoke(outgoing(ctx), method, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

func (n *Node) proxyStream(ss grpc.ServerStream, target *Node, roles role.Set, info *grpc.StreamServerInfo) error {
	if info.IsClientStream {
		return status.Errorf(codes.Unimplemented, "talossim: proxying client streams (%s) is not supported", info.FullMethod)
	}
	req, _, err := methodTypes(info.FullMethod)
	if err != nil {
		return err
	}
	if err := ss.RecvMsg(req); err != nil {
		return err
	}
	conn, err := n.proxyConn(target, roles)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := outgoing(ss.Context())
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, info.FullMethod)
	if err != nil {
		return err
	}
	if err := cs.SendMsg(req); err != nil {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	for {
		_, msg, err := methodTypes(info.FullMethod)
		if err != nil {
			return err
		}
		if err := cs.RecvMsg(msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ss.SendMsg(msg); err != nil {
			return err
		}
	}
}
