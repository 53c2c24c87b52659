// Package config is the cluster file: the declarative YAML document that describes
// one Talos Kubernetes cluster on Hetzner Cloud, and the only input besides the
// Hetzner token.
//
// It does four things:
//
//   - Schema: the Go types in types.go are the file format (apiVersion
//     hcloud-k8s.io/v1alpha1, kind Cluster). Their yaml tags are the keys, their
//     jsonschema tags the types, enums, limits and descriptions. [Schema]
//     generates the JSON Schema that `hcloud-k8s schema` prints, and
//     [SchemaPaths] the key table of docs/cluster-file.md, which a test in
//     internal/cli keeps in step with the types.
//   - Defaults: [Default] returns a file with every key at the Terraform
//     module's default (terraform-hcloud-kubernetes 5.6.0), and list elements
//     get the module's per-element defaults while they are decoded. Keys that
//     are left out keep these values.
//   - Parsing: [Load] and [Parse] decode strictly: an unknown key is an error
//     that names the nearest valid key, or, for a Terraform variable name, the
//     key it became ([TerraformVariables]).
//   - Validation: every validation of the module's variables, plus checks the
//     module leaves to Hetzner to fail on later. All problems are reported
//     together, each as a [FieldError] naming its key path
//     (workerNodepools[2].count) and what would be valid.
//
// resolve.go turns the module's nullable variables into the values the module
// derives for them (the network [Cluster.Layout], whether workloads may run on
// control planes, whether the public VIP is used), so that callers never
// re-derive them.
//
// The keys are described one by one in docs/cluster-file.md; where a key's
// value ends up in Hetzner or Talos, and how that matches the module, is in
// docs/terraform-parity.md.
package config
