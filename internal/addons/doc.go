// Package addons is the pure part of the addons layer:
// for every component the Terraform module installs into the cluster it
// declares the Helm chart (repository, name, version, release, namespace)
// and computes, from the parsed cluster file and a few caller-supplied
// inputs, the chart values and the plain Kubernetes objects (Secrets,
// Namespaces, the talos-backup CronJob, RBAC) the module adds next to the
// chart. The values reproduce the module's (docs/terraform-parity.md,
// "Addons"); the user's `addons.<name>.values` are deep-merged over them last.
//
// Registry lists the addons in the module's apply order, each with the
// phase it belongs to: PhaseEarly addons (the hcloud Secret, Cilium and the
// two cloud controller managers) are what nodes need to become Ready and
// initialised, so a caller installs them as soon as the API server answers
// and the rest (PhaseLate) once the nodes are Ready.
//
// Everything here is a pure function without I/O. Secrets that must be
// generated (the CSI encryption passphrase, the Cilium IPsec key) and the
// Hetzner IDs are Inputs: the caller creates them once, keeps them in the
// state directory and passes them in, so rendering twice gives the same
// objects.
//
// Fetching and rendering the charts is internal/charts, applying and
// pruning internal/kubeapply, and the order and waits internal/install.
package addons
