package config

import (
	"fmt"
	"strings"
)

// StarterOptions are the few values `hcloud-k8s init` asks for.
type StarterOptions struct {
	Name     string // cluster name
	Location string // location of every pool
}

// Starter returns a commented cluster file with 3 control planes and 2 workers. It
// sets only what a first cluster needs; every other key keeps its default, and the
// comments say where to find the rest.
func Starter(o StarterOptions) []byte {
	if o.Name == "" {
		o.Name = "demo"
	}
	if o.Location == "" {
		o.Location = "fsn1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# hcloud-k8s cluster file.
# Every key not written here keeps the default of the terraform-hcloud-kubernetes module.
# See every key, its default and allowed values: hcloud-k8s schema (JSON Schema; most
# editors complete and check the file with it), or docs/cluster-file.md.
apiVersion: %s
kind: %s

cluster:
  # Prefix of every Hetzner resource name and value of the cluster= label.
  name: %s
  # Reach the Talos and Kubernetes APIs over public IPs (or "private").
  access: public
  # Hetzner delete protection on servers, network and load balancers.
  # destroy turns it off for you after you confirm.
  deleteProtection: true

network:
  # The Hetzner private network. Node, service and pod ranges are carved from it
  # exactly as the Terraform module does.
  ipv4CIDR: 10.0.0.0/16

firewall:
  # Who may reach the Kubernetes API (6443) and the Talos API (50000).
  # Without this, hcloud-k8s allows the public IP of the machine running apply.
  # apiSource:
  #   - 203.0.113.7/32

controlPlaneNodepools:
  # An odd number of control planes (3 for high availability), at most 9 in all.
  - name: control
    type: cpx22
    location: %s
    count: 3

workerNodepools:
  - name: worker
    type: cpx32
    location: %s
    count: 2
    # labels: {tier: general}
    # taints: ["dedicated=batch:NoSchedule"]

talos:
  version: %s

kubernetes:
  version: %s

# Addons on by default: Cilium, Hetzner CCM and CSI, Talos CCM, metrics-server,
# talos-backup. Turn on more under addons, e.g.:
# addons:
#   certManager:
#     enabled: true
`, APIVersion, Kind, o.Name, o.Location, o.Location, DefaultTalosVersion, DefaultKubernetesVersion)
	return []byte(b.String())
}
