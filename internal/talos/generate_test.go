package talos

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
)

// expectation is a value the configuration must have at a path of a
// document: "" selects the v1alpha1 document, "Kind" or "Kind/name" another
// one. absent means the path must not be set.
type expectation struct {
	doc, path string
	want      any
	absent    bool
}

func checkAll(t *testing.T, d docs, exps []expectation) {
	t.Helper()
	for _, e := range exps {
		var m map[string]any
		if e.doc == "" {
			m = d.v1alpha1(t)
		} else {
			kind, name, _ := strings.Cut(e.doc, "/")
			var ok bool
			if m, ok = d.find(kind, name); !ok {
				if e.absent && e.path == "" {
					continue
				}
				t.Errorf("document %s: missing", e.doc)
				continue
			}
			if e.absent && e.path == "" {
				t.Errorf("document %s: present, want absent", e.doc)
				continue
			}
		}
		got, ok := get(m, e.path)
		switch {
		case e.absent && ok:
			t.Errorf("%s %s = %#v, want unset", e.doc, e.path, got)
		case e.absent:
		case !ok:
			t.Errorf("%s %s: not set, want %#v", e.doc, e.path, e.want)
		case !equal(got, e.want):
			t.Errorf("%s %s = %#v, want %#v", e.doc, e.path, got, e.want)
		}
	}
}

// starterSANs is the certificate SAN list of the starter cluster with the
// fake cloud's addresses: sorted (as strings) and distinct.
var starterSANs = []string{
	"10.0.64.1", "10.0.64.126", "10.0.64.2", "10.0.64.3", "127.0.0.1",
	"2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1",
	"203.0.113.1", "203.0.113.2", "203.0.113.3", "::1", "localhost",
}

func encryptionExpectations() []expectation {
	var out []expectation
	for _, vol := range []string{"STATE", "EPHEMERAL"} {
		d := "VolumeConfig/" + vol
		out = append(out,
			expectation{doc: d, path: "encryption.provider", want: "luks2"},
			expectation{doc: d, path: "encryption.options", want: []string{"no_read_workqueue", "no_write_workqueue"}},
			expectation{doc: d, path: "encryption.keys", want: []any{map[string]any{"slot": 0, "nodeID": map[string]any{}}}},
		)
	}
	return out
}

// commonExpectations hold for every node of the starter cluster.
func commonExpectations(c *config.Cluster) []expectation {
	installer := "factory.talos.dev/hcloud-installer/" + image.SchematicID(c) + ":v1.13.9"
	return append([]expectation{
		{path: "cluster.clusterName", want: "demo"},
		{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.126:6443"},
		{path: "cluster.network.podSubnets", want: []string{"10.0.128.0/17"}},
		{path: "cluster.network.serviceSubnets", want: []string{"10.0.96.0/19"}},
		{path: "cluster.network.dnsDomain", want: "cluster.local"},
		{path: "cluster.network.cni.name", want: "none"},
		{path: "cluster.proxy.disabled", want: true},
		{path: "cluster.discovery.enabled", want: true},
		{path: "cluster.discovery.registries.kubernetes.disabled", want: true},
		{path: "cluster.discovery.registries.service.disabled", want: false},
		{path: "machine.certSANs", want: starterSANs},
		{path: "machine.kubelet.image", want: "ghcr.io/siderolabs/kubelet:v1.34.10"},
		{path: "machine.kubelet.nodeIP.validSubnets", want: []string{"10.0.64.0/19"}},
		{path: "machine.kubelet.extraArgs", want: map[string]string{"cloud-provider": "external", "rotate-server-certificates": "true"}},
		{path: "machine.kubelet.extraConfig.shutdownGracePeriod", want: "90s"},
		{path: "machine.kubelet.extraConfig.shutdownGracePeriodCriticalPods", want: "15s"},
		{path: "machine.sysctls", want: map[string]string{
			"net.core.somaxconn": "65535", "net.core.netdev_max_backlog": "4096",
			"net.ipv6.conf.default.disable_ipv6": "0", "net.ipv6.conf.all.disable_ipv6": "0",
		}},
		{path: "machine.features.hostDNS", want: map[string]any{"enabled": true, "forwardKubeDNSToHost": false, "resolveMemberNames": true}},
		{path: "machine.install.disk", want: "/dev/sda"},
		{path: "machine.install.image", want: installer},
		{path: "machine.nodeLabels[nodepool]", want: ""}, // overwritten per role below
		{doc: "ResolverConfig", path: "nameservers", want: []any{
			map[string]any{"address": "185.12.64.1"}, map[string]any{"address": "185.12.64.2"},
			map[string]any{"address": "2a01:4ff:ff00::add:1"}, map[string]any{"address": "2a01:4ff:ff00::add:2"},
		}},
		{doc: "TimeSyncConfig", path: "ntp.servers", want: []string{"ntp1.hetzner.de", "ntp2.hetzner.com", "ntp3.hetzner.net"}},
		{doc: "LinkConfig/eth0", path: "up", want: true},
		{doc: "DHCPv4Config/eth0", path: "name", want: "eth0"},
		{doc: "LinkConfig/eth1", path: "up", want: true},
		{doc: "LinkConfig/eth1", path: "mtu", want: 1450},
		{doc: "DHCPv4Config/eth1", path: "name", want: "eth1"},
		{doc: "StaticHostConfig", absent: true},
		{doc: "TrustedRootsConfig", absent: true},
		{path: "machine.files", absent: true},
	}, encryptionExpectations()...)
}

func withPool(exps []expectation, pool string) []expectation {
	out := slices.Clone(exps)
	for i := range out {
		if out[i].path == "machine.nodeLabels[nodepool]" {
			out[i].want = pool
		}
	}
	return out
}

func TestStarterControlPlane(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	d, _ := generateOK(t, c, cpNode(t, c, in))
	exps := append(withPool(commonExpectations(c), "control"),
		expectation{path: "machine.type", want: "controlplane"},
		expectation{path: "machine.nodeLabels[nodeid]", want: "4711"},
		// Two workers: no scheduling on control planes, so Talos's
		// exclude-from-external-LB label stays and the NoSchedule taint is set.
		expectation{path: "machine.nodeLabels[node.kubernetes.io/exclude-from-external-load-balancers]", want: ""},
		expectation{path: "machine.nodeTaints", want: map[string]string{"node-role.kubernetes.io/control-plane": ":NoSchedule"}},
		expectation{path: "machine.kubelet.extraConfig.registerWithTaints", want: []any{
			map[string]any{"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"},
		}},
		expectation{path: "machine.kubelet.extraConfig.systemReserved", want: map[string]string{"cpu": "250m", "memory": "300Mi", "ephemeral-storage": "1Gi"}},
		expectation{path: "machine.kubelet.extraConfig.kubeReserved", want: map[string]string{"cpu": "250m", "memory": "350Mi", "ephemeral-storage": "1Gi"}},
		expectation{path: "machine.features.kubernetesTalosAPIAccess", want: map[string]any{
			"enabled": true, "allowedRoles": []string{"os:reader", "os:etcd:backup"}, "allowedKubernetesNamespaces": []string{"kube-system"},
		}},
		expectation{path: "cluster.allowSchedulingOnControlPlanes", want: false},
		expectation{path: "cluster.coreDNS.disabled", want: false},
		expectation{path: "cluster.apiServer.certSANs", want: starterSANs},
		expectation{path: "cluster.apiServer.extraArgs", want: map[string]string{"enable-aggregator-routing": "true"}},
		expectation{path: "cluster.apiServer.image", want: "registry.k8s.io/kube-apiserver:v1.34.10"},
		expectation{path: "cluster.controllerManager.extraArgs", want: map[string]string{"cloud-provider": "external", "bind-address": "0.0.0.0"}},
		expectation{path: "cluster.scheduler.extraArgs", want: map[string]string{"bind-address": "0.0.0.0"}},
		expectation{path: "cluster.etcd.advertisedSubnets", want: []string{"10.0.64.0/25"}},
		expectation{path: "cluster.etcd.extraArgs", want: map[string]string{"listen-metrics-urls": "http://0.0.0.0:2381"}},
		expectation{path: "cluster.adminKubeconfig.certLifetime", want: "87600h0m0s"},
		expectation{path: "cluster.externalCloudProvider.enabled", want: true},
		// The CRD bundles are addons now, applied by hcloud-k8s.
		expectation{path: "cluster.externalCloudProvider.manifests", absent: true},
		expectation{path: "cluster.inlineManifests", absent: true},
		expectation{doc: "HostnameConfig", path: "hostname", want: "demo-control-1"},
		expectation{doc: "HostnameConfig", path: "auto", want: "off"},
		expectation{doc: "HCloudVIPConfig/10.0.64.126", path: "link", want: "eth1"},
		expectation{doc: "HCloudVIPConfig/10.0.64.126", path: "apiToken", want: testToken},
	)
	checkAll(t, d, exps)
	if n := d.count("HCloudVIPConfig"); n != 1 {
		t.Errorf("%d HCloudVIPConfig documents, want 1 (private VIP only)", n)
	}
	// The bundle's CAs with keys are in control-plane configs.
	v := d.v1alpha1(t)
	if k, _ := get(v, "machine.ca.key"); k == "" || k == nil {
		t.Error("control plane lacks the OS CA key")
	}
	if k, _ := get(v, "cluster.etcd.ca.key"); k == "" || k == nil {
		t.Error("control plane lacks the etcd CA key")
	}
}

func TestStarterWorker(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	d, _ := generateOK(t, c, workerNode(t, c, in))
	exps := append(withPool(commonExpectations(c), "worker"),
		expectation{path: "machine.type", want: "worker"},
		expectation{path: "machine.nodeLabels", want: map[string]string{"nodepool": "worker", "nodeid": "4712"}},
		expectation{path: "machine.nodeTaints", absent: true},
		expectation{path: "machine.kubelet.extraConfig.registerWithTaints", want: []any{}},
		expectation{path: "machine.kubelet.extraConfig.systemReserved", want: map[string]string{"cpu": "100m", "memory": "300Mi", "ephemeral-storage": "1Gi"}},
		expectation{path: "machine.kubelet.extraConfig.kubeReserved", want: map[string]string{"cpu": "100m", "memory": "350Mi", "ephemeral-storage": "1Gi"}},
		expectation{path: "machine.features.kubernetesTalosAPIAccess", absent: true},
		expectation{path: "cluster.apiServer", absent: true},
		expectation{path: "cluster.etcd", absent: true},
		expectation{path: "cluster.externalCloudProvider", absent: true},
		expectation{doc: "HostnameConfig", path: "hostname", want: "demo-worker-1"},
		expectation{doc: "HCloudVIPConfig", absent: true},
	)
	checkAll(t, d, exps)
	// Workers never receive CA keys.
	v := d.v1alpha1(t)
	if k, _ := get(v, "machine.ca.key"); k != "" && k != nil {
		t.Error("worker config holds the OS CA key")
	}
}

func TestAutoscalerPool(t *testing.T) {
	c := parseCluster(t, string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"})), `
autoscalerNodepools:
  - name: burst
    type: cpx42
    location: fsn1
    min: 0
    max: 5
    labels: {tier: burst}
    taints: ["burst=true:NoSchedule"]
`+"addons: {clusterAutoscaler: {enabled: true}}\n")
	in := cloud(t, c)
	d, _ := generateOK(t, c, NodeInputs{ClusterInputs: in, Role: RoleAutoscaler, Pool: "burst"})
	checkAll(t, d, []expectation{
		{path: "machine.type", want: "worker"},
		{path: "machine.nodeLabels", want: map[string]string{"nodepool": "burst", "tier": "burst"}},
		{path: "machine.kubelet.extraConfig.registerWithTaints", want: []any{
			map[string]any{"key": "burst", "value": "true", "effect": "NoSchedule"},
		}},
		{path: "machine.nodeTaints", absent: true},
		// No static hostname: the generated HostnameConfig (stable) stays and
		// the node takes Hetzner's server name.
		{doc: "HostnameConfig", path: "hostname", absent: true},
	})
}

func TestSchedulingOnControlPlanes(t *testing.T) {
	// No workers: scheduling on control planes is allowed by default.
	c := parseCluster(t, `apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster: {name: demo}
controlPlaneNodepools:
  - {name: control, type: cpx22, location: fsn1, count: 1, taints: ["dedicated=etcd:PreferNoSchedule"], annotations: {team: infra}}
`, "")
	in := cloud(t, c)
	d, _ := generateOK(t, c, cpNode(t, c, in))
	checkAll(t, d, []expectation{
		{path: "cluster.allowSchedulingOnControlPlanes", want: true},
		{path: "machine.nodeLabels", want: map[string]string{"nodepool": "control", "nodeid": "4711"}},
		{path: "machine.nodeAnnotations", want: map[string]string{"team": "infra"}},
		{path: "machine.nodeTaints", want: map[string]string{"dedicated": "etcd:PreferNoSchedule"}},
		{path: "machine.kubelet.extraConfig.registerWithTaints", want: []any{
			map[string]any{"key": "dedicated", "value": "etcd", "effect": "PreferNoSchedule"},
		}},
		// One control plane: the private VIP is still the endpoint.
		{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.126:6443"},
	})
}

func TestUserPatchesAppliedLast(t *testing.T) {
	c := parseCluster(t, string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"})), `
talos:
  version: v1.13.9
  configPatches:
    controlPlane:
      - machine:
          kubelet:
            extraArgs: {rotate-server-certificates: "false"}
        cluster:
          proxy: {disabled: false}
          etcd:
            extraArgs: {listen-metrics-urls: "http://127.0.0.1:2381"}
      - apiVersion: v1alpha1
        kind: HostnameConfig
        hostname: custom-cp
        auto: "off"
    worker:
      - machine:
          nodeLabels: {nodepool: renamed, extra: "yes"}
      - apiVersion: v1alpha1
        kind: TimeSyncConfig
        ntp: {servers: [time.example.com]}
`)
	in := cloud(t, c)
	cp, _ := generateOK(t, c, cpNode(t, c, in))
	checkAll(t, cp, []expectation{
		{path: "machine.kubelet.extraArgs[rotate-server-certificates]", want: "false"},
		{path: "machine.kubelet.extraArgs[cloud-provider]", want: "external"},
		{path: "cluster.proxy.disabled", want: false},
		{path: "cluster.etcd.extraArgs[listen-metrics-urls]", want: "http://127.0.0.1:2381"},
		{doc: "HostnameConfig", path: "hostname", want: "custom-cp"},
	})
	w, _ := generateOK(t, c, workerNode(t, c, in))
	checkAll(t, w, []expectation{
		{path: "machine.nodeLabels", want: map[string]string{"nodepool": "renamed", "nodeid": "4712", "extra": "yes"}},
		// Lists in strategic merges append: the module's NTP servers stay first.
		{doc: "TimeSyncConfig", path: "ntp.servers", want: []string{"ntp1.hetzner.de", "ntp2.hetzner.com", "ntp3.hetzner.net", "time.example.com"}},
		{doc: "HostnameConfig", path: "hostname", want: "demo-worker-1"},
	})
	// Control-plane patches do not reach workers.
	checkAll(t, w, []expectation{{path: "cluster.proxy.disabled", want: true}})

	// The user's patches are the last ones.
	ps, err := Patches(c, workerNode(t, c, in))
	if err != nil {
		t.Fatal(err)
	}
	if last := ps[len(ps)-1]; !bytes.Contains(last, []byte("time.example.com")) {
		t.Errorf("last patch is not the user's:\n%s", last)
	}
}

func TestVariants(t *testing.T) {
	base := string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"}))
	tests := []struct {
		name   string
		extra  string
		cp, wk []expectation
	}{
		{
			name: "private access",
			extra: `talos:
  version: v1.13.9
  extraRoutes: [0.0.0.0/0, 192.168.0.0/24]
`,
			cp: []expectation{
				{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.126:6443"},
				{doc: "LinkConfig/eth1", path: "routes", want: []any{
					map[string]any{"gateway": "10.0.0.1", "metric": 512},
					map[string]any{"destination": "192.168.0.0/24", "gateway": "10.0.0.1", "metric": 512},
				}},
			},
		},
		{
			name: "IPv6 off",
			extra: `talos:
  version: v1.13.9
  ipv6Enabled: false
`,
			cp: []expectation{
				{path: "machine.sysctls[net.ipv6.conf.all.disable_ipv6]", want: "1"},
				{path: "machine.sysctls[net.ipv6.conf.default.disable_ipv6]", want: "1"},
				{doc: "ResolverConfig", path: "nameservers", want: []any{
					map[string]any{"address": "185.12.64.1"}, map[string]any{"address": "185.12.64.2"},
				}},
				{path: "machine.certSANs", want: []string{"10.0.64.1", "10.0.64.126", "10.0.64.2", "10.0.64.3", "127.0.0.1", "203.0.113.1", "203.0.113.2", "203.0.113.3", "::1", "localhost"}},
			},
		},
		{
			name: "no public IPs",
			extra: `talos:
  version: v1.13.9
  publicIPv4Enabled: false
  publicIPv6Enabled: false
`,
			cp: []expectation{
				{doc: "LinkConfig/eth0", path: "mtu", want: 1450},
				{doc: "DHCPv4Config/eth0", path: "name", want: "eth0"},
				{doc: "LinkConfig/eth1", absent: true},
				{doc: "HCloudVIPConfig/10.0.64.126", path: "link", want: "eth0"},
				{path: "machine.certSANs", want: []string{"10.0.64.1", "10.0.64.126", "10.0.64.2", "10.0.64.3", "127.0.0.1", "::1", "localhost"}},
			},
		},
		{
			name: "IPv6-only public network",
			extra: `talos:
  version: v1.13.9
  publicIPv4Enabled: false
`,
			cp: []expectation{
				{doc: "LinkConfig/eth0", path: "up", want: true},
				{doc: "DHCPv4Config/eth0", absent: true},
				{doc: "LinkConfig/eth1", path: "mtu", want: 1450},
			},
		},
		{
			name: "kube-API load balancer and public VIP",
			extra: `kubeAPI:
  hostname: kube.example.com
  loadBalancer: {enabled: true}
controlPlane:
  publicVIPIPv4Enabled: true
  privateVIPIPv4Enabled: true
`,
			cp: []expectation{
				{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.254:6443"},
				{path: "machine.certSANs", want: []string{
					"10.0.64.1", "10.0.64.126", "10.0.64.2", "10.0.64.254", "10.0.64.3", "127.0.0.1",
					"198.51.100.10", "198.51.100.20",
					"2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1", "2001:db8:ffff::1",
					"203.0.113.1", "203.0.113.2", "203.0.113.3", "::1", "kube.example.com", "localhost",
				}},
				{doc: "HCloudVIPConfig/198.51.100.20", path: "link", want: "eth0"},
				{doc: "HCloudVIPConfig/10.0.64.126", path: "link", want: "eth1"},
				{doc: "StaticHostConfig/10.0.64.254", path: "hostnames", want: []string{"kube.example.com"}},
			},
			wk: []expectation{
				{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.254:6443"},
				{doc: "StaticHostConfig/10.0.64.254", path: "hostnames", want: []string{"kube.example.com"}},
				{doc: "HCloudVIPConfig", absent: true},
			},
		},
		{
			name: "no private VIP: primary control plane is the endpoint",
			extra: `controlPlane:
  privateVIPIPv4Enabled: false
`,
			cp: []expectation{
				{path: "cluster.controlPlane.endpoint", want: "https://10.0.64.1:6443"},
				{doc: "HCloudVIPConfig", absent: true},
				// The module always lists the private VIP address as a SAN.
				{path: "machine.certSANs[1]", want: "10.0.64.126"},
			},
		},
		{
			name: "options",
			extra: `talos:
  version: v1.13.9
  criDiscardUnpackedLayers: false
  statePartitionEncryption: false
  coreDNSEnabled: false
  discovery: {kubernetesEnabled: true, serviceEnabled: false}
  sysctlsExtraArgs: {vm.max_map_count: "262144"}
  kernelModules: [{name: nvme_tcp}, {name: drbd, parameters: [usermode_helper=disabled]}]
  kubeletExtraMounts: [{source: /var/mnt/data}]
  staticHosts:
    - {ip: 10.0.1.5, hostnames: [b.example.com, a.example.com]}
    - {ip: 10.0.1.5, hostnames: [a.example.com, c.example.com]}
    - {ip: 10.0.1.6, hostnames: [d.example.com]}
  loggingDestinations: [{endpoint: "udp://10.0.1.7:5140"}]
kubernetes:
  version: v1.34.10
  kubeletExtraArgs: {max-pods: "200"}
  kubeletExtraConfig: {maxParallelImagePulls: 4}
  images:
    apiServer: registry.example.com/kube-apiserver
    kubelet: registry.example.com/kubelet
    proxy: registry.example.com/kube-proxy
    etcd: registry.example.com/etcd:v3.6.5
addons:
  cilium: {kubeProxyReplacementEnabled: false}
  longhorn: {enabled: true}
  oidc: {enabled: true, issuerURL: "https://id.example.com", clientID: k8s}
kubeAPI:
  extraArgs: {audit-log-maxage: "30"}
`,
			cp: []expectation{
				{path: "machine.files", want: []any{map[string]any{
					"path": "/etc/cri/conf.d/20-customization.part", "op": "create", "permissions": 0,
					"content": "[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = false\n",
				}}},
				{doc: "VolumeConfig/STATE", absent: true},
				{doc: "VolumeConfig/EPHEMERAL", path: "encryption.provider", want: "luks2"},
				{path: "cluster.coreDNS.disabled", want: true},
				{path: "cluster.discovery.registries.kubernetes.disabled", want: false},
				{path: "cluster.discovery.registries.service.disabled", want: true},
				{path: "machine.sysctls[vm.max_map_count]", want: "262144"},
				{path: "machine.kernel.modules", want: []any{
					map[string]any{"name": "nvme_tcp"},
					map[string]any{"name": "drbd", "parameters": []string{"usermode_helper=disabled"}},
				}},
				{path: "machine.kubelet.extraMounts", want: []any{
					map[string]any{"source": "/var/lib/longhorn", "destination": "/var/lib/longhorn", "type": "bind", "options": []string{"bind", "rshared", "rw"}},
					map[string]any{"source": "/var/mnt/data", "destination": "/var/mnt/data", "type": "bind", "options": []string{"bind", "rshared", "rw"}},
				}},
				{doc: "StaticHostConfig/10.0.1.5", path: "hostnames", want: []string{"a.example.com", "b.example.com", "c.example.com"}},
				{doc: "StaticHostConfig/10.0.1.6", path: "hostnames", want: []string{"d.example.com"}},
				{path: "machine.logging.destinations", want: []any{map[string]any{"endpoint": "udp://10.0.1.7:5140", "format": "json_lines"}}},
				{path: "machine.kubelet.extraArgs[max-pods]", want: "200"},
				{path: "machine.kubelet.extraConfig.maxParallelImagePulls", want: 4},
				{path: "machine.kubelet.image", want: "registry.example.com/kubelet:v1.34.10"},
				{path: "cluster.apiServer.image", want: "registry.example.com/kube-apiserver:v1.34.10"},
				{path: "cluster.controllerManager.image", want: "registry.k8s.io/kube-controller-manager:v1.34.10"},
				{path: "cluster.proxy.image", want: "registry.example.com/kube-proxy:v1.34.10"},
				{path: "cluster.proxy.disabled", want: false},
				{path: "cluster.etcd.image", want: "registry.example.com/etcd:v3.6.5"},
				{path: "cluster.apiServer.extraArgs", want: map[string]string{
					"enable-aggregator-routing": "true", "audit-log-maxage": "30",
					"oidc-issuer-url": "https://id.example.com", "oidc-client-id": "k8s",
					"oidc-username-claim": "sub", "oidc-groups-claim": "groups", "oidc-groups-prefix": "oidc:",
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := tt.extra
			if tt.name == "private access" {
				base := strings.Replace(base, "access: public", "access: private", 1)
				c := parseCluster(t, base, extra)
				runVariant(t, c, tt.cp, tt.wk)
				return
			}
			c := parseCluster(t, base, extra)
			runVariant(t, c, tt.cp, tt.wk)
		})
	}
}

func runVariant(t *testing.T, c *config.Cluster, cp, wk []expectation) {
	t.Helper()
	in := cloud(t, c)
	for _, n := range []NodeInputs{cpNode(t, c, in), workerNode(t, c, in)} {
		data, err := Generate(c, n)
		if err != nil {
			t.Fatalf("%s: %v", n.Role, err)
		}
		warnings, err := Validate(data)
		if err != nil {
			t.Fatalf("%s: %v", n.Role, err)
		}
		if len(warnings) > 0 {
			t.Errorf("%s: validation warnings: %v", n.Role, warnings)
		}
		d := decode(t, data)
		if n.Role == RoleControlPlane {
			checkAll(t, d, cp)
		} else {
			checkAll(t, d, wk)
		}
	}
}

func TestValidateCloudModeBothRoles(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	for _, n := range []NodeInputs{cpNode(t, c, in), workerNode(t, c, in)} {
		data, err := Generate(c, n)
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := Validate(data)
		if err != nil || len(warnings) > 0 {
			t.Errorf("%s: err %v, warnings %v", n.Role, err, warnings)
		}
	}
	// Validate really rejects what Talos would reject in cloud mode.
	bad := []byte("version: v1alpha1\nmachine:\n  type: worker\n  install: {disk: /dev/sda}\ncluster:\n  controlPlane: {endpoint: https://10.0.0.1:6443}\n")
	if _, err := Validate(bad); err == nil {
		t.Error("Validate accepted a config without token, CA and install image")
	}
}

func TestDeterministic(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	_, first := generateOK(t, c, cpNode(t, c, in))
	for range 3 {
		_, again := generateOK(t, c, cpNode(t, c, in))
		if !bytes.Equal(first, again) {
			t.Fatal("Generate is not deterministic for the same inputs")
		}
	}
	// The order of the control planes in the input does not matter.
	rev := in
	rev.ControlPlanes = slices.Clone(in.ControlPlanes)
	slices.Reverse(rev.ControlPlanes)
	_, reversed := generateOK(t, c, cpNode(t, c, rev))
	if !bytes.Equal(first, reversed) {
		t.Error("control-plane order changes the configuration")
	}
}

func TestInlineManifests(t *testing.T) {
	c := parseCluster(t, string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"})), `
talos:
  version: v1.13.9
  extraInlineManifests:
    - name: extra
      contents: |
        apiVersion: v1
        kind: Namespace
        metadata: {name: extra}
`)
	in := cloud(t, c)
	d, _ := generateOK(t, c, cpNode(t, c, in))
	checkAll(t, d, []expectation{{path: "cluster.inlineManifests", want: []any{map[string]any{
		"name": "extra", "contents": "apiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n",
	}}}})
	// A caller-rendered list replaces the default (addons are rendered elsewhere).
	in.InlineManifests = []config.InlineManifest{{Name: "hcloud-secret", Contents: "---\n"}, {Name: "extra", Contents: "x: 1\n"}}
	d, _ = generateOK(t, c, cpNode(t, c, in))
	got := mustGet(t, d.v1alpha1(t), "cluster.inlineManifests").([]any)
	if len(got) != 2 || mustGet(t, got[0], "name") != "hcloud-secret" {
		t.Errorf("inlineManifests = %v", got)
	}
	// Workers never get manifests.
	w, _ := generateOK(t, c, workerNode(t, c, in))
	checkAll(t, w, []expectation{{path: "cluster.inlineManifests", absent: true}})
}

func TestInputErrors(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	ok := cpNode(t, c, in)
	tests := []struct {
		name string
		mod  func(*NodeInputs)
		want string
	}{
		{"no secrets", func(n *NodeInputs) { n.Secrets = nil }, "no secrets bundle"},
		{"no server ID", func(n *NodeInputs) { n.ServerID = 0 }, "server ID"},
		{"no server name", func(n *NodeInputs) { n.ServerName = "" }, "server name"},
		{"unknown pool", func(n *NodeInputs) { n.Pool = "nope" }, `no control-plane pool named "nope"`},
		{"unknown role", func(n *NodeInputs) { n.Role = "master" }, "unknown node role"},
		{"no control planes", func(n *NodeInputs) { n.ControlPlanes = nil }, "no control-plane servers"},
		{"control plane without IP", func(n *NodeInputs) {
			n.ControlPlanes = []ControlPlaneNode{{Name: "demo-control-1"}}
		}, "has no private IPv4"},
		{"no token for VIP", func(n *NodeInputs) { n.HCloudToken = "" }, "API token"},
		{"autoscaler with server", func(n *NodeInputs) { n.Role = RoleAutoscaler }, "per pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := ok
			tt.mod(&n)
			_, err := Generate(c, n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("error leaks the hcloud token")
			}
		})
	}
}

func TestVersionContract(t *testing.T) {
	for v, ok := range map[string]bool{"v1.13.9": true, "v1.12.5": true, "v1.13.0-beta.1": true, "v1.14.0": false, "v2.0.0": false, "latest": false} {
		_, err := VersionContract(v)
		if (err == nil) != ok {
			t.Errorf("VersionContract(%q) err = %v, want ok=%v", v, err, ok)
		}
	}
	c := starter(t)
	c.Talos.Version = "v1.14.1"
	if _, err := Generate(c, cpNode(t, c, cloud(t, c))); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Generate with Talos v1.14 = %v, want a version error", err)
	}
}

func TestUserData(t *testing.T) {
	base := string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"}))
	if ud, err := UserData(starter(t)); err != nil || ud != nil {
		t.Errorf("public access user_data = %q, %v; want none", ud, err)
	}
	c := parseCluster(t, strings.Replace(base, "access: public", "access: private", 1), "talos: {version: v1.13.9, extraRoutes: [0.0.0.0/0]}\n")
	ud, err := UserData(c)
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, ud)
	checkAll(t, d, []expectation{
		{doc: "LinkConfig/eth1", path: "mtu", want: 1450},
		{doc: "LinkConfig/eth1", path: "routes", want: []any{map[string]any{"gateway": "10.0.0.1", "metric": 512}}},
		{doc: "DHCPv4Config/eth1", path: "name", want: "eth1"},
	})
	if len(d.all) != 2 {
		t.Errorf("user_data has %d documents, want 2", len(d.all))
	}
	// Talos accepts it as a (partial, multi-document) configuration.
	if _, err := Validate(ud); err != nil {
		t.Errorf("user_data does not load: %v", err)
	}
}

func TestInstallerImage(t *testing.T) {
	c := starter(t)
	c.Talos.SchematicID = strings.Repeat("ab", 32)
	want := "factory.talos.dev/hcloud-installer/" + strings.Repeat("ab", 32) + ":v1.13.9"
	if got := InstallerImage(c); got != want {
		t.Errorf("InstallerImage = %s, want %s", got, want)
	}
}

func TestCertSANsSortedDistinct(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	// Duplicate addresses across inputs collapse.
	in.ControlPlanes = append(in.ControlPlanes, ControlPlaneNode{Name: "demo-control-9", PrivateIPv4: netip.MustParseAddr("10.0.64.1")})
	d, _ := generateOK(t, c, cpNode(t, c, in))
	sans := mustGet(t, d.v1alpha1(t), "machine.certSANs").([]any)
	var s []string
	for _, v := range sans {
		s = append(s, v.(string))
	}
	if !slices.IsSorted(s) || len(slices.Compact(slices.Clone(s))) != len(s) {
		t.Errorf("certSANs not sorted and distinct: %v", s)
	}
	if !slices.Contains(s, "10.0.64.126") {
		t.Errorf("certSANs lack the private VIP: %v", s)
	}
}

// talos.extraKernelArgs go into the schematic (the UKI command line), not
// into machine.install, which machinery forbids together with
// grubUseUKICmdline (on by default for Talos >= 1.12).
func TestExtraKernelArgsViaSchematic(t *testing.T) {
	c := parseCluster(t, starterFile(), "talos: {version: v1.13.9, extraKernelArgs: [mitigations=auto]}")
	d, _ := generateOK(t, c, workerNode(t, c, cloud(t, c)))
	checkAll(t, d, []expectation{
		{path: "machine.install.extraKernelArgs", absent: true},
		{path: "machine.install.grubUseUKICmdline", want: true},
		{path: "machine.install.image", want: "factory.talos.dev/hcloud-installer/" + image.SchematicID(c) + ":v1.13.9"},
	})
	if !slices.Contains(image.CloudSchematic(c).Customization.ExtraKernelArgs, "mitigations=auto") {
		t.Error("schematic lacks the extra kernel argument")
	}
	if image.SchematicID(c) == image.SchematicID(starter(t)) {
		t.Error("extra kernel arguments do not change the schematic")
	}
}
