// Package kubeapply applies an addon's rendered objects to a cluster through
// the Kubernetes API with server-side apply, records what it applied in an
// inventory kept in the cluster, and prunes what is no longer rendered.
//
// One [Set] is one addon. [Applier.Apply] orders the set (CRDs until
// Established, Namespaces, pre hooks, cluster-scoped objects, namespaced
// objects, post hooks), writes the inventory as the union of the previous and
// the new object list before the first object is touched, and narrows it to
// the new list only after pruning, so a failure at any point leaves an
// inventory that names every object that may exist. [Applier.Delete] removes
// an addon that was switched off. [Applier.Wait] waits for readiness.
//
// The applying itself is github.com/fluxcd/pkg/ssa: its dry-run drift check is
// what makes an unchanged object stay untouched (same resourceVersion).
// docs/kubeapply.md explains the order, the inventory and the pruning rules.
package kubeapply
