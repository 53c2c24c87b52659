// Package chartrepo is the simulated world's chart repository: the Helm
// charts of every addon hcloud-k8s installs, under exactly the names and
// versions internal/config pins, served on loopback as a classic chart
// repository (index.yaml and archives) and as an OCI registry, or written to
// a directory, so that the charts package can be pointed at it as a mirror
// (charts.Options.Mirror, HCLOUD_K8S_CHART_MIRROR) and nothing dials out.
//
// The charts are ours, written for the local world (charts/ and lib/ in this
// directory): they make the objects the world recognises with the names,
// labels and value mappings of the real charts where those matter, and
// between them use what real charts use (crds/, CRDs among the templates,
// hooks including test hooks, a library and a conditional subchart, lookup,
// .Capabilities probes, values.schema.json, kubeVersion constraints). They
// are packaged with the Helm SDK when the repository starts, into archives
// whose bytes depend only on the embedded files. docs/simulated-world-charts.md
// says what each chart holds and why.
//
// Production code never imports this package.
package chartrepo
