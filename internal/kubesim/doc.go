// Package kubesim runs a real Kubernetes API server (kube-apiserver backed by
// etcd) on loopback for tests of the simulated world, optionally with the
// real kube-controller-manager and kube-scheduler, and runs the real hcloud
// cloud-controller-manager against the Hetzner simulator ([StartCCM]).
// Production code never imports it.
//
// # Building the binaries
//
// kube-apiserver, kube-controller-manager, kube-scheduler and etcd are built
// from source, through the Go module proxy, from the tools modules
// tools/kube-apiserver (k8s.io/kubernetes v1.34.4, all three Kubernetes
// binaries) and tools/etcd (go.etcd.io/etcd/server/v3 v3.7.3). Each has its
// own go.mod, so their dependencies never enter the main module. The hcloud
// CCM (v1.35.0) is built from its module, or from a checksummed source
// archive where the proxy does not serve it (docs/architecture.md). Build
// them once per machine:
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
// GOCACHE. With kube-apiserver's packages in GOCACHE, kube-controller-manager
// then takes 2m41s and kube-scheduler 16s (they share most packages); the
// CCM, whose k8s.io libraries are newer, 5m16s. The cache holds about
// 360 MB, all stripped: kube-apiserver 102 MB, kube-controller-manager
// 93 MB, kube-scheduler 73 MB, the CCM 68 MB and etcd 25 MB. With a warm cache, hack/testbin returns in about
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
// By default there is no controller manager, scheduler or kubelet: nothing
// creates pods for Deployments, nothing finalizes pod deletion, nothing
// computes PDB status. Whatever simulates nodes must do that.
//
// # Controller manager and scheduler
//
// [Options.ControllerManager] and [Options.Scheduler] start them once the
// API server is ready, each with its own client certificate
// (system:kube-controller-manager, system:kube-scheduler, which the
// bootstrap RBAC policy authorizes), leader election off, serving /healthz on
// a free 127.0.0.1 port, which Start waits for. Their logs go where the API
// server's go, and Stop stops them first. The controller manager runs with
// --cloud-provider=external, one service account per controller, the
// service-account key the API server verifies with, and the controllers in
// [DefaultControllers], including nodeipam (a /24 of [Options.ClusterCIDR]
// per node) and nodelifecycle: a node whose Ready condition is not renewed
// for --node-monitor-grace-period (50 s by default) is marked Unknown and
// tainted unreachable, as in a real cluster, so whatever simulates kubelets
// must keep the condition fresh (or pass a longer grace period in
// [Options.ControllerManagerArgs]).
//
// # Cloud controller manager
//
// [StartCCM] runs hcloud-cloud-controller-manager as a process with the
// command line of its Helm chart, the kubeconfig it is given, and an
// environment that keeps it on loopback: HCLOUD_ENDPOINT must be a loopback
// URL, the network-attached check (which asks the metadata service) is off,
// metrics listen on 127.0.0.1, Robot is off and inherited HCLOUD_*, ROBOT_*,
// proxy and in-cluster variables are dropped. It returns once the CCM's
// first Hetzner API calls succeeded; its cloud-node controller then
// initializes nodes that carry the node.cloudprovider.kubernetes.io/uninitialized
// taint.
//
// # Tests
//
// The package's own tests that need the binaries (including the controller
// manager, scheduler and CCM) fail, with the build instruction, when they
// are missing; with -short they skip instead (and run when the binaries are
// present). Stand-in binaries cover the failure paths without a build.
package kubesim
