// Package install puts the addons of a cluster file into the cluster: it
// renders every addon of internal/addons (fetching and rendering its chart
// with internal/charts), applies each as one set with internal/kubeapply, and
// waits until what it applied is ready.
//
// Rendering happens for all addons before anything is applied ([Prepare]),
// so a chart that cannot be fetched or a value its schema refuses stops the
// run before the cluster is touched. Applying goes by phase ([Plan.Apply]):
// the early addons (the hcloud Secret, Cilium, the cloud controller managers)
// as soon as the API server answers, because the nodes cannot become Ready
// and initialised without them; the late ones once they are. An addon that
// is switched off is deleted through its inventory in its phase.
//
// docs/addons.md describes the order, the waits and what is kept in the
// state directory.
package install
