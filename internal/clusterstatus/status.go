// Package clusterstatus reads what a formed cluster looks like: its nodes
// (role, versions, Ready), its etcd members and its addons. It uses only the
// kubeconfig and talosconfig apply wrote; it needs no Hetzner token and
// changes nothing.
package clusterstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/install"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
)

// Report is the status of one cluster.
type Report struct {
	Cluster string `json:"cluster"`
	Nodes   []Node `json:"nodes"`
	// Etcd lists the members; EtcdError says why they could not be read.
	Etcd      []EtcdMember          `json:"etcd"`
	EtcdError string                `json:"etcdError,omitempty"`
	Addons    []install.AddonStatus `json:"addons"`
}

// Healthy reports whether every node is Ready and initialised, etcd could be
// read, and every enabled addon is healthy.
func (r *Report) Healthy() bool {
	for _, n := range r.Nodes {
		if !n.Ready || !n.Initialized {
			return false
		}
	}
	for _, a := range r.Addons {
		if a.Enabled && !a.Healthy {
			return false
		}
	}
	return r.EtcdError == ""
}

// Node is one Kubernetes node.
type Node struct {
	Name           string `json:"name"`
	Role           string `json:"role"` // control-plane or worker
	Ready          bool   `json:"ready"`
	Reason         string `json:"reason,omitempty"` // why not Ready
	Initialized    bool   `json:"initialized"`      // by the cloud controller manager
	KubeletVersion string `json:"kubeletVersion"`
	TalosVersion   string `json:"talosVersion,omitempty"`
	InternalIP     string `json:"internalIP,omitempty"`
	ExternalIP     string `json:"externalIP,omitempty"`
}

// EtcdMember is one member of the cluster's etcd.
type EtcdMember struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Learner bool   `json:"learner"`
}

// Inputs are the credentials status reads with.
type Inputs struct {
	Cluster     *config.Cluster
	Kubeconfig  []byte
	Talosconfig []byte
}

// Read gathers the report. A part that cannot be read (etcd through the
// Talos API) is reported in the result rather than failing the whole.
func Read(ctx context.Context, in Inputs) (*Report, error) {
	rc, err := clientcmd.RESTConfigFromKubeConfig(in.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	rc.Timeout = 15 * time.Second
	rc.UserAgent = "hcloud-k8s"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	r := &Report{Cluster: in.Cluster.Cluster.Name, Nodes: []Node{}, Etcd: []EtcdMember{}}
	if r.Nodes, err = nodes(ctx, cs); err != nil {
		return nil, err
	}
	a, err := kubeapply.New(rc, kubeapply.Options{})
	if err != nil {
		return nil, err
	}
	if r.Addons, err = install.Status(ctx, a, in.Cluster); err != nil {
		return nil, err
	}
	if r.Etcd, err = etcdMembers(ctx, in.Talosconfig); err != nil {
		r.EtcdError, r.Etcd = err.Error(), []EtcdMember{}
	}
	return r, nil
}

func nodes(ctx context.Context, cs kubernetes.Interface) ([]Node, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes through the Kubernetes API: %w", err)
	}
	out := []Node{}
	for i := range list.Items {
		out = append(out, nodeOf(&list.Items[i]))
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func nodeOf(n *corev1.Node) Node {
	out := Node{Name: n.Name, Role: "worker", KubeletVersion: n.Status.NodeInfo.KubeletVersion, Initialized: true}
	if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
		out.Role = "control-plane"
	}
	// Talos reports its version in the OS image: "Talos (v1.13.9)".
	if v, ok := strings.CutPrefix(n.Status.NodeInfo.OSImage, "Talos ("); ok {
		out.TalosVersion = strings.TrimSuffix(v, ")")
	}
	out.Reason = "no Ready condition yet"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			out.Ready = c.Status == corev1.ConditionTrue
			out.Reason = ""
			if !out.Ready {
				out.Reason = strings.TrimSpace(c.Reason + " " + c.Message)
			}
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == "node.cloudprovider.kubernetes.io/uninitialized" {
			out.Initialized = false
		}
	}
	for _, a := range n.Status.Addresses {
		switch {
		case a.Type == corev1.NodeInternalIP && out.InternalIP == "":
			out.InternalIP = a.Address
		case a.Type == corev1.NodeExternalIP && out.ExternalIP == "":
			out.ExternalIP = a.Address
		}
	}
	return out
}

// etcdMembers asks the talosconfig's endpoints (the control planes) for the
// member list, one endpoint at a time in the talosconfig's order (public
// IPv4s before IPv6s), stopping at the first that answers: the Talos
// client given them all would dial every one at once.
func etcdMembers(ctx context.Context, talosconfig []byte) ([]EtcdMember, error) {
	cfg, err := clientconfig.FromBytes(talosconfig)
	if err != nil {
		return nil, fmt.Errorf("talosconfig: %w", err)
	}
	tc, ok := cfg.Contexts[cfg.Context]
	if !ok || len(tc.Endpoints) == 0 {
		return nil, fmt.Errorf("talosconfig: context %q has no endpoints", cfg.Context)
	}
	var errs []error
	for _, ep := range tc.Endpoints {
		members, err := etcdMembersAt(ctx, cfg, ep)
		if err == nil {
			return members, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("etcd member list through the Talos API: %w", errors.Join(errs...))
}

func etcdMembersAt(ctx context.Context, cfg *clientconfig.Config, endpoint string) ([]EtcdMember, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, client.WithConfig(cfg), client.WithEndpoints(endpoint))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	resp, err := c.EtcdMemberList(ctx, &machine.EtcdMemberListRequest{})
	if err != nil {
		return nil, err
	}
	out := []EtcdMember{}
	seen := map[uint64]bool{}
	for _, m := range resp.GetMessages() {
		for _, mem := range m.GetMembers() {
			if seen[mem.GetId()] {
				continue
			}
			seen[mem.GetId()] = true
			out = append(out, EtcdMember{Name: mem.GetHostname(), ID: fmt.Sprintf("%x", mem.GetId()), Learner: mem.GetIsLearner()})
		}
	}
	slices.SortFunc(out, func(a, b EtcdMember) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
