package cli

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

func newValidateCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the cluster file and show the network layout derived from it",
		Long: `Check the cluster file without contacting Hetzner: unknown keys, wrong types and
every validation of the terraform-hcloud-kubernetes module. All problems are
reported at once, each with its line and field path. A valid file prints the
subnets, addresses and node counts hcloud-k8s derives from it.`,
		Example: `  hcloud-k8s validate
  hcloud-k8s validate -f clusters/prod.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := config.Load(o.file)
			if err != nil {
				var es config.Errors
				if o.output == outputJSON && errors.As(err, &es) {
					if werr := writeJSON(cmd.OutOrStdout(), kindValidation, validationReport{File: o.file, Valid: false, Errors: jsonErrors(es)}); werr != nil {
						return werr
					}
				}
				return err
			}
			l, err := c.Layout()
			if err != nil {
				return fmt.Errorf("compute network layout: %w", err)
			}
			r := validationReport{
				File: o.file, Valid: true, Cluster: c.Cluster.Name,
				ControlPlanes: c.ControlPlaneCount(), Workers: c.WorkerCount(),
				Layout: newLayoutReport(l),
			}
			if o.output == outputJSON {
				return writeJSON(cmd.OutOrStdout(), kindValidation, r)
			}
			return r.print(cmd.OutOrStdout())
		},
	}
}

type validationReport struct {
	File          string        `json:"file"`
	Valid         bool          `json:"valid"`
	Errors        []jsonError   `json:"errors,omitempty"`
	Cluster       string        `json:"cluster,omitempty"`
	ControlPlanes int           `json:"controlPlanes"`
	Workers       int           `json:"workers"`
	Layout        *layoutReport `json:"layout,omitempty"`
}

type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func jsonErrors(es config.Errors) []jsonError {
	out := make([]jsonError, len(es))
	for i, e := range es {
		out[i] = jsonError{File: e.File, Line: e.Line, Path: e.Path, Message: e.Msg}
	}
	return out
}

// layoutReport is the derived layout as shown to users.
type layoutReport struct {
	Network               netip.Prefix   `json:"network"`
	Gateway               netip.Addr     `json:"gateway"`
	NodeCIDR              netip.Prefix   `json:"nodeCIDR"`
	ServiceCIDR           netip.Prefix   `json:"serviceCIDR"`
	PodCIDR               netip.Prefix   `json:"podCIDR"`
	NativeRoutingCIDR     netip.Prefix   `json:"nativeRoutingCIDR"`
	NodeSubnetMaskSize    int            `json:"nodeSubnetMaskSize"`
	ControlPlaneSubnet    netip.Prefix   `json:"controlPlaneSubnet"`
	LoadBalancerSubnet    netip.Prefix   `json:"loadBalancerSubnet"`
	WorkerSharedSubnet    netip.Prefix   `json:"workerSharedSubnet"`
	AutoscalerSubnet      netip.Prefix   `json:"autoscalerSharedSubnet"`
	ControlPlaneVIP       netip.Addr     `json:"controlPlaneVIP"`
	KubeAPILoadBalancerIP netip.Addr     `json:"kubeAPILoadBalancerIP"`
	IngressLoadBalancerIP netip.Addr     `json:"ingressLoadBalancerIP"`
	PinnedWorkerSubnets   []netip.Prefix `json:"pinnedWorkerSubnets"`
}

func newLayoutReport(l layout.Network) *layoutReport {
	return &layoutReport{
		Network: l.Network, Gateway: l.Gateway, NodeCIDR: l.Node, ServiceCIDR: l.Service, PodCIDR: l.Pod,
		NativeRoutingCIDR: l.NativeRouting, NodeSubnetMaskSize: l.NodeSubnetMaskSize,
		ControlPlaneSubnet: l.ControlPlane, LoadBalancerSubnet: l.LoadBalancer,
		WorkerSharedSubnet: l.WorkerShared, AutoscalerSubnet: l.AutoscalerShared,
		ControlPlaneVIP: l.ControlPlaneVIP, KubeAPILoadBalancerIP: l.KubeAPILoadBalancerIP,
		IngressLoadBalancerIP: l.IngressLoadBalancerIP, PinnedWorkerSubnets: l.PinnedWorker,
	}
}

func (r validationReport) print(w io.Writer) error {
	fmt.Fprintf(w, "%s is valid: cluster %q with %d control plane(s) and %d worker(s).\n\n", r.File, r.Cluster, r.ControlPlanes, r.Workers)
	l := r.Layout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"network", l.Network.String()},
		{"gateway", l.Gateway.String()},
		{"node CIDR", fmt.Sprintf("%s (node subnets /%d)", l.NodeCIDR, l.NodeSubnetMaskSize)},
		{"service CIDR", l.ServiceCIDR.String()},
		{"pod CIDR", l.PodCIDR.String()},
		{"native routing CIDR", l.NativeRoutingCIDR.String()},
		{"control-plane subnet", l.ControlPlaneSubnet.String()},
		{"load-balancer subnet", l.LoadBalancerSubnet.String()},
		{"worker shared subnet", l.WorkerSharedSubnet.String()},
		{"autoscaler shared subnet", l.AutoscalerSubnet.String()},
		{"control-plane private VIP", l.ControlPlaneVIP.String()},
		{"kube-API load balancer IP", l.KubeAPILoadBalancerIP.String()},
		{"ingress load balancer IP", l.IngressLoadBalancerIP.String()},
	}
	if n := len(l.PinnedWorkerSubnets); n > 0 {
		rows = append(rows, [2]string{"pinned worker subnets", fmt.Sprintf("%d: %s ... %s", n, l.PinnedWorkerSubnets[0], l.PinnedWorkerSubnets[n-1])})
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}
