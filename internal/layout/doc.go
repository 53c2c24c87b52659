// Package layout is the single home of the arithmetic and naming rules that
// the Terraform module hcloud-k8s/terraform-hcloud-kubernetes (5.6.0) uses to
// place a cluster on Hetzner Cloud: Terraform's cidrsubnet/cidrhost, the
// network split of network.tf (node, service, pod and native-routing ranges,
// the control-plane, load-balancer, worker, autoscaler, bare-metal and legacy
// subnets, the VIP and load-balancer private IPs), the placement-group
// sharding of placement_group.tf and server.tf, resource names, labels and
// label selectors, snapshot naming, reverse-DNS template rendering and the
// choice of the Kubernetes API host (talos.tf).
//
// Everything here is a pure function without I/O.
//
// Exactness is the point. hcloud-k8s discovers and adopts clusters that the
// module built, by name and by label, and it must reproduce the private IP of
// every subnet, VIP and load balancer bit for bit: a subnet that is off by one
// block, a label that is spelt differently or a placement group that is
// numbered differently would make hcloud-k8s plan to delete and rebuild a
// running cluster. The formulas therefore follow the module literally
// (including quirks such as the "skip" of the first node subnet and the
// legacy autoscaler subnet) rather than what might look tidier, and the
// tests pin them to worked examples. docs/terraform-parity.md lists each
// rule with the module file it comes from.
package layout
