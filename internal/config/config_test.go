package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const baseFile = `apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster:
  name: prod
controlPlaneNodepools:
  - name: control
    type: cpx22
    location: fsn1
    count: 3
workerNodepools:
  - name: worker
    type: cpx32
    location: nbg1
    count: 2
`

// patched returns baseFile with the value at path (dots and [i]) set to value, or
// removed when value is the remove sentinel.
func patched(t *testing.T, sets map[string]any) []byte {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(baseFile), &doc); err != nil {
		t.Fatal(err)
	}
	for path, value := range sets {
		setPath(t, doc, path, value)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var stepRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

func setPath(t *testing.T, doc map[string]any, path string, value any) {
	t.Helper()
	steps := stepRE.FindAllStringSubmatch(path, -1)
	var cur any = doc
	for i, st := range steps {
		last := i == len(steps)-1
		if st[1] != "" {
			m := cur.(map[string]any)
			if last {
				m[st[1]] = value
				return
			}
			next, ok := m[st[1]]
			if !ok {
				if steps[i+1][2] != "" {
					next = []any{map[string]any{}}
				} else {
					next = map[string]any{}
				}
				m[st[1]] = next
			}
			cur = next
			continue
		}
		idx, _ := strconv.Atoi(st[2])
		l := cur.([]any)
		for len(l) <= idx {
			l = append(l, map[string]any{})
		}
		// The list may have grown: store it back through the parent on the next set.
		if last {
			l[idx] = value
			return
		}
		cur = l[idx]
	}
}

func mustParse(t *testing.T, data []byte) *Cluster {
	t.Helper()
	c, err := Parse(data, "cluster.yaml")
	if err != nil {
		t.Fatalf("Parse: %v\n--- file ---\n%s", err, data)
	}
	return c
}

func parseErrors(t *testing.T, data []byte) Errors {
	t.Helper()
	_, err := Parse(data, "cluster.yaml")
	if err == nil {
		t.Fatalf("Parse accepted an invalid file:\n%s", data)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want config.Errors: %v", err, err)
	}
	return es
}

func TestStarterFileValidates(t *testing.T) {
	c := mustParse(t, Starter(StarterOptions{Name: "demo", Location: "hel1"}))
	if c.Cluster.Name != "demo" {
		t.Errorf("name = %q, want demo", c.Cluster.Name)
	}
	if got := c.ControlPlaneCount(); got != 3 {
		t.Errorf("control planes = %d, want 3", got)
	}
	if got := c.WorkerCount(); got != 2 {
		t.Errorf("workers = %d, want 2", got)
	}
	for _, p := range c.ControlPlaneNodepools {
		if p.Location != "hel1" {
			t.Errorf("pool %s location = %q, want hel1", p.Name, p.Location)
		}
	}
}

// The defaults below are the module's (its variables.tf; docs/cluster-file.md lists
// them per key), written out by hand.
func TestDefaultsMatchModule(t *testing.T) {
	c := mustParse(t, []byte(baseFile))
	w := c.WorkerNodepools[0]
	cases := []struct {
		name      string
		got, want any
	}{
		{"talos version", c.Talos.Version, "v1.13.9"},
		{"kubernetes version", c.Kubernetes.Version, "v1.34.10"},
		{"cluster domain", c.Cluster.Domain, "cluster.local"},
		{"cluster access", c.Cluster.Access, "public"},
		{"delete protection", c.Cluster.DeleteProtection, true},
		{"network", c.Network.IPv4CIDR, "10.0.0.0/16"},
		{"private vip", c.ControlPlane.PrivateVIPIPv4Enabled, true},
		{"public vip", c.ControlPlane.PublicVIPIPv4Enabled, false},
		{"worker placement group", w.PlacementGroup, true},
		{"worker backups", w.Backups, false},
		{"apply mode", c.Talos.ApplyMode, "auto"},
		{"nameservers", c.Talos.Nameservers, []string{"185.12.64.1", "185.12.64.2", "2a01:4ff:ff00::add:1", "2a01:4ff:ff00::add:2"}},
		{"ntp", c.Talos.NTPServers, []string{"ntp1.hetzner.de", "ntp2.hetzner.com", "ntp3.hetzner.net"}},
		{"discovery service", c.Talos.Discovery.ServiceEnabled, true},
		{"discovery kubernetes", c.Talos.Discovery.KubernetesEnabled, false},
		{"state encryption", c.Talos.StatePartitionEncryption, true},
		{"amd64 builder", c.Images.AMD64.Builder, Builder{"cpx11", "ash"}},
		{"arm64 builder", c.Images.ARM64.Builder, Builder{"cax11", "nbg1"}},
		{"backup schedule", c.Backup.Schedule, "0 * * * *"},
		{"backup version", c.Backup.Version, "v0.1.0-beta.3-3-g38dad7c"},
		{"cilium version", c.Addons.Cilium.Chart.Version, "1.19.6"},
		{"cilium encryption", c.Addons.Cilium.Encryption.Type, "wireguard"},
		{"ipsec key size", c.Addons.Cilium.Encryption.IPsec.KeySize, 256},
		{"hccm version", c.Addons.HcloudCCM.Chart.Version, "1.35.0"},
		{"csi version", c.Addons.HcloudCSI.Chart.Version, "2.22.1"},
		{"csi classes", len(c.Addons.HcloudCSI.StorageClasses), 2},
		{"talos ccm version", c.Addons.TalosCCM.Chart.Version, "0.5.5"},
		{"metrics server version", c.Addons.MetricsServer.Chart.Version, "3.13.1"},
		{"cert-manager version", c.Addons.CertManager.Chart.Version, "v1.20.3"},
		{"cert-manager enabled", c.Addons.CertManager.Enabled, false},
		{"webhook version", c.Addons.CertManagerWebhookHetzner.Chart.Version, "0.8.1"},
		{"ingress-nginx version", c.Addons.IngressNginx.Chart.Version, "4.15.1"},
		{"longhorn version", c.Addons.Longhorn.Chart.Version, "1.11.3"},
		{"autoscaler chart", c.Addons.ClusterAutoscaler.Chart.Version, "9.53.0"},
		{"autoscaler image", c.Addons.ClusterAutoscaler.ImageTag, "v1.34.5"},
		{"gateway api crds", c.CRDs.GatewayAPI.Version, "v1.4.1"},
		{"prometheus crds", c.CRDs.PrometheusOperator.Version, "v0.93.1"},
		{"ingress lb health", c.IngressLoadBalancer.HealthCheck, HealthCheck{3, 3, 3}},
		{"oidc prefix", c.Addons.OIDC.GroupsPrefix, "oidc:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}

func TestDerivedValues(t *testing.T) {
	t.Run("no workers allows scheduling on control planes", func(t *testing.T) {
		c := mustParse(t, patched(t, map[string]any{"workerNodepools": []any{}}))
		if !c.AllowSchedulingOnControlPlanes() {
			t.Error("want scheduling allowed without workers")
		}
	})
	t.Run("workers forbid it", func(t *testing.T) {
		if mustParse(t, []byte(baseFile)).AllowSchedulingOnControlPlanes() {
			t.Error("want scheduling forbidden with workers")
		}
	})
	t.Run("explicit value wins", func(t *testing.T) {
		c := mustParse(t, patched(t, map[string]any{"cluster.allowSchedulingOnControlPlanes": true}))
		if !c.AllowSchedulingOnControlPlanes() {
			t.Error("explicit true ignored")
		}
	})
	t.Run("layout", func(t *testing.T) {
		l, err := mustParse(t, []byte(baseFile)).Layout()
		if err != nil {
			t.Fatal(err)
		}
		if got := l.ControlPlaneVIP.String(); got != "10.0.64.126" {
			t.Errorf("VIP = %s, want 10.0.64.126", got)
		}
	})
}

func TestExplicitFalseOverridesTrueDefault(t *testing.T) {
	c := mustParse(t, patched(t, map[string]any{
		"cluster.deleteProtection":          false,
		"workerNodepools[0].placementGroup": false,
	}))
	if c.Cluster.DeleteProtection {
		t.Error("deleteProtection: false was ignored")
	}
	if c.WorkerNodepools[0].PlacementGroup {
		t.Error("placementGroup: false was ignored")
	}
}

func TestNullMeansDefault(t *testing.T) {
	file := baseFile + "network:\n  # ipv4CIDR: 10.1.0.0/16\ntalos:\n  version: ~\n"
	c := mustParse(t, []byte(file))
	if c.Network.IPv4CIDR != "10.0.0.0/16" || c.Talos.Version != DefaultTalosVersion {
		t.Errorf("null section zeroed defaults: network %q, talos %q", c.Network.IPv4CIDR, c.Talos.Version)
	}
}

func TestUnknownKeysSuggestNearest(t *testing.T) {
	cases := []struct {
		file, path, want string
	}{
		{strings.Replace(baseFile, "  name: prod", "  nmae: prod", 1), "cluster.nmae", `did you mean "name"`},
		{baseFile + "talos:\n  verison: v1.13.9\n", "talos.verison", `did you mean "version"`},
		{baseFile + "cluster_name: prod\n", "cluster_name", "in the cluster file it is cluster.name"},
		{baseFile + "hcloud_token: abc\n", "hcloud_token", "HCLOUD_TOKEN"},
		{strings.Replace(baseFile, "    count: 2", "    count: 2\n    placement_group: false", 1), "workerNodepools[0].placement_group", `did you mean "placementGroup"`},
		{baseFile + "network:\n  ipv4Cidr: 10.0.0.0/16\n", "network.ipv4Cidr", `did you mean "ipv4CIDR"`},
		{baseFile + "zzzzzzzzzz: 1\n", "zzzzzzzzzz", "valid keys here: addons, apiVersion"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			for _, e := range parseErrors(t, []byte(tc.file)) {
				if e.Path == tc.path {
					if !strings.Contains(e.Msg, tc.want) {
						t.Errorf("got %q, want %q", e.Error(), tc.want)
					}
					if e.Line == 0 {
						t.Errorf("no line number in %q", e.Error())
					}
					return
				}
			}
			t.Errorf("no error at %s", tc.path)
		})
	}
}

func TestWrongKinds(t *testing.T) {
	cases := []struct {
		sets map[string]any
		path string
		want string
	}{
		{map[string]any{"workerNodepools[0].count": "three"}, "workerNodepools[0].count", "expected a whole number"},
		{map[string]any{"cluster.deleteProtection": "yes please"}, "cluster.deleteProtection", "expected true or false"},
		{map[string]any{"workerNodepools": "many"}, "workerNodepools", "expected a list"},
		{map[string]any{"network": []any{"10.0.0.0/16"}}, "network", "expected a mapping with keys"},
		{map[string]any{"talos.nameservers": map[string]any{"a": 1}}, "talos.nameservers", "expected a list"},
		{map[string]any{"workerNodepools[0].labels": []any{"a"}}, "workerNodepools[0].labels", "expected a mapping"},
		{map[string]any{"workerNodepools[0].count": uint64(1 << 63)}, "workerNodepools[0].count", "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			es := parseErrors(t, patched(t, tc.sets))
			if len(es) != 1 || es[0].Path != tc.path || !strings.Contains(es[0].Msg, tc.want) {
				t.Errorf("got %v, want one error at %s containing %q", es, tc.path, tc.want)
			}
		})
	}
}

// Every validation of the module (its variables.tf) plus the checks we add, one case each.
func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		sets map[string]any
		path string
		want string
	}{
		{"cluster name required", map[string]any{"cluster.name": ""}, "cluster.name", "is required"},
		{"cluster name syntax", map[string]any{"cluster.name": "Prod_1"}, "cluster.name", "lowercase"},
		{"cluster name length", map[string]any{"cluster.name": strings.Repeat("a", 33)}, "cluster.name", "1-32"},
		{"api version", map[string]any{"apiVersion": "v2"}, "apiVersion", "hcloud-k8s.io/v1alpha1"},
		{"kind", map[string]any{"kind": "Pod"}, "kind", "Cluster"},
		{"domain", map[string]any{"cluster.domain": "Bad_Domain"}, "cluster.domain", "DNS name"},
		{"access", map[string]any{"cluster.access": "vpn"}, "cluster.access", `"public", "private"`},
		{"rdns", map[string]any{"cluster.rdns": "UPPER.example"}, "cluster.rdns", "reverse DNS"},
		{"network cidr", map[string]any{"network.ipv4CIDR": "10.0.0.0"}, "network.ipv4CIDR", "IPv4 CIDR"},
		{"network host bits", map[string]any{"network.ipv4CIDR": "10.0.1.0/16"}, "network.ipv4CIDR", "did you mean 10.0.0.0/16"},
		{"node mask size range", map[string]any{"network.nodeIPv4SubnetMaskSize": 31}, "network.nodeIPv4SubnetMaskSize", "between 1 and 30"},
		{"public network range", map[string]any{"network.ipv4CIDR": "8.8.0.0/16"}, "network.ipv4CIDR", "not a private range"},
		{"range wider than rfc1918", map[string]any{"network.ipv4CIDR": "10.0.0.0/7"}, "network.ipv4CIDR", "not a private range"},
		{"pods overlap services", map[string]any{"network.podIPv4CIDR": "10.0.128.0/17", "network.serviceIPv4CIDR": "10.0.128.0/17"}, "network.podIPv4CIDR", "overlaps network.podIPv4CIDR"},
		{"node range covers services", map[string]any{"network.nodeIPv4CIDR": "10.0.0.0/17"}, "network.nodeIPv4CIDR", "overlaps network.serviceIPv4CIDR"},
		{"pods outside native routing", map[string]any{"network.nativeRoutingIPv4CIDR": "10.0.0.0/17"}, "network.nativeRoutingIPv4CIDR", "not inside the native routing range"},
		{"firewall source", map[string]any{"firewall.apiSource": []any{"not-an-ip"}}, "firewall.apiSource[0]", "not an IP"},
		{"rule direction", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "both", "protocol": "tcp", "port": "80"}}}, "firewall.extraRules[0].direction", `"in", "out"`},
		{"rule protocol", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "in", "protocol": "sctp"}}}, "firewall.extraRules[0].protocol", "tcp"},
		{"rule port required", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "in", "protocol": "tcp"}}}, "firewall.extraRules[0].port", "is required"},
		{"rule port forbidden", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "in", "protocol": "icmp", "port": "1"}}}, "firewall.extraRules[0].port", "must not be set"},
		{"rule port range", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "in", "protocol": "tcp", "port": "90-80"}}}, "firewall.extraRules[0].port", "out of range"},
		{"in rule destinations", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "in", "protocol": "tcp", "port": "80", "destinationIPs": []any{"1.2.3.4/32"}}}}, "firewall.extraRules[0].destinationIPs", "must be empty"},
		{"out rule sources", map[string]any{"firewall.extraRules": []any{map[string]any{"description": "x", "direction": "out", "protocol": "tcp", "port": "80", "sourceIPs": []any{"1.2.3.4/32"}}}}, "firewall.extraRules[0].sourceIPs", "must be empty"},
		{"even control planes", map[string]any{"controlPlaneNodepools[0].count": 2}, "controlPlaneNodepools", "odd"},
		{"too many control planes", map[string]any{"controlPlaneNodepools[0].count": 11}, "controlPlaneNodepools", "at most 9"},
		{"no control planes", map[string]any{"controlPlaneNodepools": []any{}}, "controlPlaneNodepools", "at least one"},
		{"total nodes", map[string]any{"workerNodepools[0].count": 98}, "workerNodepools", "at most 100"},
		{"negative count", map[string]any{"workerNodepools[0].count": -1}, "workerNodepools[0].count", "between 0 and 100"},
		{"huge count does not wrap the total", map[string]any{"workerNodepools[0].count": int64(1<<63 - 1)}, "workerNodepools[0].count", "between 0 and 100"},
		{"location", map[string]any{"workerNodepools[0].location": "fra1"}, "workerNodepools[0].location", `"fsn1"`},
		{"network zone", map[string]any{"workerNodepools[0].location": "ash"}, "workerNodepools[0].location", "network zone"},
		{"type required", map[string]any{"workerNodepools[0].type": ""}, "workerNodepools[0].type", "server type"},
		{"duplicate pool names", map[string]any{"workerNodepools[0].name": "control"}, "workerNodepools[0].name", "already used"},
		{"pool name length", map[string]any{"workerNodepools[0].name": strings.Repeat("w", 53)}, "workerNodepools[0].name", "at most 56"},
		{"pool name syntax", map[string]any{"workerNodepools[0].name": "Big Pool"}, "workerNodepools[0].name", "lowercase"},
		{"taint syntax", map[string]any{"workerNodepools[0].taints": []any{"nocolon"}}, "workerNodepools[0].taints[0]", "key[=value]:Effect"},
		{"taint effect", map[string]any{"workerNodepools[0].taints": []any{"a=b:Sometimes"}}, "workerNodepools[0].taints[0]", "NoSchedule"},
		{"label value", map[string]any{"workerNodepools[0].labels": map[string]any{"tier": "has space"}}, "workerNodepools[0].labels.tier", "label value"},
		{"worker rdns", map[string]any{"workerNodepools[0].rdns": "a_b"}, "workerNodepools[0].rdns", "reverse DNS"},
		{"fallback location unknown", map[string]any{"workerNodepools[0].fallbackLocations": []any{"fra1"}}, "workerNodepools[0].fallbackLocations[0]", `"nbg1"`},
		{"fallback location twice", map[string]any{"workerNodepools[0].fallbackLocations": []any{"nbg1", "nbg1"}}, "workerNodepools[0].fallbackLocations[1]", "listed twice"},
		{"fallback is the location", map[string]any{"controlPlaneNodepools[0].fallbackLocations": []any{"fsn1"}}, "controlPlaneNodepools[0].fallbackLocations[0]", "the pool's location"},
		{"fallback in another zone", map[string]any{"workerNodepools[0].fallbackLocations": []any{"ash"}}, "workerNodepools[0].fallbackLocations[0]", "same zone"},
		{"placement group fallback", map[string]any{"workerNodepools[0].placementGroupFallback": "drop"}, "workerNodepools[0].placementGroupFallback", "keep or none"},
		{"subnet not pinned", map[string]any{"workerNodepools[0].subnet": "10.0.80.0/25"}, "workerNodepools[0].subnet", "not one of the pinned worker subnets"},
		{"subnet not a network", map[string]any{"workerNodepools[0].subnet": "10.0.65.1/25"}, "workerNodepools[0].subnet", "did you mean 10.0.65.0/25"},
		{"autoscaler disabled", map[string]any{"autoscalerNodepools": []any{map[string]any{"name": "auto", "type": "cpx22", "location": "fsn1", "max": 3}}}, "autoscalerNodepools", "addons.clusterAutoscaler.enabled"},
		{"autoscaler max < min", map[string]any{"addons.clusterAutoscaler.enabled": true, "autoscalerNodepools": []any{map[string]any{"name": "auto", "type": "cpx22", "location": "fsn1", "min": 3, "max": 1}}}, "autoscalerNodepools[0].max", "at least min"},
		{"autoscaler subnet shared with worker", map[string]any{"workerNodepools[0].subnet": "10.0.65.0/25", "addons.clusterAutoscaler.enabled": true, "autoscalerNodepools": []any{map[string]any{"name": "auto", "type": "cpx22", "location": "fsn1", "max": 1, "subnet": "10.0.65.0/25"}}}, "autoscalerNodepools[0].subnet", "already used by workerNodepools[0].subnet"},
		{"ingress lb type", map[string]any{"ingressLoadBalancer.type": "lb99"}, "ingressLoadBalancer.type", "lb11"},
		{"health check interval", map[string]any{"ingressLoadBalancer.healthCheck.interval": 61}, "ingressLoadBalancer.healthCheck.interval", "between 3 and 60"},
		{"health check timeout", map[string]any{"ingressLoadBalancer.healthCheck.timeout": 5}, "ingressLoadBalancer.healthCheck.timeout", "at most the interval"},
		{"health check retries", map[string]any{"addons.hcloudCCM.loadBalancers.healthCheck.retries": 6}, "addons.hcloudCCM.loadBalancers.healthCheck.retries", "between 0 and 5"},
		{"ingress pool names", map[string]any{"ingressLoadBalancer.pools": []any{map[string]any{"name": "eu", "location": "fsn1"}, map[string]any{"name": "eu", "location": "nbg1"}}}, "ingressLoadBalancer.pools[1].name", "already used"},
		{"image selector", map[string]any{"images.arm64.selector": "newest"}, "images.arm64.selector", `"exact", "latest"`},
		{"builder location", map[string]any{"images.amd64.builder.location": "mars"}, "images.amd64.builder.location", `"fsn1"`},
		{"talos version", map[string]any{"talos.version": "1.13"}, "talos.version", "v1.13.9"},
		{"schematic", map[string]any{"talos.schematicID": "abc"}, "talos.schematicID", "64 hex"},
		{"reboot mode", map[string]any{"talos.reboot.mode": "hard"}, "talos.reboot.mode", `"force"`},
		{"upgrade reboot mode", map[string]any{"talos.upgrade.rebootMode": "force"}, "talos.upgrade.rebootMode", `"powercycle"`},
		{"apply mode", map[string]any{"talos.applyMode": "later"}, "talos.applyMode", "staged_if_needing_reboot"},
		{"mount destinations", map[string]any{"talos.kubeletExtraMounts": []any{map[string]any{"source": "/a"}, map[string]any{"source": "/b", "destination": "/a"}}}, "talos.kubeletExtraMounts[1].destination", "mounted twice"},
		{"longhorn mount", map[string]any{"addons.longhorn.enabled": true, "talos.kubeletExtraMounts": []any{map[string]any{"source": "/var/lib/longhorn"}}}, "talos.kubeletExtraMounts[0].destination", "Longhorn"},
		{"extra route", map[string]any{"talos.extraRoutes": []any{"10.0.0.0"}}, "talos.extraRoutes[0]", "IPv4 CIDR"},
		{"certificate name", map[string]any{"talos.certificates": map[string]any{"My_CA": []any{"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"}}}, "talos.certificates.My_CA", "lowercase"},
		{"certificate pem", map[string]any{"talos.certificates": map[string]any{"ca": []any{"nope"}}}, "talos.certificates.ca[0]", "PEM"},
		{"certificate empty", map[string]any{"talos.certificates": map[string]any{"ca": []any{}}}, "talos.certificates.ca", "at least one"},
		{"kubernetes version", map[string]any{"kubernetes.version": "latest"}, "kubernetes.version", "v1.34.10"},
		{"image repo", map[string]any{"kubernetes.images.apiServer": "registry.k8s.io/kube-apiserver:v1"}, "kubernetes.images.apiServer", "without tag"},
		{"etcd tag", map[string]any{"kubernetes.images.etcd": "registry.k8s.io/etcd"}, "kubernetes.images.etcd", ":tag or an @sha256"},
		{"oidc issuer", map[string]any{"addons.oidc.enabled": true, "addons.oidc.clientID": "x"}, "addons.oidc.issuerURL", "required"},
		{"oidc groups", map[string]any{"addons.oidc.groupMappings": []any{map[string]any{"group": "a"}, map[string]any{"group": "a"}}}, "addons.oidc.groupMappings[1].group", "mapped twice"},
		{"rbac roles", map[string]any{"addons.rbac.roles": []any{map[string]any{"name": "r", "namespace": "a", "rules": []any{}}, map[string]any{"name": "r", "namespace": "b", "rules": []any{}}}}, "addons.rbac.roles[1].name", "defined twice"},
		{"csi passphrase", map[string]any{"addons.hcloudCSI.encryptionPassphrase": "short"}, "addons.hcloudCSI.encryptionPassphrase", "8-512"},
		{"cilium ipsec key size", map[string]any{"addons.cilium.encryption.ipsec.keySize": 512}, "addons.cilium.encryption.ipsec.keySize", "128, 192 or 256"},
		{"cilium key id", map[string]any{"addons.cilium.encryption.ipsec.keyID": 16}, "addons.cilium.encryption.ipsec.keyID", "between 1 and 15"},
		{"cilium routing", map[string]any{"addons.cilium.routingMode": "bgp"}, "addons.cilium.routingMode", `"tunnel"`},
		{"cilium egress", map[string]any{"addons.cilium.egressGatewayEnabled": true, "addons.cilium.kubeProxyReplacementEnabled": false}, "addons.cilium.egressGatewayEnabled", "kubeProxyReplacementEnabled"},
		{"hubble relay", map[string]any{"addons.cilium.hubble.relayEnabled": true}, "addons.cilium.hubble.relayEnabled", "hubble.enabled"},
		{"hubble ui", map[string]any{"addons.cilium.hubble.enabled": true, "addons.cilium.hubble.uiEnabled": true}, "addons.cilium.hubble.uiEnabled", "relayEnabled"},
		{"webhook needs cert-manager", map[string]any{"addons.certManagerWebhookHetzner.enabled": true}, "addons.certManagerWebhookHetzner.enabled", "certManager"},
		{"ingress nginx needs cert-manager", map[string]any{"addons.ingressNginx.enabled": true, "addons.ingressNginx.deprecationIgnored": true}, "addons.ingressNginx.enabled", "certManager"},
		{"ingress nginx deprecation", map[string]any{"addons.certManager.enabled": true, "addons.ingressNginx.enabled": true}, "addons.ingressNginx.deprecationIgnored", "retired"},
		{"ingress nginx daemonset replicas", map[string]any{"addons.ingressNginx.kind": "DaemonSet", "addons.ingressNginx.replicas": 2}, "addons.ingressNginx.replicas", "DaemonSet"},
		{"backup url", map[string]any{"backup.s3.hcloudURL": "https://s3.amazonaws.com/b"}, "backup.s3.hcloudURL", "your-objectstorage.com"},
		{"crd channel", map[string]any{"crds.gatewayAPI.releaseChannel": "beta"}, "crds.gatewayAPI.releaseChannel", "experimental"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es := parseErrors(t, patched(t, tc.sets))
			for _, e := range es {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.want) {
					return
				}
			}
			t.Errorf("want an error at %s containing %q, got:\n%v", tc.path, tc.want, es)
		})
	}
}

func TestValidPinnedSubnetAccepted(t *testing.T) {
	c := mustParse(t, patched(t, map[string]any{"workerNodepools[0].subnet": "10.0.79.128/25"}))
	if c.WorkerNodepools[0].Subnet != "10.0.79.128/25" {
		t.Fatal("subnet not kept")
	}
}

func TestAllErrorsReportedAtOnceInLineOrder(t *testing.T) {
	file := `apiVersion: hcloud-k8s.io/v1alpha1
kind: Cluster
cluster:
  name: Bad_Name
  acess: public
controlPlaneNodepools:
  - name: control
    type: cpx22
    location: fsn1
    count: 2
workerNodepools:
  - name: worker
    type: cpx32
    location: moon
    count: -3
    backups: sometimes
`
	es := parseErrors(t, []byte(file))
	// Decoding problems (unknown key, wrong kind) and validation problems come together.
	wantPaths := []string{"cluster.name", "cluster.acess", "controlPlaneNodepools", "workerNodepools[0].location", "workerNodepools[0].count", "workerNodepools[0].backups"}
	var got []string
	for _, e := range es {
		got = append(got, e.Path)
	}
	if !reflect.DeepEqual(got, wantPaths) {
		t.Fatalf("paths = %v, want %v\n%v", got, wantPaths, es)
	}
	if es[0].Line != 4 || es[4].Line != 15 {
		t.Errorf("lines = %d, %d; want 4, 15", es[0].Line, es[4].Line)
	}
	if !strings.HasPrefix(es[0].Error(), "cluster.yaml:4: cluster.name: ") {
		t.Errorf("message format: %q", es[0].Error())
	}
}

// A value of megabytes is quoted in part: the message keeps its start and the
// advice at its end, and stays short.
func TestHugeValueIsQuotedInPart(t *testing.T) {
	name := strings.Repeat("a", 3<<20) + "é"
	for _, e := range parseErrors(t, patched(t, map[string]any{"cluster.name": name})) {
		if len(e.Msg) > 1100 || !utf8.ValidString(e.Msg) {
			t.Errorf("%s: a message of %d bytes (valid UTF-8: %v)", e.Path, len(e.Msg), utf8.ValidString(e.Msg))
		}
		if e.Path == "cluster.name" && (!strings.HasPrefix(e.Msg, `"aaaa`) || !strings.Contains(e.Msg, "bytes left out") || !strings.HasSuffix(e.Msg, "starting and ending with a letter or digit")) {
			t.Errorf("cluster.name: %q", e.Msg)
		}
	}
}

func TestMalformedFiles(t *testing.T) {
	cases := map[string]string{
		"empty":          "",
		"not a mapping":  "- a\n- b\n",
		"bad yaml":       "cluster: [\n",
		"two documents":  baseFile + "---\n" + baseFile,
		"alias":          baseFile + "network: &n {}\nfirewall: *n\n",
		"duplicate keys": baseFile + "cluster:\n  name: x\n",
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(file), "f.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s["additionalProperties"] != false {
		t.Error("schema allows unknown top-level keys; Load does not")
	}
	entries, err := SchemaPaths()
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]SchemaEntry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	// Every key Load accepts is in the schema.
	var walk func(t reflect.Type, prefix string)
	walk = func(rt reflect.Type, prefix string) {
		for name, f := range structFields(rt) {
			p := joinPath(prefix, name)
			if _, ok := byPath[p]; !ok {
				t.Errorf("schema lacks %s", p)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft, p)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), p+"[]")
			}
		}
	}
	walk(reflect.TypeFor[Cluster](), "")
	for variable, path := range TerraformVariables {
		p := path
		if _, ok := byPath[p]; !ok {
			t.Errorf("TerraformVariables[%s] = %s, which is not a cluster file key", variable, p)
		}
	}
	if n := len(TerraformVariables) + len(TerraformVariablesNotCarried); n != 237 {
		t.Errorf("the module has 237 variables; the migration tables list %d", n)
	}
	checks := map[string]string{
		"talos.version":                                   `"v1.13.9"`,
		"workerNodepools[].count":                         `1`,
		"workerNodepools[].placementGroup":                `true`,
		"cluster.deleteProtection":                        `true`,
		"talos.kubeletExtraMounts[].type":                 `"bind"`,
		"addons.hcloudCSI.storageClasses[].reclaimPolicy": `"Delete"`,
	}
	for path, want := range checks {
		if got := byPath[path].Default; got != want {
			t.Errorf("default of %s = %s, want %s", path, got, want)
		}
	}
	if !byPath["cluster.name"].Required || byPath["cluster.name"].Type != "string" {
		t.Errorf("cluster.name entry: %+v", byPath["cluster.name"])
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(baseFile))
	f.Add(Starter(StarterOptions{}))
	f.Add([]byte("cluster: {name: a}\ncontrolPlaneNodepools: [{count: 99999999999999999999}]"))
	f.Add([]byte("network: {ipv4CIDR: 10.0.0.0/30, nodeIPv4SubnetMaskSize: 2}"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := Parse(data, "fuzz.yaml")
			if err == nil {
				if _, err := c.Layout(); err != nil {
					t.Errorf("a valid file has no layout: %v", err)
				}
			}
		}()
		// The fuzzer has no per-input deadline of its own; a slow input is a bug too.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse took over 5s on %q", data)
		}
	})
}
