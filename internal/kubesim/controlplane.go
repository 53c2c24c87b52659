package kubesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// DefaultControllers lists the kube-controller-manager controllers Start runs:
// the workload controllers, what keeps objects consistent (garbage
// collection, pods of deleted nodes, namespace deletion, service accounts and
// their tokens, the kube-root-ca.crt ConfigMaps, aggregated cluster roles,
// endpoint slices), pod disruption budgets, and the node controllers that
// give nodes a pod CIDR and watch their health, and the protection of claims
// and volumes in use (they hold deletions of PersistentVolumeClaims and
// PersistentVolumes until no pod uses them, as in every real cluster).
// With the persistent-volume binder and the attach-detach controller, claims
// bind to the volumes a CSI driver provisions and VolumeAttachments appear for
// the pods that use them (the world's CSI stand-in acts on both).
// Controllers that need a kubelet, a volume plugin, a cloud
// (--cloud-provider=external leaves nodes, routes and load balancers to the
// cloud-controller-manager) or certificate signing are left out.
func DefaultControllers() []string {
	return []string{
		"deployment", "replicaset", "daemonset", "statefulset", "job", "cronjob", "ttl-after-finished",
		"disruption", "garbagecollector", "podgc", "namespace", "serviceaccount", "serviceaccount-token",
		"root-ca-cert-publisher", "clusterrole-aggregation", "endpointslice", "nodeipam", "nodelifecycle",
		"pvc-protection", "pv-protection", "persistentvolume-binder", "attachdetach",
	}
}

// component is a control-plane binary that runs next to the API server.
type component struct {
	name string // binary name, also the log file name
	user string // client certificate CN, bound by the bootstrap RBAC policy
	args []string
}

// startControlPlane starts the controller manager and scheduler opts asks
// for (bins holds their paths in that order) and waits for their /healthz.
func (s *APIServer) startControlPlane(ctx context.Context, opts Options, files pkiFiles, bins []string, logPath func(string) string) error {
	var comps []component
	if opts.ControllerManager {
		comps = append(comps, component{testbin.ControllerManager, "system:kube-controller-manager",
			append(controllerManagerArgs(opts, files), opts.ControllerManagerArgs...)})
	}
	if opts.Scheduler {
		comps = append(comps, component{testbin.Scheduler, "system:kube-scheduler", opts.SchedulerArgs})
	}
	if len(comps) == 0 {
		return nil
	}
	ports, err := freePorts("127.0.0.1", len(comps))
	if err != nil {
		return err
	}
	for i, c := range comps {
		if err := s.startComponent(ctx, c, bins[i], ports[i], files, logPath(c.name), opts.StartTimeout); err != nil {
			return err
		}
	}
	return nil
}

// controllerManagerArgs are the kube-controller-manager flags beyond the
// common ones: an external cloud provider (like a Talos cluster with the
// hcloud CCM), the service-account signing key matching the API server's
// --service-account-key-file, and nodeipam handing out pod CIDRs.
func controllerManagerArgs(opts Options, files pkiFiles) []string {
	return []string{
		"--cloud-provider=external",
		"--controllers=" + strings.Join(DefaultControllers(), ","),
		// Each controller acts as its own service account with the
		// bootstrap RBAC role for it, as in Talos and kubeadm clusters.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + files.saKey,
		"--root-ca-file=" + files.caCert,
		"--allocate-node-cidrs=true",
		"--cluster-cidr=" + opts.ClusterCIDR,
		"--service-cluster-ip-range=" + opts.ServiceCIDR,
		"--configure-cloud-routes=false",
	}
}

// startComponent writes c's kubeconfig and serving certificate, starts it
// serving /healthz on 127.0.0.1:port and waits until that answers. There is
// no --authentication-kubeconfig: nothing but the health probe talks to the
// component, /healthz is open to anonymous clients, and without the API
// server's request-header CA the delegated authentication only logs errors.
func (s *APIServer) startComponent(ctx context.Context, c component, bin string, port int, files pkiFiles, logPath string, timeout time.Duration) error {
	kubeconfig, cert, key, err := s.componentFiles(c, files.dir)
	if err != nil {
		return fmt.Errorf("kubesim: %s: %w", c.name, err)
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--leader-elect=false",
		"--profiling=false",
	}, c.args...)
	p, err := startProcess(bin, args, logPath, os.Environ())
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.logs = append(s.logs, logPath)
	return s.waitHealthy(ctx, c.name, "https://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(port))+"/healthz", timeout)
}

// componentFiles writes a kubeconfig with a client certificate for c.user
// and a serving certificate for 127.0.0.1 into dir.
func (s *APIServer) componentFiles(c component, dir string) (kubeconfig, cert, key string, err error) {
	clientCert, clientKey, err := s.ca.clientCert(c.user, nil)
	if err != nil {
		return "", "", "", err
	}
	servingCert, servingKey, err := s.ca.servingCert([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", "", "", err
	}
	kubeconfig = filepath.Join(dir, c.name+".kubeconfig")
	cert = filepath.Join(dir, c.name+".crt")
	key = filepath.Join(dir, c.name+".key")
	for path, data := range map[string][]byte{
		kubeconfig: renderKubeconfig(s.url, c.user, s.ca.certPEM, clientCert, clientKey),
		cert:       servingCert,
		key:        servingKey,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", "", "", err
		}
	}
	return kubeconfig, cert, key, nil
}

// waitHealthy polls a component's /healthz, which it serves to anonymous
// clients, verifying its certificate against the cluster CA.
func (s *APIServer) waitHealthy(ctx context.Context, name, url string, timeout time.Duration) error {
	start := time.Now()
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	last, err := pollOK(ctx, client, []string{url}, nil, s.exitedErr, timeout)
	switch {
	case errors.Is(err, errNotReady):
		log := s.LogFile(name)
		return fmt.Errorf("kubesim: %s not healthy at %s after %s; last: %s\nlog %s:\n%s", name, url, timeout, last, log, tail(log, 30))
	case err != nil && ctx.Err() != nil:
		return s.cancelled(start, last, err)
	}
	return err
}
