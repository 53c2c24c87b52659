package config

import "go.yaml.in/yaml/v3"

// Default versions, as pinned by terraform-hcloud-kubernetes 5.6.0.
const (
	DefaultTalosVersion      = "v1.13.9"
	DefaultKubernetesVersion = "v1.34.10"
)

// Locations are the Hetzner Cloud locations the module accepts.
var Locations = []string{"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}

// Default returns a cluster file with every field at the module's default.
// Load decodes the user's file over it, so keys the user leaves out keep these values.
func Default() Cluster {
	return Cluster{
		APIVersion: APIVersion,
		Kind:       Kind,
		Cluster: ClusterSettings{
			Domain:             "cluster.local",
			Access:             "public",
			HealthcheckEnabled: true,
			DeleteProtection:   true,
		},
		Network: Network{
			IPv4CIDR:              "10.0.0.0/16",
			ExposeRoutesToVSwitch: true,
		},
		ControlPlane: ControlPlane{PrivateVIPIPv4Enabled: true},
		IngressLoadBalancer: IngressLoadBalancer{
			Type:                 "lb11",
			Algorithm:            "least_connections",
			PublicNetworkEnabled: true,
			HealthCheck:          HealthCheck{Interval: 3, Retries: 3, Timeout: 3},
		},
		Images: Images{
			AMD64: ImageBuild{BuildEnabled: true, Selector: "exact", Builder: Builder{ServerType: "cpx11", Location: "ash"}},
			ARM64: ImageBuild{BuildEnabled: true, Selector: "exact", Builder: Builder{ServerType: "cax11", Location: "nbg1"}},
		},
		Talos: Talos{
			Version:                      DefaultTalosVersion,
			Discovery:                    TalosDiscovery{ServiceEnabled: true},
			CRIDiscardUnpackedLayers:     true,
			ApplyMode:                    "auto",
			StagedAutomaticRebootEnabled: true,
			StatePartitionEncryption:     true,
			EphemeralPartitionEncryption: true,
			IPv6Enabled:                  true,
			PublicIPv4Enabled:            true,
			PublicIPv6Enabled:            true,
			CoreDNSEnabled:               true,
			Nameservers:                  []string{"185.12.64.1", "185.12.64.2", "2a01:4ff:ff00::add:1", "2a01:4ff:ff00::add:2"},
			NTPServers:                   []string{"ntp1.hetzner.de", "ntp2.hetzner.com", "ntp3.hetzner.net"},
		},
		Backup: Backup{
			Enabled:  true,
			Version:  "v0.1.0-beta.3-3-g38dad7c",
			Schedule: "0 * * * *",
		},
		Kubernetes: Kubernetes{Version: DefaultKubernetesVersion},
		Addons: Addons{
			TalosCCM: Addon{Enabled: true, Chart: Chart{"oci://ghcr.io/siderolabs/charts", "talos-cloud-controller-manager", "0.5.5"}},
			HcloudCCM: HcloudCCM{
				Addon: Addon{Enabled: true, Chart: Chart{"https://charts.hetzner.cloud", "hcloud-cloud-controller-manager", "1.35.0"}},
				LoadBalancers: CCMLoadBalancers{
					Enabled:               true,
					DisablePrivateIngress: true,
					UsePrivateIP:          true,
					Algorithm:             "least_connections",
					HealthCheck:           HealthCheck{Interval: 3, Retries: 3, Timeout: 3},
					Type:                  "lb11",
				},
			},
			HcloudCSI: HcloudCSI{
				Addon: Addon{Enabled: true, Chart: Chart{"https://charts.hetzner.cloud", "hcloud-csi", "2.22.1"}},
				StorageClasses: []StorageClass{
					{Name: "hcloud-volumes-encrypted", Encrypted: true, ReclaimPolicy: "Delete", DefaultStorageClass: true},
					{Name: "hcloud-volumes", Encrypted: false, ReclaimPolicy: "Delete"},
				},
			},
			Longhorn: Longhorn{Addon: Addon{Chart: Chart{"https://charts.longhorn.io", "longhorn", "1.11.3"}}},
			Cilium: Cilium{
				Addon: Addon{Enabled: true, Chart: Chart{"https://helm.cilium.io", "cilium", "1.19.6"}},
				Encryption: CiliumEncryption{
					Enabled: true,
					Type:    "wireguard",
					IPsec:   CiliumIPsec{Algorithm: "rfc4106(gcm(aes))", KeySize: 256, KeyID: 1},
				},
				KubeProxyReplacementEnabled: true,
				LoadBalancerAcceleration:    "best-effort",
				BPFDatapathMode:             "veth",
				GatewayAPI:                  CiliumGatewayAPI{ProxyProtocolEnabled: true, ExternalTrafficPolicy: "Cluster"},
			},
			MetricsServer: MetricsServer{Addon: Addon{Enabled: true, Chart: Chart{"https://kubernetes-sigs.github.io/metrics-server", "metrics-server", "3.13.1"}}},
			CertManager:   Addon{Chart: Chart{"https://charts.jetstack.io", "cert-manager", "v1.20.3"}},
			CertManagerWebhookHetzner: CertManagerWebhookHetzner{
				Addon:     Addon{Chart: Chart{"https://charts.hetzner.cloud", "cert-manager-webhook-hetzner", "0.8.1"}},
				GroupName: "acme.hetzner.com",
			},
			IngressNginx: IngressNginx{
				Addon:                        Addon{Chart: Chart{"https://kubernetes.github.io/ingress-nginx", "ingress-nginx", "4.15.1"}},
				Kind:                         "Deployment",
				ServiceExternalTrafficPolicy: "Cluster",
			},
			ClusterAutoscaler: ClusterAutoscaler{
				Addon:            Addon{Chart: Chart{"https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.53.0"}},
				ImageTag:         "v1.34.5",
				DiscoveryEnabled: true,
			},
			OIDC: OIDC{UsernameClaim: "sub", GroupsClaim: "groups", GroupsPrefix: "oidc:"},
		},
		CRDs: CRDs{
			GatewayAPI:         GatewayAPICRDs{CRDBundle: CRDBundle{Enabled: true, Version: "v1.4.1"}, ReleaseChannel: "standard"},
			PrometheusOperator: CRDBundle{Enabled: true, Version: "v0.93.1"},
		},
	}
}

// List elements are decoded into fresh values, so the per-element defaults of the
// module's object types are filled in by these constructors, used by the UnmarshalYAML
// methods below (before the user's keys are decoded over them) and by the schema.

func newControlPlanePool() ControlPlanePool { return ControlPlanePool{ServerPool{Count: 1}} }
func newWorkerPool() WorkerPool {
	return WorkerPool{ServerPool: ServerPool{Count: 1}, PlacementGroup: true}
}
func newIngressPool() IngressPool { return IngressPool{Count: 1} }
func newKubeletMount() KubeletMount {
	return KubeletMount{Type: "bind", Options: []string{"bind", "rshared", "rw"}}
}
func newLoggingDestination() LoggingDestination { return LoggingDestination{Format: "json_lines"} }
func newStorageClass() StorageClass             { return StorageClass{ReclaimPolicy: "Delete"} }

// elementDefaults returns the defaults of a list element type; ok is false for types
// whose zero value is their default.
func elementDefaults(v any) (any, bool) {
	switch v.(type) {
	case ControlPlanePool:
		return newControlPlanePool(), true
	case WorkerPool:
		return newWorkerPool(), true
	case IngressPool:
		return newIngressPool(), true
	case KubeletMount:
		return newKubeletMount(), true
	case LoggingDestination:
		return newLoggingDestination(), true
	case StorageClass:
		return newStorageClass(), true
	}
	return nil, false
}

// The plain types drop the UnmarshalYAML method so that Decode does not recurse.

// UnmarshalYAML decodes over the module's per-pool defaults.
func (p *ControlPlanePool) UnmarshalYAML(n *yaml.Node) error {
	type plain ControlPlanePool
	v := plain(newControlPlanePool())
	err := n.Decode(&v)
	*p = ControlPlanePool(v)
	return err
}

// UnmarshalYAML decodes over the module's per-pool defaults.
func (p *WorkerPool) UnmarshalYAML(n *yaml.Node) error {
	type plain WorkerPool
	v := plain(newWorkerPool())
	err := n.Decode(&v)
	*p = WorkerPool(v)
	return err
}

// UnmarshalYAML decodes over the module's per-pool defaults.
func (p *IngressPool) UnmarshalYAML(n *yaml.Node) error {
	type plain IngressPool
	v := plain(newIngressPool())
	err := n.Decode(&v)
	*p = IngressPool(v)
	return err
}

// UnmarshalYAML decodes over the module's defaults (a read-write rshared bind mount).
func (m *KubeletMount) UnmarshalYAML(n *yaml.Node) error {
	type plain KubeletMount
	v := plain(newKubeletMount())
	err := n.Decode(&v)
	*m = KubeletMount(v)
	return err
}

// UnmarshalYAML decodes over the module's default format (json_lines).
func (d *LoggingDestination) UnmarshalYAML(n *yaml.Node) error {
	type plain LoggingDestination
	v := plain(newLoggingDestination())
	err := n.Decode(&v)
	*d = LoggingDestination(v)
	return err
}

// UnmarshalYAML decodes over the module's default reclaim policy (Delete).
func (c *StorageClass) UnmarshalYAML(n *yaml.Node) error {
	type plain StorageClass
	v := plain(newStorageClass())
	err := n.Decode(&v)
	*c = StorageClass(v)
	return err
}
