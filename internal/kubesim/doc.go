// Package kubesim runs a real Kubernetes API server (kube-apiserver backed by
// etcd) on loopback for tests of the simulated world. Production code never
// imports it.
//
// # Building the binaries
//
// kube-apiserver and etcd are built from source, through the Go module proxy,
// from the tools modules tools/kube-apiserver (k8s.io/kubernetes v1.34.4) and
// tools/etcd (go.etcd.io/etcd/server/v3 v3.7.3). Each has its own go.mod, so
// their dependencies never enter the main module. Build them once per machine:
//
//	go run ./hack/testbin           # builds what is missing, prints the directory
//	go run ./hack/testbin -check    # only reports whether the cache is warm
//	export KUBE_TESTBIN=$(go run ./hack/testbin)   # optional, see below
//
// The binaries land in $(os.UserCacheDir)/hcloud-k8s/testbin/<tool>-<version>/
// (~/.cache/hcloud-k8s/testbin on Linux), outside the clone, so fresh CI
// checkouts on the same machine reuse them. Bumping a version in a tools
// go.mod triggers exactly one rebuild.
//
// Measured on a 2-core machine with an empty GOCACHE (modules already
// downloaded): etcd 2m26s, kube-apiserver 7m25s (budget up to 13 minutes on
// slower or busier machines), about 1.8 GB peak RSS, 2.4 GB added to
// GOCACHE. The cache holds about 122 MB: kube-apiserver 102 MB and etcd
// 25 MB, both stripped. With a warm cache, hack/testbin returns in about
// 0.2 s. CI should keep ~/.cache/hcloud-k8s/testbin between runs (for
// example keyed on tools/*/go.sum) and run `go run ./hack/testbin` before
// `go test ./...`.
//
// Binary lookup by [Start]: [Options.BinDir], else $KUBE_TESTBIN, else the
// cache entries matching the versions in tools/*/go.mod (found by walking up
// from the working directory, which for go test is the package directory).
// When a binary is missing, Start fails with [ErrBinariesMissing] and tells
// the user to run `go run ./hack/testbin`.
//
// # The server
//
// [Start] launches etcd and kube-apiserver on random free loopback ports,
// ready in 2.5–5 seconds; kube-apiserver uses about 260 MB of RSS and etcd
// about 40 MB. Stop takes under 0.1 s. The caller supplies the cluster's
// Kubernetes CA ([Options.CACert], [Options.CAKey]; with Talos these come
// from the machine secrets), so a Talos-issued admin kubeconfig (client
// certificate with O=system:masters signed by that CA) authenticates
// unmodified. The serving certificate is issued from the same CA and covers
// [Options.SANs] plus 127.0.0.1, ::1, localhost and the in-cluster names, so a
// kubeconfig pointing at the load balancer IP works once something forwards
// that address to [APIServer.URL].
//
// Authorization is Node,RBAC. Admission is reduced to NamespaceLifecycle:
// without kube-controller-manager, the ServiceAccount plugin would reject
// every pod (no "default" ServiceAccount), TaintNodesByCondition would leave
// every node tainted not-ready forever, and webhook plugins would fail
// requests for webhooks whose backends never run.
//
// There is no controller-manager, scheduler or kubelet: nothing creates
// pods for Deployments, nothing finalizes pod deletion, nothing computes PDB
// status. Whatever simulates nodes must do that.
//
// # Tests
//
// The package's own tests that need the binaries fail, with the build
// instruction, when they are missing; with -short they skip instead (and run
// when the binaries are present). Stand-in binaries cover the failure paths
// without a build.
package kubesim
