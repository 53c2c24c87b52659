package talos

import (
	"fmt"
	"strings"
	"testing"
)

// bigCluster is a large, realistic cluster: 9 control planes in three pools,
// several worker pools, and most options that add to the configuration.
func bigCluster(t *testing.T) string {
	t.Helper()
	b := bundle(t)
	indent := func(pem []byte) string {
		return "        " + strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", "\n        ")
	}
	var hosts strings.Builder
	for i := range 10 {
		fmt.Fprintf(&hosts, "    - {ip: 10.0.1.%d, hostnames: [host%d.internal.example.com, alias%d.internal.example.com]}\n", i+10, i, i)
	}
	return `apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster:
  name: production-cluster-eu
  access: public
  domain: k8s.internal.example.com
controlPlane:
  publicVIPIPv4Enabled: true
  privateVIPIPv4Enabled: true
controlPlaneNodepools:
  - {name: control-fsn, type: cpx32, location: fsn1, count: 3, labels: {zone: fsn, tier: control}, annotations: {owner: platform-team}, taints: ["dedicated=control:NoSchedule"]}
  - {name: control-nbg, type: cpx32, location: nbg1, count: 3, labels: {zone: nbg, tier: control}, annotations: {owner: platform-team}}
  - {name: control-hel, type: cpx32, location: hel1, count: 3, labels: {zone: hel, tier: control}, annotations: {owner: platform-team}}
workerNodepools:
  - {name: general, type: cpx42, location: fsn1, count: 10, labels: {tier: general, team: apps}, annotations: {cost-center: "4242"}, taints: ["workload=general:PreferNoSchedule", "spot=true:NoExecute"]}
  - {name: gpu, type: ccx33, location: nbg1, count: 2, labels: {tier: gpu}, taints: ["nvidia.com/gpu=true:NoSchedule"]}
kubeAPI:
  hostname: kube.production.example.com
  loadBalancer: {enabled: true}
  extraArgs: {audit-log-maxage: "30", audit-log-maxbackup: "10", service-node-port-range: "30000-32767"}
  admissionControl:
    - name: EventRateLimit
      configuration:
        apiVersion: eventratelimit.admission.k8s.io/v1alpha1
        kind: Configuration
        limits: [{type: Server, qps: 50, burst: 100}]
talos:
  version: v1.13.9
  criDiscardUnpackedLayers: false
  extraKernelArgs: [net.ifnames=0, mitigations=auto, "console=ttyS0"]
  imageExtensions: [siderolabs/tailscale, siderolabs/iscsi-tools]
  kernelModules: [{name: nvme_tcp}, {name: drbd, parameters: [usermode_helper=disabled]}, {name: dm_thin_pool}]
  sysctlsExtraArgs: {vm.max_map_count: "262144", fs.inotify.max_user_instances: "8192", fs.inotify.max_user_watches: "1048576"}
  extraRoutes: [0.0.0.0/0, 192.168.0.0/16, 172.16.0.0/12]
  kubeletExtraMounts: [{source: /var/mnt/data}, {source: /var/mnt/cache, destination: /cache}]
  loggingDestinations:
    - {endpoint: "udp://10.0.1.7:5140", extraTags: {cluster: production}}
    - {endpoint: "tcp://10.0.1.8:5170", format: json_lines}
  registries:
    mirrors:
      docker.io: {endpoints: [https://mirror.example.com/v2/docker.io]}
      ghcr.io: {endpoints: [https://mirror.example.com/v2/ghcr.io]}
      registry.k8s.io: {endpoints: [https://mirror.example.com/v2/registry.k8s.io]}
  staticHosts:
` + hosts.String() + `  certificates:
    corp-root:
      - |
` + indent(b.Certs.K8s.Crt) + `
      - |
` + indent(b.Certs.OS.Crt) + `
  extraRemoteManifests:
    - https://raw.githubusercontent.com/example/manifests/main/crds.yaml
  configPatches:
    controlPlane:
      - cluster: {apiServer: {extraArgs: {feature-gates: "StructuredAuthenticationConfiguration=true"}}}
    worker:
      - machine: {kubelet: {extraArgs: {max-pods: "250"}}}
kubernetes:
  version: v1.34.10
  kubeletExtraArgs: {image-gc-high-threshold: "85", image-gc-low-threshold: "80"}
  kubeletExtraConfig: {maxParallelImagePulls: 4, serializeImagePulls: false}
  images:
    apiServer: registry.example.com/kube-apiserver
    controllerManager: registry.example.com/kube-controller-manager
    scheduler: registry.example.com/kube-scheduler
    proxy: registry.example.com/kube-proxy
    kubelet: registry.example.com/kubelet
    etcd: registry.example.com/etcd:v3.6.5-0
addons:
  longhorn: {enabled: true}
  oidc: {enabled: true, issuerURL: "https://login.example.com/realms/production", clientID: kubernetes-production}
`
}

// TestUserDataBound: the configurations of a 9-control-plane cluster with
// many options on fit Hetzner's 32 KiB user_data limit and validate. (Once
// addon inline manifests are embedded, control-plane configs will not fit:
// Cilium alone is far larger; they must then be applied over the Talos API.)
func TestUserDataBound(t *testing.T) {
	c := parseCluster(t, bigCluster(t), "")
	in := cloud(t, c)
	if len(in.ControlPlanes) != 9 {
		t.Fatalf("%d control planes, want 9", len(in.ControlPlanes))
	}
	nodes := []NodeInputs{
		{ClusterInputs: in, Role: RoleControlPlane, Pool: "control-fsn", ServerName: "production-cluster-eu-control-fsn-1", ServerID: 99999991},
		{ClusterInputs: in, Role: RoleControlPlane, Pool: "control-hel", ServerName: "production-cluster-eu-control-hel-3", ServerID: 99999999},
		{ClusterInputs: in, Role: RoleWorker, Pool: "general", ServerName: "production-cluster-eu-general-10", ServerID: 99999910},
		{ClusterInputs: in, Role: RoleWorker, Pool: "gpu", ServerName: "production-cluster-eu-gpu-2", ServerID: 99999912},
	}
	for _, n := range nodes {
		data, err := Generate(c, n)
		if err != nil {
			t.Fatalf("%s: %v", n.ServerName, err)
		}
		t.Logf("%s (%s): %d bytes", n.ServerName, n.Role, len(data))
		if err := CheckUserDataSize(data); err != nil {
			t.Errorf("%s: %v", n.ServerName, err)
		}
		if w, err := Validate(data); err != nil || len(w) > 0 {
			t.Errorf("%s: err %v, warnings %v", n.ServerName, err, w)
		}
		d := decode(t, data)
		if got := d.count("StaticHostConfig"); got != 11 {
			t.Errorf("%s: %d StaticHostConfig documents, want 11 (hostname + 10)", n.ServerName, got)
		}
		if got := d.count("TrustedRootsConfig"); got != 1 {
			t.Errorf("%s: %d TrustedRootsConfig documents, want 1", n.ServerName, got)
		}
		if n.Role == RoleControlPlane {
			if got := d.count("HCloudVIPConfig"); got != 2 {
				t.Errorf("%s: %d HCloudVIPConfig documents, want 2", n.ServerName, got)
			}
			sans := mustGet(t, d.v1alpha1(t), "cluster.apiServer.certSANs").([]any)
			// 2 VIPs + LB private/public v4/v6 + 9 × 3 node IPs + hostname + 3 loopback names.
			if len(sans) != 2+3+27+1+3 {
				t.Errorf("%s: %d certSANs, want %d", n.ServerName, len(sans), 2+3+27+1+3)
			}
		}
	}
	if err := CheckUserDataSize(make([]byte, UserDataLimit+1)); err == nil {
		t.Error("CheckUserDataSize accepted 32 KiB + 1")
	}
}
