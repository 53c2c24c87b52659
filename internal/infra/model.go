// Package infra plans and applies the Hetzner Cloud side of a cluster: network and
// subnets, firewall, SSH key, placement groups, servers, load balancers, floating IP,
// reverse DNS and the state marker, named and labelled exactly as
// terraform-hcloud-kubernetes does (docs/terraform-parity.md).
//
// It is split so that most of the logic is pure and tested without a cloud
// (docs/architecture.md): Desire (spec → desired resources) and Diff (desired +
// observed → plan) are pure; Observe reads the cloud with one label-selector list
// call per kind; an Executor applies a plan. What is particular to one kind of
// resource lives in that kind's file (network.go, server.go, ...), registered in
// kind.go; the rest of the package is the same for every kind.
package infra

// Kind is a kind of Hetzner resource. Each kind's constant is declared in its file.
type Kind string

// Title is the kind as people write it: "SSH key", "load balancer".
func (k Kind) Title() string { return kinds.info(k).title }

// Kinds returns every kind infra handles, in the order a plan lists them.
func Kinds() []Kind {
	out := make([]Kind, len(kinds.ordered))
	for i, k := range kinds.ordered {
		out[i] = k.about().kind
	}
	return out
}

// Ref identifies a resource within one cluster: kind and name (a subnet's name is its
// IP range, since Hetzner subnets have no names).
type Ref struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
}

func (r Ref) String() string { return string(r.Kind) + "/" + r.Name }

// Resource is one Hetzner resource, desired or observed. Exactly one of the spec
// pointers matching Kind is set.
type Resource struct {
	Kind   Kind              `json:"kind"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`

	// External resources (an existing network or firewall named by ID in the
	// cluster file) are used but never created, changed or deleted.
	External bool `json:"external,omitempty"`

	// Observed only.
	ID        int64 `json:"id,omitempty"`
	Protected bool  `json:"protected,omitempty"` // delete protection is on

	Network        *NetworkSpec        `json:"network,omitempty"`
	Subnet         *SubnetSpec         `json:"subnet,omitempty"`
	Firewall       *FirewallSpec       `json:"firewall,omitempty"`
	SSHKey         *SSHKeySpec         `json:"sshKey,omitempty"`
	PlacementGroup *PlacementGroupSpec `json:"placementGroup,omitempty"`
	Server         *ServerSpec         `json:"server,omitempty"`
	LoadBalancer   *LoadBalancerSpec   `json:"loadBalancer,omitempty"`
	FloatingIP     *FloatingIPSpec     `json:"floatingIP,omitempty"`
	Certificate    *CertificateSpec    `json:"certificate,omitempty"`
	Volume         *VolumeSpec         `json:"volume,omitempty"`
}

// Ref returns the resource's identity.
func (r *Resource) Ref() Ref { return Ref{r.Kind, r.Name} }

// String is a short description for plan output.
func (r *Resource) String() string {
	if d, ok := kinds.ops(r.Kind).(describer); ok {
		return d.describe(r)
	}
	return r.Kind.Title() + " " + r.Name
}

// Attributes are the resource's key attributes, for plan output; the names are
// part of the -o json contract.
func (r *Resource) Attributes() map[string]any {
	if a, ok := kinds.ops(r.Kind).(attributer); ok {
		return a.attributes(r)
	}
	return map[string]any{}
}
