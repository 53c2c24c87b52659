package config

// The types in this file are the cluster file. Their yaml tags are the file's keys,
// their jsonschema tags feed `hcloud-k8s schema`, and Default() gives every field the
// value the Terraform module gives the matching variable. Pointer fields are the
// module's nullable variables: nil means "derive it" (see resolve.go), so they must
// not be given a default here.

// APIVersion and Kind identify the file format so that later versions can migrate it.
const (
	APIVersion = "hcloud-k8s.io/v1alpha1"
	Kind       = "Cluster"
)

// Cluster is the whole cluster file.
type Cluster struct {
	APIVersion string `yaml:"apiVersion" jsonschema:"required,enum=hcloud-k8s.io/v1alpha1" jsonschema_description:"File format version; must be hcloud-k8s.io/v1alpha1."`
	Kind       string `yaml:"kind" jsonschema:"required,enum=Cluster" jsonschema_description:"Always Cluster."`

	Cluster               ClusterSettings     `yaml:"cluster" jsonschema:"required" jsonschema_description:"Cluster identity and cluster-wide behaviour."`
	Network               Network             `yaml:"network,omitempty" jsonschema_description:"Hetzner private network and the Kubernetes address ranges carved from it."`
	Firewall              Firewall            `yaml:"firewall,omitempty" jsonschema_description:"Hetzner Cloud firewall in front of every server."`
	ControlPlane          ControlPlane        `yaml:"controlPlane,omitempty" jsonschema_description:"Control-plane virtual IPs."`
	ControlPlaneNodepools []ControlPlanePool  `yaml:"controlPlaneNodepools" jsonschema:"required" jsonschema_description:"Control-plane node pools. The counts must add up to an odd number no larger than 9."`
	WorkerNodepools       []WorkerPool        `yaml:"workerNodepools,omitempty" jsonschema_description:"Static worker node pools."`
	AutoscalerNodepools   []AutoscalerPool    `yaml:"autoscalerNodepools,omitempty" jsonschema_description:"Node pools managed by the cluster autoscaler (needs addons.clusterAutoscaler.enabled)."`
	IngressLoadBalancer   IngressLoadBalancer `yaml:"ingressLoadBalancer,omitempty" jsonschema_description:"Load balancers in front of ingress-nginx."`
	Images                Images              `yaml:"images,omitempty" jsonschema_description:"Talos snapshots built per architecture."`
	Talos                 Talos               `yaml:"talos,omitempty" jsonschema_description:"Talos Linux machine configuration."`
	Backup                Backup              `yaml:"backup,omitempty" jsonschema_description:"Scheduled etcd backups with talos-backup."`
	Kubernetes            Kubernetes          `yaml:"kubernetes,omitempty" jsonschema_description:"Kubernetes version, kubelet and component images."`
	KubeAPI               KubeAPI             `yaml:"kubeAPI,omitempty" jsonschema_description:"How the Kubernetes API is reached."`
	Addons                Addons              `yaml:"addons,omitempty" jsonschema_description:"Components installed into the cluster."`
	CRDs                  CRDs                `yaml:"crds,omitempty" jsonschema_description:"CRD bundles installed into the cluster."`
}

// ClusterSettings holds the module's cluster_* variables.
type ClusterSettings struct {
	Name                           string `yaml:"name" jsonschema:"required" jsonschema_description:"Cluster name: prefix of every resource name and value of the cluster label. 1-32 lowercase letters, digits and dashes."`
	Domain                         string `yaml:"domain,omitempty" jsonschema_description:"Kubernetes cluster DNS domain."`
	RDNS                           string `yaml:"rdns,omitempty" jsonschema_description:"Reverse DNS template for public IPv4 and IPv6 (placeholders {{ cluster-domain }}, {{ cluster-name }}, {{ hostname }}, {{ id }}, {{ ip-labels }}, {{ ip-type }}, {{ pool }}, {{ role }})."`
	RDNSIPv4                       string `yaml:"rdnsIPv4,omitempty" jsonschema_description:"Reverse DNS template for IPv4 only; wins over rdns."`
	RDNSIPv6                       string `yaml:"rdnsIPv6,omitempty" jsonschema_description:"Reverse DNS template for IPv6 only; wins over rdns."`
	Access                         string `yaml:"access,omitempty" jsonschema:"enum=public,enum=private" jsonschema_description:"Reach the Talos and Kubernetes APIs over public or private IPs."`
	KubeconfigPath                 string `yaml:"kubeconfigPath,omitempty" jsonschema_description:"Also write the kubeconfig to this path (mode 0600)."`
	TalosconfigPath                string `yaml:"talosconfigPath,omitempty" jsonschema_description:"Also write the talosconfig to this path (mode 0600)."`
	HealthcheckEnabled             bool   `yaml:"healthcheckEnabled" jsonschema_description:"Wait for cluster health after changes."`
	DeleteProtection               bool   `yaml:"deleteProtection" jsonschema_description:"Enable Hetzner delete protection on the network, floating IP, load balancers and servers."`
	AllowSchedulingOnControlPlanes *bool  `yaml:"allowSchedulingOnControlPlanes,omitempty" jsonschema_description:"Let workloads run on control planes. Unset: true only when there are no workers and no autoscaler capacity."`
}

// Network holds the network_* variables. Unset ranges follow the module's formulas.
type Network struct {
	IPv4CIDR               string `yaml:"ipv4CIDR,omitempty" jsonschema_description:"Range of the Hetzner network (ignored when existingNetworkID is set: the network's range is used)."`
	NodeIPv4CIDR           string `yaml:"nodeIPv4CIDR,omitempty" jsonschema_description:"Range node subnets are carved from. Unset: cidrsubnet(ipv4CIDR, 3, 2)."`
	NodeIPv4SubnetMaskSize *int   `yaml:"nodeIPv4SubnetMaskSize,omitempty" jsonschema:"minimum=1,maximum=30" jsonschema_description:"Prefix length of each node subnet. Unset: 32 - (24 - pod CIDR prefix)."`
	ServiceIPv4CIDR        string `yaml:"serviceIPv4CIDR,omitempty" jsonschema_description:"Service ClusterIP range. Unset: derived from ipv4CIDR."`
	PodIPv4CIDR            string `yaml:"podIPv4CIDR,omitempty" jsonschema_description:"Pod range (one /24 per node). Unset: cidrsubnet(ipv4CIDR, 1, 1)."`
	NativeRoutingIPv4CIDR  string `yaml:"nativeRoutingIPv4CIDR,omitempty" jsonschema_description:"Cilium ipv4NativeRoutingCIDR. Unset: ipv4CIDR."`
	ExistingNetworkID      int64  `yaml:"existingNetworkID,omitempty" jsonschema_description:"Use this existing Hetzner network instead of creating one."`
	ExposeRoutesToVSwitch  bool   `yaml:"exposeRoutesToVSwitch" jsonschema_description:"expose_routes_to_vswitch on the created network."`
}

// Firewall holds the firewall_* variables.
type Firewall struct {
	UseCurrentIPv4     *bool          `yaml:"useCurrentIPv4,omitempty" jsonschema_description:"Allow the caller's public IPv4 (/32) to the Kube and Talos APIs. Unset: true for public access without explicit API sources."`
	UseCurrentIPv6     *bool          `yaml:"useCurrentIPv6,omitempty" jsonschema_description:"Allow the caller's public IPv6 /64. Unset: like useCurrentIPv4."`
	APISource          []string       `yaml:"apiSource,omitempty" jsonschema_description:"CIDRs allowed to both the Kube API (6443) and the Talos API (50000)."`
	KubeAPISource      []string       `yaml:"kubeAPISource,omitempty" jsonschema_description:"CIDRs allowed to the Kube API; wins over apiSource."`
	TalosAPISource     []string       `yaml:"talosAPISource,omitempty" jsonschema_description:"CIDRs allowed to the Talos API; wins over apiSource."`
	ExtraRules         []FirewallRule `yaml:"extraRules,omitempty" jsonschema_description:"Additional firewall rules."`
	ExistingFirewallID int64          `yaml:"existingFirewallID,omitempty" jsonschema_description:"Attach this existing firewall instead of creating one."`
}

// FirewallRule is one entry of firewall.extraRules.
type FirewallRule struct {
	Description    string   `yaml:"description" jsonschema:"required"`
	Direction      string   `yaml:"direction" jsonschema:"required,enum=in,enum=out"`
	SourceIPs      []string `yaml:"sourceIPs,omitempty" jsonschema_description:"Only for direction in. Empty: any address."`
	DestinationIPs []string `yaml:"destinationIPs,omitempty" jsonschema_description:"Only for direction out. Empty: any address."`
	Protocol       string   `yaml:"protocol" jsonschema:"required,enum=tcp,enum=udp,enum=icmp,enum=gre,enum=esp"`
	Port           string   `yaml:"port,omitempty" jsonschema_description:"Port or range (80, 30000-32767, any). Required for tcp and udp, forbidden otherwise."`
}

// ControlPlane holds the control_plane_*_vip variables.
type ControlPlane struct {
	PublicVIPIPv4Enabled  bool  `yaml:"publicVIPIPv4Enabled" jsonschema_description:"Create a floating IP that Talos moves between control planes."`
	PublicVIPIPv4ID       int64 `yaml:"publicVIPIPv4ID,omitempty" jsonschema_description:"Use this existing floating IP as the public VIP (enables it)."`
	PrivateVIPIPv4Enabled bool  `yaml:"privateVIPIPv4Enabled" jsonschema_description:"Private alias-IP VIP at cidrhost(control-plane subnet, -2)."`
}

// Nodepool holds the fields every Hetzner Cloud node pool has.
type Nodepool struct {
	Name        string            `yaml:"name" jsonschema:"required" jsonschema_description:"Pool name; servers are named <cluster>-<pool>-<n>."`
	Location    string            `yaml:"location" jsonschema:"required,enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin"`
	Type        string            `yaml:"type" jsonschema:"required" jsonschema_description:"Hetzner server type, e.g. cpx22 or cax21 (cax types run arm64)."`
	Labels      map[string]string `yaml:"labels,omitempty" jsonschema_description:"Kubernetes node labels (nodepool=<name> is added)."`
	Annotations map[string]string `yaml:"annotations,omitempty" jsonschema_description:"Kubernetes node annotations."`
	Taints      []string          `yaml:"taints,omitempty" jsonschema_description:"Taints as key[=value]:Effect."`
}

// ServerPool holds the fields of pools whose servers hcloud-k8s creates itself.
type ServerPool struct {
	Nodepool `yaml:",inline"`
	Count    int    `yaml:"count" jsonschema:"minimum=0"`
	Backups  bool   `yaml:"backups" jsonschema_description:"Enable Hetzner backups."`
	KeepDisk bool   `yaml:"keepDisk" jsonschema_description:"Keep the disk size when the server type changes, so it can be downgraded again."`
	RDNS     string `yaml:"rdns,omitempty"`
	RDNSIPv4 string `yaml:"rdnsIPv4,omitempty"`
	RDNSIPv6 string `yaml:"rdnsIPv6,omitempty"`
}

// ControlPlanePool is one entry of controlPlaneNodepools.
type ControlPlanePool struct {
	ServerPool `yaml:",inline"`
}

// WorkerPool is one entry of workerNodepools.
type WorkerPool struct {
	ServerPool     `yaml:",inline"`
	Subnet         string `yaml:"subnet,omitempty" jsonschema_description:"Pin the pool to one of the pinned worker subnets; unset: the shared worker subnet."`
	PlacementGroup bool   `yaml:"placementGroup" jsonschema_description:"Spread the pool over placement groups of at most 10 servers."`
}

// AutoscalerPool is one entry of autoscalerNodepools.
type AutoscalerPool struct {
	Nodepool `yaml:",inline"`
	Subnet   string `yaml:"subnet,omitempty"`
	Min      int    `yaml:"min" jsonschema:"minimum=0"`
	Max      int    `yaml:"max" jsonschema:"required,minimum=0"`
}

// HealthCheck is a load balancer health check schedule, in seconds.
type HealthCheck struct {
	Interval int `yaml:"interval" jsonschema:"minimum=3,maximum=60"`
	Retries  int `yaml:"retries" jsonschema:"minimum=0,maximum=5"`
	Timeout  int `yaml:"timeout" jsonschema:"minimum=1"`
}

// IngressLoadBalancer holds the ingress_load_balancer_* variables.
type IngressLoadBalancer struct {
	Type                 string        `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31"`
	Algorithm            string        `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections"`
	PublicNetworkEnabled bool          `yaml:"publicNetworkEnabled"`
	HealthCheck          HealthCheck   `yaml:"healthCheck,omitempty"`
	RDNS                 string        `yaml:"rdns,omitempty"`
	RDNSIPv4             string        `yaml:"rdnsIPv4,omitempty"`
	RDNSIPv6             string        `yaml:"rdnsIPv6,omitempty"`
	Pools                []IngressPool `yaml:"pools,omitempty" jsonschema_description:"Geo-redundant load balancer pools; replace the single <cluster>-ingress load balancer."`
}

// IngressPool is one entry of ingressLoadBalancer.pools.
type IngressPool struct {
	Name                 string            `yaml:"name" jsonschema:"required"`
	Location             string            `yaml:"location" jsonschema:"required,enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin"`
	Type                 string            `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31" jsonschema_description:"Unset: ingressLoadBalancer.type."`
	Labels               map[string]string `yaml:"labels,omitempty"`
	Count                int               `yaml:"count" jsonschema:"minimum=0"`
	TargetLabelSelector  []string          `yaml:"targetLabelSelector,omitempty" jsonschema_description:"Label selectors of the targets; empty: every node pool that may receive ingress traffic."`
	LocalTraffic         bool              `yaml:"localTraffic" jsonschema_description:"Only target node pools in the same location."`
	Algorithm            string            `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections"`
	PublicNetworkEnabled *bool             `yaml:"publicNetworkEnabled,omitempty"`
	RDNS                 string            `yaml:"rdns,omitempty"`
	RDNSIPv4             string            `yaml:"rdnsIPv4,omitempty"`
	RDNSIPv6             string            `yaml:"rdnsIPv6,omitempty"`
}

// Images holds the packer_* and talos_cloud_*_image_* variables.
type Images struct {
	AMD64 ImageBuild `yaml:"amd64,omitempty"`
	ARM64 ImageBuild `yaml:"arm64,omitempty"`
}

// ImageBuild says how the snapshot of one architecture is found or built.
type ImageBuild struct {
	BuildEnabled bool    `yaml:"buildEnabled" jsonschema_description:"Build the snapshot when none matches."`
	Selector     string  `yaml:"selector,omitempty" jsonschema:"enum=exact,enum=latest" jsonschema_description:"exact: match cluster, Talos version and schematic; latest: newest Talos snapshot of this cluster."`
	Builder      Builder `yaml:"builder,omitempty" jsonschema_description:"Temporary server used to build the snapshot."`
}

// Builder is the temporary server an image is built on.
type Builder struct {
	ServerType string `yaml:"serverType,omitempty"`
	Location   string `yaml:"location,omitempty" jsonschema:"enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin"`
}

// Talos holds the talos_* variables.
type Talos struct {
	Version                      string               `yaml:"version,omitempty" jsonschema_description:"Talos Linux version, e.g. v1.13.9."`
	SchematicID                  string               `yaml:"schematicID,omitempty" jsonschema_description:"Use this Image Factory schematic instead of computing one."`
	ImageExtensions              []string             `yaml:"imageExtensions,omitempty" jsonschema_description:"Extra official extensions, e.g. siderolabs/tailscale."`
	ExtraKernelArgs              []string             `yaml:"extraKernelArgs,omitempty"`
	Upgrade                      TalosUpgrade         `yaml:"upgrade,omitempty"`
	Reboot                       TalosReboot          `yaml:"reboot,omitempty"`
	Discovery                    TalosDiscovery       `yaml:"discovery,omitempty"`
	CRIDiscardUnpackedLayers     bool                 `yaml:"criDiscardUnpackedLayers"`
	KubeletExtraMounts           []KubeletMount       `yaml:"kubeletExtraMounts,omitempty"`
	KernelModules                []KernelModule       `yaml:"kernelModules,omitempty"`
	ApplyMode                    string               `yaml:"applyMode,omitempty" jsonschema:"enum=auto,enum=reboot,enum=no_reboot,enum=staged,enum=staged_if_needing_reboot"`
	StagedAutomaticRebootEnabled bool                 `yaml:"stagedAutomaticRebootEnabled" jsonschema_description:"Reboot nodes one by one when a configuration was staged."`
	SysctlsExtraArgs             map[string]string    `yaml:"sysctlsExtraArgs,omitempty"`
	StatePartitionEncryption     bool                 `yaml:"statePartitionEncryption" jsonschema_description:"LUKS2-encrypt the STATE partition."`
	EphemeralPartitionEncryption bool                 `yaml:"ephemeralPartitionEncryption" jsonschema_description:"LUKS2-encrypt the EPHEMERAL partition."`
	IPv6Enabled                  bool                 `yaml:"ipv6Enabled"`
	PublicIPv4Enabled            bool                 `yaml:"publicIPv4Enabled"`
	PublicIPv6Enabled            bool                 `yaml:"publicIPv6Enabled"`
	ExtraRoutes                  []string             `yaml:"extraRoutes,omitempty" jsonschema_description:"IPv4 CIDRs routed over the private network's gateway."`
	Certificates                 map[string][]string  `yaml:"certificates,omitempty" jsonschema_description:"Trusted root certificates (PEM), one TrustedRootsConfig per name."`
	CoreDNSEnabled               bool                 `yaml:"coreDNSEnabled"`
	Nameservers                  []string             `yaml:"nameservers,omitempty"`
	StaticHosts                  []StaticHost         `yaml:"staticHosts,omitempty"`
	NTPServers                   []string             `yaml:"ntpServers,omitempty"`
	Registries                   map[string]any       `yaml:"registries,omitempty" jsonschema_description:"machine.registries, passed through verbatim."`
	LoggingDestinations          []LoggingDestination `yaml:"loggingDestinations,omitempty"`
	ExtraInlineManifests         []InlineManifest     `yaml:"extraInlineManifests,omitempty"`
	ExtraRemoteManifests         []string             `yaml:"extraRemoteManifests,omitempty"`
	ConfigPatches                ConfigPatches        `yaml:"configPatches,omitempty" jsonschema_description:"Talos config patches applied after all of hcloud-k8s's own."`
}

// TalosUpgrade holds the talos_upgrade_* variables.
type TalosUpgrade struct {
	Debug      bool   `yaml:"debug"`
	Force      bool   `yaml:"force" jsonschema_description:"Skip etcd health checks during upgrades."`
	Insecure   bool   `yaml:"insecure"`
	RebootMode string `yaml:"rebootMode,omitempty" jsonschema:"enum=default,enum=powercycle"`
	Stage      bool   `yaml:"stage"`
}

// TalosReboot holds the talos_reboot_* variables.
type TalosReboot struct {
	Debug bool   `yaml:"debug"`
	Mode  string `yaml:"mode,omitempty" jsonschema:"enum=default,enum=powercycle,enum=force"`
}

// TalosDiscovery holds the talos_discovery_* variables.
type TalosDiscovery struct {
	KubernetesEnabled bool `yaml:"kubernetesEnabled"`
	ServiceEnabled    bool `yaml:"serviceEnabled"`
}

// KubeletMount is one entry of talos.kubeletExtraMounts.
type KubeletMount struct {
	Source      string   `yaml:"source" jsonschema:"required"`
	Destination string   `yaml:"destination,omitempty" jsonschema_description:"Unset: same as source."`
	Type        string   `yaml:"type,omitempty"`
	Options     []string `yaml:"options,omitempty"`
}

// KernelModule is one entry of talos.kernelModules.
type KernelModule struct {
	Name       string   `yaml:"name" jsonschema:"required"`
	Parameters []string `yaml:"parameters,omitempty"`
}

// StaticHost is one entry of talos.staticHosts.
type StaticHost struct {
	IP        string   `yaml:"ip" jsonschema:"required"`
	Hostnames []string `yaml:"hostnames" jsonschema:"required"`
}

// LoggingDestination is one entry of talos.loggingDestinations.
type LoggingDestination struct {
	Endpoint  string            `yaml:"endpoint" jsonschema:"required"`
	Format    string            `yaml:"format,omitempty"`
	ExtraTags map[string]string `yaml:"extraTags,omitempty"`
}

// InlineManifest is one entry of talos.extraInlineManifests.
type InlineManifest struct {
	Name     string `yaml:"name" jsonschema:"required"`
	Contents string `yaml:"contents" jsonschema:"required"`
}

// ConfigPatches are user Talos patches per node role, applied last.
type ConfigPatches struct {
	ControlPlane []map[string]any `yaml:"controlPlane,omitempty"`
	Worker       []map[string]any `yaml:"worker,omitempty"`
	Autoscaler   []map[string]any `yaml:"autoscaler,omitempty"`
}

// Backup holds the talos_backup_* variables.
type Backup struct {
	Enabled            bool     `yaml:"enabled" jsonschema_description:"Deploy the backup CronJob (suspended while no bucket is configured)."`
	Version            string   `yaml:"version,omitempty"`
	Schedule           string   `yaml:"schedule,omitempty"`
	S3                 BackupS3 `yaml:"s3,omitempty"`
	AgeX25519PublicKey string   `yaml:"ageX25519PublicKey,omitempty" jsonschema_description:"Encrypt backups to this age key; unset disables encryption."`
	EnableCompression  bool     `yaml:"enableCompression"`
}

// BackupS3 is the backup target. The keys are secrets: they are never printed.
type BackupS3 struct {
	HcloudURL string `yaml:"hcloudURL,omitempty" jsonschema_description:"https://<bucket>.<region>.your-objectstorage.com; sets bucket, region and endpoint."`
	Region    string `yaml:"region,omitempty"`
	Endpoint  string `yaml:"endpoint,omitempty"`
	Bucket    string `yaml:"bucket,omitempty"`
	Prefix    string `yaml:"prefix,omitempty"`
	PathStyle bool   `yaml:"pathStyle"`
	AccessKey string `yaml:"accessKey,omitempty"`
	SecretKey string `yaml:"secretKey,omitempty"`
}

// Kubernetes holds the kubernetes_* variables.
type Kubernetes struct {
	Version            string            `yaml:"version,omitempty" jsonschema_description:"Kubernetes version, e.g. v1.34.10."`
	KubeletExtraArgs   map[string]string `yaml:"kubeletExtraArgs,omitempty"`
	KubeletExtraConfig map[string]any    `yaml:"kubeletExtraConfig,omitempty"`
	Images             KubernetesImages  `yaml:"images,omitempty" jsonschema_description:"Image repositories (without tag) overriding the defaults; the Kubernetes version is the tag."`
}

// KubernetesImages are custom component image repositories.
type KubernetesImages struct {
	APIServer         string `yaml:"apiServer,omitempty"`
	ControllerManager string `yaml:"controllerManager,omitempty"`
	Scheduler         string `yaml:"scheduler,omitempty"`
	Proxy             string `yaml:"proxy,omitempty"`
	Kubelet           string `yaml:"kubelet,omitempty"`
	Etcd              string `yaml:"etcd,omitempty" jsonschema_description:"Full etcd image reference with :tag and/or @sha256: digest."`
}

// KubeAPI holds the kube_api_* variables.
type KubeAPI struct {
	Hostname         string            `yaml:"hostname,omitempty" jsonschema_description:"Preferred external API host name; added to certificate SANs and to every node's hosts file."`
	LoadBalancer     KubeAPILB         `yaml:"loadBalancer,omitempty"`
	ExtraArgs        map[string]string `yaml:"extraArgs,omitempty"`
	AdmissionControl []map[string]any  `yaml:"admissionControl,omitempty"`
}

// KubeAPILB is the optional <cluster>-kube-api load balancer.
type KubeAPILB struct {
	Enabled              bool  `yaml:"enabled"`
	PublicNetworkEnabled *bool `yaml:"publicNetworkEnabled,omitempty" jsonschema_description:"Unset: true for public access."`
}

// Chart pins a Helm chart.
type Chart struct {
	Repository string `yaml:"repository,omitempty"`
	Name       string `yaml:"name,omitempty"`
	Version    string `yaml:"version,omitempty"`
}

// Addon holds what every Helm-based addon has.
type Addon struct {
	Enabled bool           `yaml:"enabled"`
	Chart   Chart          `yaml:"chart,omitempty"`
	Values  map[string]any `yaml:"values,omitempty" jsonschema_description:"Helm values merged over the ones hcloud-k8s computes."`
}

// Addons lists every component hcloud-k8s installs.
type Addons struct {
	TalosCCM                  Addon                     `yaml:"talosCCM,omitempty"`
	HcloudCCM                 HcloudCCM                 `yaml:"hcloudCCM,omitempty"`
	HcloudCSI                 HcloudCSI                 `yaml:"hcloudCSI,omitempty"`
	Longhorn                  Longhorn                  `yaml:"longhorn,omitempty"`
	Cilium                    Cilium                    `yaml:"cilium,omitempty"`
	MetricsServer             MetricsServer             `yaml:"metricsServer,omitempty"`
	CertManager               Addon                     `yaml:"certManager,omitempty"`
	CertManagerWebhookHetzner CertManagerWebhookHetzner `yaml:"certManagerWebhookHetzner,omitempty"`
	IngressNginx              IngressNginx              `yaml:"ingressNginx,omitempty"`
	ClusterAutoscaler         ClusterAutoscaler         `yaml:"clusterAutoscaler,omitempty"`
	OIDC                      OIDC                      `yaml:"oidc,omitempty"`
	RBAC                      RBAC                      `yaml:"rbac,omitempty"`
}

// HcloudCCM is the Hetzner cloud controller manager.
type HcloudCCM struct {
	Addon                `yaml:",inline"`
	LoadBalancers        CCMLoadBalancers `yaml:"loadBalancers,omitempty"`
	NetworkRoutesEnabled *bool            `yaml:"networkRoutesEnabled,omitempty"`
}

// CCMLoadBalancers are the defaults the CCM uses for Service load balancers.
type CCMLoadBalancers struct {
	Enabled               bool        `yaml:"enabled"`
	Location              string      `yaml:"location,omitempty" jsonschema:"enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin" jsonschema_description:"Unset: location of the first worker, autoscaler or control-plane pool."`
	DisablePrivateIngress bool        `yaml:"disablePrivateIngress"`
	UsePrivateIP          bool        `yaml:"usePrivateIP"`
	DisableIPv6           bool        `yaml:"disableIPv6"`
	Algorithm             string      `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections"`
	DisablePublicNetwork  bool        `yaml:"disablePublicNetwork"`
	HealthCheck           HealthCheck `yaml:"healthCheck,omitempty"`
	Type                  string      `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31"`
	UsesProxyProtocol     bool        `yaml:"usesProxyProtocol"`
}

// HcloudCSI is the Hetzner CSI driver.
type HcloudCSI struct {
	Addon                `yaml:",inline"`
	EncryptionPassphrase string            `yaml:"encryptionPassphrase,omitempty" jsonschema_description:"LUKS passphrase of encrypted volumes (8-512 printable ASCII). Unset: generated once."`
	StorageClasses       []StorageClass    `yaml:"storageClasses,omitempty"`
	VolumeExtraLabels    map[string]string `yaml:"volumeExtraLabels,omitempty"`
}

// StorageClass is one entry of addons.hcloudCSI.storageClasses.
type StorageClass struct {
	Name                string            `yaml:"name" jsonschema:"required"`
	Encrypted           bool              `yaml:"encrypted"`
	ReclaimPolicy       string            `yaml:"reclaimPolicy,omitempty" jsonschema:"enum=Delete,enum=Retain"`
	DefaultStorageClass bool              `yaml:"defaultStorageClass"`
	ExtraParameters     map[string]string `yaml:"extraParameters,omitempty"`
}

// Longhorn is the Longhorn storage system.
type Longhorn struct {
	Addon               `yaml:",inline"`
	DefaultStorageClass bool `yaml:"defaultStorageClass"`
}

// Cilium is the CNI.
type Cilium struct {
	Addon                       `yaml:",inline"`
	PolicyCIDRMatchMode         string           `yaml:"policyCIDRMatchMode,omitempty" jsonschema:"enum=,enum=nodes"`
	Encryption                  CiliumEncryption `yaml:"encryption,omitempty"`
	KubeProxyReplacementEnabled bool             `yaml:"kubeProxyReplacementEnabled"`
	SocketLBHostNamespaceOnly   bool             `yaml:"socketLBHostNamespaceOnly"`
	LoadBalancerAcceleration    string           `yaml:"loadBalancerAcceleration,omitempty" jsonschema:"enum=disabled,enum=native,enum=best-effort"`
	BPFHostLegacyRouting        *bool            `yaml:"bpfHostLegacyRouting,omitempty" jsonschema_description:"Unset: true iff IPsec encryption is used."`
	RoutingMode                 string           `yaml:"routingMode,omitempty" jsonschema:"enum=native,enum=tunnel" jsonschema_description:"Unset: native."`
	BPFDatapathMode             string           `yaml:"bpfDatapathMode,omitempty" jsonschema:"enum=veth,enum=netkit,enum=netkit-l2"`
	GatewayAPI                  CiliumGatewayAPI `yaml:"gatewayAPI,omitempty"`
	EgressGatewayEnabled        bool             `yaml:"egressGatewayEnabled"`
	ServiceMonitorEnabled       bool             `yaml:"serviceMonitorEnabled"`
	Hubble                      CiliumHubble     `yaml:"hubble,omitempty"`
}

// CiliumEncryption is transparent encryption between nodes.
type CiliumEncryption struct {
	Enabled bool        `yaml:"enabled"`
	Type    string      `yaml:"type,omitempty" jsonschema:"enum=wireguard,enum=ipsec"`
	IPsec   CiliumIPsec `yaml:"ipsec,omitempty"`
}

// CiliumIPsec configures IPsec keys; bump keyID to rotate.
type CiliumIPsec struct {
	Algorithm string `yaml:"algorithm,omitempty"`
	KeySize   int    `yaml:"keySize,omitempty" jsonschema:"enum=128,enum=192,enum=256"`
	KeyID     int    `yaml:"keyID,omitempty" jsonschema:"minimum=1,maximum=15"`
}

// CiliumGatewayAPI is Cilium's Gateway API implementation.
type CiliumGatewayAPI struct {
	Enabled               bool   `yaml:"enabled"`
	ProxyProtocolEnabled  bool   `yaml:"proxyProtocolEnabled"`
	ExternalTrafficPolicy string `yaml:"externalTrafficPolicy,omitempty" jsonschema:"enum=Cluster,enum=Local"`
}

// CiliumHubble is Cilium's observability layer.
type CiliumHubble struct {
	Enabled      bool `yaml:"enabled"`
	RelayEnabled bool `yaml:"relayEnabled"`
	UIEnabled    bool `yaml:"uiEnabled"`
}

// MetricsServer is the Kubernetes metrics server.
type MetricsServer struct {
	Addon                  `yaml:",inline"`
	ScheduleOnControlPlane *bool `yaml:"scheduleOnControlPlane,omitempty" jsonschema_description:"Unset: only when there are no workers."`
	Replicas               *int  `yaml:"replicas,omitempty" jsonschema:"minimum=1" jsonschema_description:"Unset: 2 when more than one node can host it, else 1."`
}

// CertManagerWebhookHetzner solves ACME DNS-01 challenges with Hetzner DNS.
type CertManagerWebhookHetzner struct {
	Addon     `yaml:",inline"`
	GroupName string `yaml:"groupName,omitempty"`
}

// IngressNginx is the (deprecated) ingress-nginx controller.
type IngressNginx struct {
	Addon                        `yaml:",inline"`
	DeprecationIgnored           bool              `yaml:"deprecationIgnored" jsonschema_description:"Must be true to enable ingress-nginx: the project is retired."`
	Kind                         string            `yaml:"kind,omitempty" jsonschema:"enum=Deployment,enum=DaemonSet"`
	Replicas                     *int              `yaml:"replicas,omitempty" jsonschema:"minimum=1" jsonschema_description:"Deployment only. Unset: 2 with fewer than 3 workers, else 3."`
	TopologyAwareRouting         bool              `yaml:"topologyAwareRouting"`
	ServiceExternalTrafficPolicy string            `yaml:"serviceExternalTrafficPolicy,omitempty" jsonschema:"enum=Cluster,enum=Local"`
	Config                       map[string]string `yaml:"config,omitempty" jsonschema_description:"Merged into the controller ConfigMap."`
}

// ClusterAutoscaler is the Kubernetes cluster autoscaler (Hetzner provider).
type ClusterAutoscaler struct {
	Addon            `yaml:",inline"`
	ImageTag         string `yaml:"imageTag,omitempty"`
	DiscoveryEnabled bool   `yaml:"discoveryEnabled" jsonschema_description:"Find autoscaled nodes through Talos so upgrades and config changes reach them too."`
	CleanupEnabled   bool   `yaml:"cleanupEnabled" jsonschema_description:"On destroy, also delete servers the autoscaler created."`
}

// OIDC configures API server OIDC authentication and group bindings.
type OIDC struct {
	Enabled       bool               `yaml:"enabled"`
	IssuerURL     string             `yaml:"issuerURL,omitempty"`
	ClientID      string             `yaml:"clientID,omitempty"`
	UsernameClaim string             `yaml:"usernameClaim,omitempty"`
	GroupsClaim   string             `yaml:"groupsClaim,omitempty"`
	GroupsPrefix  string             `yaml:"groupsPrefix,omitempty"`
	GroupMappings []OIDCGroupMapping `yaml:"groupMappings,omitempty"`
}

// OIDCGroupMapping binds an OIDC group to cluster roles and namespaced roles.
type OIDCGroupMapping struct {
	Group        string          `yaml:"group" jsonschema:"required"`
	ClusterRoles []string        `yaml:"clusterRoles,omitempty"`
	Roles        []NamespacedRef `yaml:"roles,omitempty"`
}

// NamespacedRef names a Role.
type NamespacedRef struct {
	Name      string `yaml:"name" jsonschema:"required"`
	Namespace string `yaml:"namespace" jsonschema:"required"`
}

// RBAC creates Roles and ClusterRoles.
type RBAC struct {
	Roles        []Role        `yaml:"roles,omitempty"`
	ClusterRoles []ClusterRole `yaml:"clusterRoles,omitempty"`
}

// Role is a namespaced RBAC role.
type Role struct {
	Name      string       `yaml:"name" jsonschema:"required"`
	Namespace string       `yaml:"namespace" jsonschema:"required"`
	Rules     []PolicyRule `yaml:"rules" jsonschema:"required"`
}

// ClusterRole is a cluster-wide RBAC role.
type ClusterRole struct {
	Name  string       `yaml:"name" jsonschema:"required"`
	Rules []PolicyRule `yaml:"rules" jsonschema:"required"`
}

// PolicyRule is one RBAC rule.
type PolicyRule struct {
	APIGroups []string `yaml:"apiGroups"`
	Resources []string `yaml:"resources"`
	Verbs     []string `yaml:"verbs"`
}

// CRDs are the CRD bundles.
type CRDs struct {
	GatewayAPI         GatewayAPICRDs `yaml:"gatewayAPI,omitempty"`
	PrometheusOperator CRDBundle      `yaml:"prometheusOperator,omitempty"`
}

// CRDBundle is a versioned set of CRDs.
type CRDBundle struct {
	Enabled bool   `yaml:"enabled"`
	Version string `yaml:"version,omitempty"`
}

// GatewayAPICRDs are the Gateway API CRDs.
type GatewayAPICRDs struct {
	CRDBundle      `yaml:",inline"`
	ReleaseChannel string `yaml:"releaseChannel,omitempty" jsonschema:"enum=standard,enum=experimental"`
}
