package config

// The types in this file are the cluster file. Their yaml tags are the file's keys,
// their jsonschema tags feed `hcloud-k8s schema` and docs/cluster-file.md (regenerate
// it with `go test ./internal/cli -run TestClusterFileReferenceIsCurrent -update`),
// and Default() gives every field the value the Terraform module gives the matching
// variable. Every key has a jsonschema_description; a key that has no effect yet says
// so there ("Accepted, not used yet"). Pointer fields are the module's nullable
// variables: nil means "derive it" (see resolve.go), so they must not be given a
// default here.

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
	AutoscalerNodepools   []AutoscalerPool    `yaml:"autoscalerNodepools,omitempty" jsonschema_description:"Node pools the cluster autoscaler scales between min and max (needs addons.clusterAutoscaler.enabled). Their subnets, ingress load balancer targets and destroy cleanup are made by hcloud-k8s; their servers by the autoscaler."`
	IngressLoadBalancer   IngressLoadBalancer `yaml:"ingressLoadBalancer,omitempty" jsonschema_description:"Hetzner load balancers for ingress traffic: the single <cluster>-ingress load balancer (when addons.ingressNginx.enabled is set and no pools are listed) or the load balancers of pools."`
	Images                Images              `yaml:"images,omitempty" jsonschema_description:"How the Talos snapshot of each architecture is found or built."`
	Talos                 Talos               `yaml:"talos,omitempty" jsonschema_description:"Talos Linux machine configuration."`
	Backup                Backup              `yaml:"backup,omitempty" jsonschema_description:"Scheduled etcd backups to S3 with talos-backup, a CronJob in kube-system. Installed with the addons."`
	Kubernetes            Kubernetes          `yaml:"kubernetes,omitempty" jsonschema_description:"Kubernetes version, kubelet and component images."`
	KubeAPI               KubeAPI             `yaml:"kubeAPI,omitempty" jsonschema_description:"How the Kubernetes API is reached."`
	Addons                Addons              `yaml:"addons,omitempty" jsonschema_description:"Components the Terraform module installs into the cluster with Helm, one key per component. apply renders their charts and applies them through the Kubernetes API (docs/addons.md); an addon switched off is removed."`
	CRDs                  CRDs                `yaml:"crds,omitempty" jsonschema_description:"CRD bundles hcloud-k8s downloads (from the module's URLs, or the chart mirror) and applies before the addons; switching one off removes its CRDs."`
}

// ClusterSettings holds the module's cluster_* variables.
type ClusterSettings struct {
	Name                           string `yaml:"name" jsonschema:"required" jsonschema_description:"Cluster name: prefix of every resource name and value of the cluster label. 1-32 lowercase letters, digits and dashes."`
	Domain                         string `yaml:"domain,omitempty" jsonschema_description:"Kubernetes cluster DNS domain (cluster.network.dnsDomain); also {{ cluster-domain }} in reverse DNS templates."`
	RDNS                           string `yaml:"rdns,omitempty" jsonschema_description:"Reverse DNS template for public IPv4 and IPv6 (placeholders {{ cluster-domain }}, {{ cluster-name }}, {{ hostname }}, {{ id }}, {{ ip-labels }}, {{ ip-type }}, {{ pool }}, {{ role }})."`
	RDNSIPv4                       string `yaml:"rdnsIPv4,omitempty" jsonschema_description:"Reverse DNS template for IPv4 only; wins over rdns."`
	RDNSIPv6                       string `yaml:"rdnsIPv6,omitempty" jsonschema_description:"Reverse DNS template for IPv6 only; wins over rdns."`
	Access                         string `yaml:"access,omitempty" jsonschema:"enum=public,enum=private" jsonschema_description:"Reach the Talos and Kubernetes APIs over public or private IPs. private: the talosconfig and kubeconfig use private addresses, so this machine needs a route into the Hetzner network."`
	KubeconfigPath                 string `yaml:"kubeconfigPath,omitempty" jsonschema_description:"Also write the kubeconfig to this path (mode 0600)."`
	TalosconfigPath                string `yaml:"talosconfigPath,omitempty" jsonschema_description:"Also write the talosconfig to this path (mode 0600)."`
	HealthcheckEnabled             bool   `yaml:"healthcheckEnabled" jsonschema_description:"Wait for cluster health after changes. Accepted, not used yet. hcloud-k8s always waits for etcd, the API server and every node to be Ready."`
	DeleteProtection               bool   `yaml:"deleteProtection" jsonschema_description:"Enable Hetzner delete protection on the network, floating IP, load balancers (except ingress pool load balancers) and servers (servers also get rebuild protection)."`
	AllowSchedulingOnControlPlanes *bool  `yaml:"allowSchedulingOnControlPlanes,omitempty" jsonschema_description:"Let workloads run on control planes. Unset: true only when there are no workers and no autoscaler capacity."`
}

// Network holds the network_* variables. Unset ranges follow the module's formulas.
type Network struct {
	IPv4CIDR               string `yaml:"ipv4CIDR,omitempty" jsonschema_description:"Range of the Hetzner network; every other range and subnet is derived from it. With existingNetworkID, set it to that network's range: hcloud-k8s does not read the range from the network yet."`
	NodeIPv4CIDR           string `yaml:"nodeIPv4CIDR,omitempty" jsonschema_description:"Range node subnets are carved from. Unset: cidrsubnet(ipv4CIDR, 3, 2)."`
	NodeIPv4SubnetMaskSize *int   `yaml:"nodeIPv4SubnetMaskSize,omitempty" jsonschema:"minimum=1,maximum=30" jsonschema_description:"Prefix length of each node subnet. Unset: 32 - (24 - pod CIDR prefix)."`
	ServiceIPv4CIDR        string `yaml:"serviceIPv4CIDR,omitempty" jsonschema_description:"Service ClusterIP range. Unset: cidrsubnet(ipv4CIDR, b, 3*2^(b-3)) with b = max(3, 12 - prefix of ipv4CIDR), 10.0.96.0/19 for a /16."`
	PodIPv4CIDR            string `yaml:"podIPv4CIDR,omitempty" jsonschema_description:"Pod range (one /24 per node). Unset: cidrsubnet(ipv4CIDR, 1, 1)."`
	NativeRoutingIPv4CIDR  string `yaml:"nativeRoutingIPv4CIDR,omitempty" jsonschema_description:"Cilium ipv4NativeRoutingCIDR. Unset: ipv4CIDR."`
	ExistingNetworkID      int64  `yaml:"existingNetworkID,omitempty" jsonschema_description:"Use this existing Hetzner network instead of creating one; it is never changed or deleted."`
	ExposeRoutesToVSwitch  bool   `yaml:"exposeRoutesToVSwitch" jsonschema_description:"Set expose_routes_to_vswitch on the created network, so that a Robot vSwitch coupled to it learns its routes."`
}

// Firewall holds the firewall_* variables.
type Firewall struct {
	UseCurrentIPv4     *bool          `yaml:"useCurrentIPv4,omitempty" jsonschema_description:"Allow the caller's public IPv4 (/32) to the Kube and Talos APIs. Unset: true for public access without explicit API sources."`
	UseCurrentIPv6     *bool          `yaml:"useCurrentIPv6,omitempty" jsonschema_description:"Allow the caller's public IPv6 /64. Unset: like useCurrentIPv4."`
	APISource          []string       `yaml:"apiSource,omitempty" jsonschema_description:"CIDRs allowed to both the Kube API (6443) and the Talos API (50000)."`
	KubeAPISource      []string       `yaml:"kubeAPISource,omitempty" jsonschema_description:"CIDRs allowed to the Kube API; wins over apiSource."`
	TalosAPISource     []string       `yaml:"talosAPISource,omitempty" jsonschema_description:"CIDRs allowed to the Talos API; wins over apiSource."`
	ExtraRules         []FirewallRule `yaml:"extraRules,omitempty" jsonschema_description:"Additional firewall rules. An extra rule with the same direction, protocol and port as one of the two API rules is replaced by it."`
	ExistingFirewallID int64          `yaml:"existingFirewallID,omitempty" jsonschema_description:"Attach this existing firewall instead of creating one."`
}

// FirewallRule is one entry of firewall.extraRules.
type FirewallRule struct {
	Description    string   `yaml:"description" jsonschema:"required" jsonschema_description:"Description of the rule, shown in the Hetzner console."`
	Direction      string   `yaml:"direction" jsonschema:"required,enum=in,enum=out" jsonschema_description:"in: incoming traffic, matched by sourceIPs; out: outgoing traffic, matched by destinationIPs."`
	SourceIPs      []string `yaml:"sourceIPs,omitempty" jsonschema_description:"Only for direction in. Empty: any address."`
	DestinationIPs []string `yaml:"destinationIPs,omitempty" jsonschema_description:"Only for direction out. Empty: any address."`
	Protocol       string   `yaml:"protocol" jsonschema:"required,enum=tcp,enum=udp,enum=icmp,enum=gre,enum=esp" jsonschema_description:"IP protocol the rule matches."`
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
	Location    string            `yaml:"location" jsonschema:"required,enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin" jsonschema_description:"Hetzner location of the pool's servers. All pools must be in the network zone of the first control-plane pool."`
	Type        string            `yaml:"type" jsonschema:"required" jsonschema_description:"Hetzner server type, e.g. cpx22 or cax21 (cax types run arm64)."`
	Labels      map[string]string `yaml:"labels,omitempty" jsonschema_description:"Kubernetes node labels (nodepool=<name> is added). For servers hcloud-k8s creates they are also Hetzner labels of the servers."`
	Annotations map[string]string `yaml:"annotations,omitempty" jsonschema_description:"Kubernetes node annotations."`
	Taints      []string          `yaml:"taints,omitempty" jsonschema_description:"Taints as key[=value]:Effect."`
}

// ServerPool holds the fields of pools whose servers hcloud-k8s creates itself.
type ServerPool struct {
	Nodepool `yaml:",inline"`
	Count    int    `yaml:"count" jsonschema:"minimum=0" jsonschema_description:"Number of servers; they are named <cluster>-<pool>-1 to -<count>."`
	Backups  bool   `yaml:"backups" jsonschema_description:"Enable Hetzner backups."`
	KeepDisk bool   `yaml:"keepDisk" jsonschema_description:"Keep the disk size when the server type changes, so it can be downgraded again. Accepted, not used yet. hcloud-k8s does not change server types yet."`
	RDNS     string `yaml:"rdns,omitempty" jsonschema_description:"Reverse DNS template for this pool's public IPv4 and IPv6 (placeholders as in cluster.rdns); wins over the cluster's templates."`
	RDNSIPv4 string `yaml:"rdnsIPv4,omitempty" jsonschema_description:"Reverse DNS template for this pool's public IPv4; wins over rdns and the cluster's templates."`
	RDNSIPv6 string `yaml:"rdnsIPv6,omitempty" jsonschema_description:"Reverse DNS template for this pool's public IPv6; wins over rdns and the cluster's templates."`
	// FallbackLocations and PlacementGroupFallback are hcloud-k8s's own: the
	// module has no capacity fallback.
	FallbackLocations      []string `yaml:"fallbackLocations,omitempty" jsonschema_description:"Where to create this pool's new servers, in this order, when Hetzner has no stock of its type in location. All must be in location's network zone. Off by default: without it, a sold-out type stops plan and apply before anything is created, and the error names the locations that have stock. Servers that exist stay where they are."`
	PlacementGroupFallback string   `yaml:"placementGroupFallback,omitempty" jsonschema:"enum=keep,enum=none" jsonschema_description:"What a server created in a fallback location does about the pool's placement group: keep (the default) joins it as usual; none creates the server without one, so that a location with few free hosts can still take it."`
}

// The values of ServerPool.PlacementGroupFallback; "" means keep.
const (
	PlacementGroupFallbackKeep = "keep"
	PlacementGroupFallbackNone = "none"
)

// ControlPlanePool is one entry of controlPlaneNodepools.
type ControlPlanePool struct {
	ServerPool `yaml:",inline"`
}

// WorkerPool is one entry of workerNodepools.
type WorkerPool struct {
	ServerPool     `yaml:",inline"`
	Subnet         string `yaml:"subnet,omitempty" jsonschema_description:"Pin the pool to one of the pinned worker subnets that validate lists; its servers then get fixed IPs (host 1, 2, ...). Unset: the shared worker subnet. Treat it as immutable."`
	PlacementGroup bool   `yaml:"placementGroup" jsonschema_description:"Spread the pool over placement groups of at most 10 servers."`
}

// AutoscalerPool is one entry of autoscalerNodepools.
type AutoscalerPool struct {
	Nodepool `yaml:",inline"`
	Subnet   string `yaml:"subnet,omitempty" jsonschema_description:"Pin the pool to one of the pinned worker subnets not used by a worker pool; unset: the shared autoscaler subnet. The subnet is created today; the autoscaler that would use it is not installed yet."`
	Min      int    `yaml:"min" jsonschema:"minimum=0" jsonschema_description:"Fewest servers the autoscaler keeps in the pool."`
	Max      int    `yaml:"max" jsonschema:"required,minimum=0" jsonschema_description:"Most servers the autoscaler creates in the pool. Also counts towards the default of cluster.allowSchedulingOnControlPlanes."`
}

// HealthCheck is a load balancer health check schedule, in seconds.
type HealthCheck struct {
	Interval int `yaml:"interval" jsonschema:"minimum=3,maximum=60" jsonschema_description:"Seconds between health checks."`
	Retries  int `yaml:"retries" jsonschema:"minimum=0,maximum=5" jsonschema_description:"Failed checks before a target counts as unhealthy."`
	Timeout  int `yaml:"timeout" jsonschema:"minimum=1" jsonschema_description:"Seconds a check may take; at most interval."`
}

// IngressLoadBalancer holds the ingress_load_balancer_* variables.
type IngressLoadBalancer struct {
	Type                 string        `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31" jsonschema_description:"Hetzner load balancer type of the ingress load balancers."`
	Algorithm            string        `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections" jsonschema_description:"Balancing algorithm of the ingress load balancers."`
	PublicNetworkEnabled bool          `yaml:"publicNetworkEnabled" jsonschema_description:"Give the ingress load balancers a public interface."`
	HealthCheck          HealthCheck   `yaml:"healthCheck,omitempty" jsonschema_description:"Health check of the pool load balancers' services (80 to 30000, 443 to 30001). The services of the single <cluster>-ingress load balancer belong to the Hetzner CCM, which is not installed yet."`
	RDNS                 string        `yaml:"rdns,omitempty" jsonschema_description:"Reverse DNS template for the ingress load balancers' IPv4 and IPv6; wins over cluster.rdns."`
	RDNSIPv4             string        `yaml:"rdnsIPv4,omitempty" jsonschema_description:"Reverse DNS template for the ingress load balancers' IPv4; wins over rdns and the cluster's templates."`
	RDNSIPv6             string        `yaml:"rdnsIPv6,omitempty" jsonschema_description:"Reverse DNS template for the ingress load balancers' IPv6; wins over rdns and the cluster's templates."`
	Pools                []IngressPool `yaml:"pools,omitempty" jsonschema_description:"Geo-redundant load balancer pools; replace the single <cluster>-ingress load balancer."`
}

// IngressPool is one entry of ingressLoadBalancer.pools.
type IngressPool struct {
	Name                 string            `yaml:"name" jsonschema:"required" jsonschema_description:"Pool name; its load balancers are named <cluster>-<name>-<n>."`
	Location             string            `yaml:"location" jsonschema:"required,enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin" jsonschema_description:"Hetzner location of the pool's load balancers."`
	Type                 string            `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31" jsonschema_description:"Unset: ingressLoadBalancer.type."`
	Labels               map[string]string `yaml:"labels,omitempty" jsonschema_description:"Hetzner labels of the pool's load balancers (pool, cluster and role=ingress are added)."`
	Count                int               `yaml:"count" jsonschema:"minimum=0" jsonschema_description:"Number of load balancers in the pool."`
	TargetLabelSelector  []string          `yaml:"targetLabelSelector,omitempty" jsonschema_description:"Label selectors of the targets; empty: every node pool that may receive ingress traffic."`
	LocalTraffic         bool              `yaml:"localTraffic" jsonschema_description:"Only target node pools in the same location."`
	Algorithm            string            `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections" jsonschema_description:"Unset: ingressLoadBalancer.algorithm."`
	PublicNetworkEnabled *bool             `yaml:"publicNetworkEnabled,omitempty" jsonschema_description:"Unset: ingressLoadBalancer.publicNetworkEnabled."`
	RDNS                 string            `yaml:"rdns,omitempty" jsonschema_description:"Reverse DNS template for this pool's load balancers; wins over the ingressLoadBalancer and cluster templates."`
	RDNSIPv4             string            `yaml:"rdnsIPv4,omitempty" jsonschema_description:"Reverse DNS template for this pool's IPv4; wins over rdns and the ingressLoadBalancer and cluster templates."`
	RDNSIPv6             string            `yaml:"rdnsIPv6,omitempty" jsonschema_description:"Reverse DNS template for this pool's IPv6; wins over rdns and the ingressLoadBalancer and cluster templates."`
}

// Images holds the packer_* and talos_cloud_*_image_* variables.
type Images struct {
	AMD64 ImageBuild `yaml:"amd64,omitempty" jsonschema_description:"Snapshot for servers of amd64 types (every type except cax)."`
	ARM64 ImageBuild `yaml:"arm64,omitempty" jsonschema_description:"Snapshot for servers of arm64 types (cax)."`
}

// ImageBuild says how the snapshot of one architecture is found or built.
type ImageBuild struct {
	BuildEnabled bool    `yaml:"buildEnabled" jsonschema_description:"Build the snapshot when none matches; otherwise apply stops if none is found."`
	Selector     string  `yaml:"selector,omitempty" jsonschema:"enum=exact,enum=latest" jsonschema_description:"exact: match cluster, Talos version and schematic; latest: newest Talos snapshot of this cluster."`
	Builder      Builder `yaml:"builder,omitempty" jsonschema_description:"Temporary server used to build the snapshot."`
}

// Builder is the temporary server an image is built on.
type Builder struct {
	ServerType string `yaml:"serverType,omitempty" jsonschema_description:"Server type of the temporary build server; it must have the snapshot's architecture."`
	Location   string `yaml:"location,omitempty" jsonschema:"enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin" jsonschema_description:"Location of the temporary build server."`
}

// Talos holds the talos_* variables.
type Talos struct {
	Version                      string               `yaml:"version,omitempty" jsonschema_description:"Talos Linux version, e.g. v1.13.9: version contract of the machine configuration, image and installer."`
	SchematicID                  string               `yaml:"schematicID,omitempty" jsonschema_description:"Use this Image Factory schematic instead of computing one."`
	ImageExtensions              []string             `yaml:"imageExtensions,omitempty" jsonschema_description:"Extra official extensions, e.g. siderolabs/tailscale."`
	ExtraKernelArgs              []string             `yaml:"extraKernelArgs,omitempty" jsonschema_description:"Extra kernel arguments, added to the Image Factory schematic."`
	Upgrade                      TalosUpgrade         `yaml:"upgrade,omitempty" jsonschema_description:"How Talos upgrades run. Accepted, not used yet. The upgrade command is not implemented yet."`
	Reboot                       TalosReboot          `yaml:"reboot,omitempty" jsonschema_description:"How the reboots after staged configuration changes run. Accepted, not used yet."`
	Discovery                    TalosDiscovery       `yaml:"discovery,omitempty" jsonschema_description:"Talos cluster discovery registries (cluster.discovery)."`
	CRIDiscardUnpackedLayers     bool                 `yaml:"criDiscardUnpackedLayers" jsonschema_description:"Let containerd discard unpacked image layers (the Talos default); false adds a containerd configuration file that keeps them."`
	KubeletExtraMounts           []KubeletMount       `yaml:"kubeletExtraMounts,omitempty" jsonschema_description:"Extra kubelet mounts (machine.kubelet.extraMounts)."`
	KernelModules                []KernelModule       `yaml:"kernelModules,omitempty" jsonschema_description:"Kernel modules to load (machine.kernel.modules)."`
	ApplyMode                    string               `yaml:"applyMode,omitempty" jsonschema:"enum=auto,enum=reboot,enum=no_reboot,enum=staged,enum=staged_if_needing_reboot" jsonschema_description:"Talos apply mode for configuration changes on running nodes; staged_if_needing_reboot stages a change only when it needs a reboot."`
	StagedAutomaticRebootEnabled bool                 `yaml:"stagedAutomaticRebootEnabled" jsonschema_description:"Reboot nodes one by one when a configuration was staged."`
	SysctlsExtraArgs             map[string]string    `yaml:"sysctlsExtraArgs,omitempty" jsonschema_description:"Extra sysctls, merged over the module's (machine.sysctls)."`
	StatePartitionEncryption     bool                 `yaml:"statePartitionEncryption" jsonschema_description:"LUKS2-encrypt the STATE partition."`
	EphemeralPartitionEncryption bool                 `yaml:"ephemeralPartitionEncryption" jsonschema_description:"LUKS2-encrypt the EPHEMERAL partition."`
	IPv6Enabled                  bool                 `yaml:"ipv6Enabled" jsonschema_description:"Enable IPv6 in the kernel; false also drops IPv6 nameservers and keeps the caller's IPv6 out of the firewall."`
	PublicIPv4Enabled            bool                 `yaml:"publicIPv4Enabled" jsonschema_description:"Give servers a public IPv4 and configure DHCPv4 on the public link."`
	PublicIPv6Enabled            bool                 `yaml:"publicIPv6Enabled" jsonschema_description:"Give servers a public IPv6 /64."`
	ExtraRoutes                  []string             `yaml:"extraRoutes,omitempty" jsonschema_description:"IPv4 CIDRs routed over the private network's gateway."`
	Certificates                 map[string][]string  `yaml:"certificates,omitempty" jsonschema_description:"Trusted root certificates (PEM), one TrustedRootsConfig per name."`
	CoreDNSEnabled               bool                 `yaml:"coreDNSEnabled" jsonschema_description:"Run CoreDNS (cluster.coreDNS)."`
	Nameservers                  []string             `yaml:"nameservers,omitempty" jsonschema_description:"DNS servers of the nodes (ResolverConfig); the defaults are Hetzner's."`
	StaticHosts                  []StaticHost         `yaml:"staticHosts,omitempty" jsonschema_description:"Extra host entries on every node (StaticHostConfig)."`
	NTPServers                   []string             `yaml:"ntpServers,omitempty" jsonschema_description:"NTP servers of the nodes (TimeSyncConfig); the defaults are Hetzner's."`
	Registries                   map[string]any       `yaml:"registries,omitempty" jsonschema_description:"machine.registries, passed through verbatim."`
	LoggingDestinations          []LoggingDestination `yaml:"loggingDestinations,omitempty" jsonschema_description:"Where Talos sends its service logs (machine.logging.destinations)."`
	ExtraInlineManifests         []InlineManifest     `yaml:"extraInlineManifests,omitempty" jsonschema_description:"Kubernetes manifests embedded in the control planes' configuration and applied by Talos at bootstrap (cluster.inlineManifests)."`
	ExtraRemoteManifests         []string             `yaml:"extraRemoteManifests,omitempty" jsonschema_description:"URLs of manifests hcloud-k8s downloads and applies after the addons (pruned like an addon when removed). A chart mirror serves them below <mirror>/manifests/<host>/<path>."`
	ConfigPatches                ConfigPatches        `yaml:"configPatches,omitempty" jsonschema_description:"Talos config patches applied after all of hcloud-k8s's own."`
}

// TalosUpgrade holds the talos_upgrade_* variables.
type TalosUpgrade struct {
	Debug      bool   `yaml:"debug" jsonschema_description:"Verbose upgrade output. Accepted, not used yet."`
	Force      bool   `yaml:"force" jsonschema_description:"Skip etcd health checks during upgrades. Accepted, not used yet."`
	Insecure   bool   `yaml:"insecure" jsonschema_description:"Upgrade over the insecure maintenance API. Accepted, not used yet."`
	RebootMode string `yaml:"rebootMode,omitempty" jsonschema:"enum=default,enum=powercycle" jsonschema_description:"Reboot mode of upgrades; powercycle does a full power cycle. Accepted, not used yet."`
	Stage      bool   `yaml:"stage" jsonschema_description:"Stage the upgrade and apply it at the next reboot. Accepted, not used yet."`
}

// TalosReboot holds the talos_reboot_* variables.
type TalosReboot struct {
	Debug bool   `yaml:"debug" jsonschema_description:"Verbose reboot output. Accepted, not used yet."`
	Mode  string `yaml:"mode,omitempty" jsonschema:"enum=default,enum=powercycle,enum=force" jsonschema_description:"Reboot mode; powercycle does a full power cycle, force skips the graceful shutdown. Accepted, not used yet."`
}

// TalosDiscovery holds the talos_discovery_* variables.
type TalosDiscovery struct {
	KubernetesEnabled bool `yaml:"kubernetesEnabled" jsonschema_description:"Use the Kubernetes registry for discovery (by default it does not work with Kubernetes 1.32 and later)."`
	ServiceEnabled    bool `yaml:"serviceEnabled" jsonschema_description:"Use Sidero Labs' public discovery service."`
}

// KubeletMount is one entry of talos.kubeletExtraMounts.
type KubeletMount struct {
	Source      string   `yaml:"source" jsonschema:"required" jsonschema_description:"Host path to mount."`
	Destination string   `yaml:"destination,omitempty" jsonschema_description:"Unset: same as source."`
	Type        string   `yaml:"type,omitempty" jsonschema_description:"Mount type."`
	Options     []string `yaml:"options,omitempty" jsonschema_description:"Mount options."`
}

// KernelModule is one entry of talos.kernelModules.
type KernelModule struct {
	Name       string   `yaml:"name" jsonschema:"required" jsonschema_description:"Kernel module name."`
	Parameters []string `yaml:"parameters,omitempty" jsonschema_description:"Module parameters, e.g. foo=bar."`
}

// StaticHost is one entry of talos.staticHosts.
type StaticHost struct {
	IP        string   `yaml:"ip" jsonschema:"required" jsonschema_description:"IP address the host names resolve to."`
	Hostnames []string `yaml:"hostnames" jsonschema:"required" jsonschema_description:"Host names for ip."`
}

// LoggingDestination is one entry of talos.loggingDestinations.
type LoggingDestination struct {
	Endpoint  string            `yaml:"endpoint" jsonschema:"required" jsonschema_description:"Log receiver, e.g. tcp://10.0.1.5:5044 or udp://10.0.1.5:5044."`
	Format    string            `yaml:"format,omitempty" jsonschema_description:"Log format."`
	ExtraTags map[string]string `yaml:"extraTags,omitempty" jsonschema_description:"Extra fields added to every log entry."`
}

// InlineManifest is one entry of talos.extraInlineManifests.
type InlineManifest struct {
	Name     string `yaml:"name" jsonschema:"required" jsonschema_description:"Unique manifest name."`
	Contents string `yaml:"contents" jsonschema:"required" jsonschema_description:"The manifest's YAML (one or more documents)."`
}

// ConfigPatches are user Talos patches per node role, applied last.
type ConfigPatches struct {
	ControlPlane []map[string]any `yaml:"controlPlane,omitempty" jsonschema_description:"Patches for control-plane nodes."`
	Worker       []map[string]any `yaml:"worker,omitempty" jsonschema_description:"Patches for worker nodes."`
	Autoscaler   []map[string]any `yaml:"autoscaler,omitempty" jsonschema_description:"Patches for the nodes of autoscaler pools."`
}

// Backup holds the talos_backup_* variables.
type Backup struct {
	Enabled            bool     `yaml:"enabled" jsonschema_description:"Deploy the backup CronJob (suspended while no bucket is configured). Accepted, not used yet."`
	Version            string   `yaml:"version,omitempty" jsonschema_description:"talos-backup image tag (ghcr.io/siderolabs/talos-backup). Accepted, not used yet."`
	Schedule           string   `yaml:"schedule,omitempty" jsonschema_description:"Cron schedule of the backup job. Accepted, not used yet."`
	S3                 BackupS3 `yaml:"s3,omitempty" jsonschema_description:"The S3 bucket backups go to. The keys are secrets and are never printed. Accepted, not used yet."`
	AgeX25519PublicKey string   `yaml:"ageX25519PublicKey,omitempty" jsonschema_description:"Encrypt backups to this age key; unset disables encryption. Accepted, not used yet."`
	EnableCompression  bool     `yaml:"enableCompression" jsonschema_description:"Compress backups with zstd. Accepted, not used yet."`
}

// BackupS3 is the backup target. The keys are secrets: they are never printed.
type BackupS3 struct {
	HcloudURL string `yaml:"hcloudURL,omitempty" jsonschema_description:"https://<bucket>.<region>.your-objectstorage.com; sets bucket, region and endpoint for Hetzner Object Storage. Accepted, not used yet."`
	Region    string `yaml:"region,omitempty" jsonschema_description:"S3 region. Accepted, not used yet."`
	Endpoint  string `yaml:"endpoint,omitempty" jsonschema_description:"S3 endpoint URL, for storage other than AWS. Accepted, not used yet."`
	Bucket    string `yaml:"bucket,omitempty" jsonschema_description:"S3 bucket. Accepted, not used yet."`
	Prefix    string `yaml:"prefix,omitempty" jsonschema_description:"Key prefix inside the bucket. Accepted, not used yet."`
	PathStyle bool   `yaml:"pathStyle" jsonschema_description:"Use path-style S3 URLs. Accepted, not used yet."`
	AccessKey string `yaml:"accessKey,omitempty" jsonschema_description:"S3 access key (secret). Accepted, not used yet."`
	SecretKey string `yaml:"secretKey,omitempty" jsonschema_description:"S3 secret key (secret). Accepted, not used yet."`
}

// Kubernetes holds the kubernetes_* variables.
type Kubernetes struct {
	Version            string            `yaml:"version,omitempty" jsonschema_description:"Kubernetes version, e.g. v1.34.10."`
	KubeletExtraArgs   map[string]string `yaml:"kubeletExtraArgs,omitempty" jsonschema_description:"Extra kubelet flags, merged over cloud-provider=external and rotate-server-certificates=true."`
	KubeletExtraConfig map[string]any    `yaml:"kubeletExtraConfig,omitempty" jsonschema_description:"Kubelet configuration fields, merged over the module's registerWithTaints, systemReserved and kubeReserved (a key replaces the module's value)."`
	Images             KubernetesImages  `yaml:"images,omitempty" jsonschema_description:"Image repositories (without tag) overriding the defaults; the Kubernetes version is the tag."`
}

// KubernetesImages are custom component image repositories.
type KubernetesImages struct {
	APIServer         string `yaml:"apiServer,omitempty" jsonschema_description:"kube-apiserver image repository."`
	ControllerManager string `yaml:"controllerManager,omitempty" jsonschema_description:"kube-controller-manager image repository."`
	Scheduler         string `yaml:"scheduler,omitempty" jsonschema_description:"kube-scheduler image repository."`
	Proxy             string `yaml:"proxy,omitempty" jsonschema_description:"kube-proxy image repository."`
	Kubelet           string `yaml:"kubelet,omitempty" jsonschema_description:"kubelet image repository."`
	Etcd              string `yaml:"etcd,omitempty" jsonschema_description:"Full etcd image reference with :tag and/or @sha256: digest."`
}

// KubeAPI holds the kube_api_* variables.
type KubeAPI struct {
	Hostname         string            `yaml:"hostname,omitempty" jsonschema_description:"Preferred external API host name; added to certificate SANs and to every node's hosts file."`
	LoadBalancer     KubeAPILB         `yaml:"loadBalancer,omitempty" jsonschema_description:"The optional <cluster>-kube-api load balancer in front of the control planes."`
	ExtraArgs        map[string]string `yaml:"extraArgs,omitempty" jsonschema_description:"Extra kube-apiserver flags, applied last."`
	AdmissionControl []map[string]any  `yaml:"admissionControl,omitempty" jsonschema_description:"Admission plugin configurations (cluster.apiServer.admissionControl)."`
}

// KubeAPILB is the optional <cluster>-kube-api load balancer.
type KubeAPILB struct {
	Enabled              bool  `yaml:"enabled" jsonschema_description:"Create the <cluster>-kube-api load balancer (lb11, TCP 6443 to the control planes); it becomes the API address of the nodes and of the kubeconfig."`
	PublicNetworkEnabled *bool `yaml:"publicNetworkEnabled,omitempty" jsonschema_description:"Unset: true for public access."`
}

// Chart pins a Helm chart.
type Chart struct {
	Repository string `yaml:"repository,omitempty" jsonschema_description:"Helm repository (https:// or oci://)."`
	Name       string `yaml:"name,omitempty" jsonschema_description:"Chart name."`
	Version    string `yaml:"version,omitempty" jsonschema_description:"Chart version; the default is the module's pin."`
}

// Addon holds what every Helm-based addon has.
type Addon struct {
	Enabled bool           `yaml:"enabled" jsonschema_description:"Install this addon. Switching it off later removes its objects from the cluster."`
	Chart   Chart          `yaml:"chart,omitempty" jsonschema_description:"The Helm chart of the addon."`
	Values  map[string]any `yaml:"values,omitempty" jsonschema_description:"Helm values merged over the ones hcloud-k8s computes."`
}

// Addons lists every component hcloud-k8s installs.
type Addons struct {
	TalosCCM                  Addon                     `yaml:"talosCCM,omitempty" jsonschema_description:"Talos cloud controller manager, run only to approve the kubelets' serving certificate requests (kubelets rotate their serving certificates)."`
	HcloudCCM                 HcloudCCM                 `yaml:"hcloudCCM,omitempty" jsonschema_description:"Hetzner cloud controller manager: node addresses and lifecycle, routes for the pod ranges in the Hetzner network, and Hetzner load balancers for Services of type LoadBalancer.; loadBalancers.location also sets the location of the <cluster>-ingress load balancer."`
	HcloudCSI                 HcloudCSI                 `yaml:"hcloudCSI,omitempty" jsonschema_description:"Hetzner CSI driver: Hetzner volumes as persistent volumes, optionally LUKS-encrypted, with the storage classes below."`
	Longhorn                  Longhorn                  `yaml:"longhorn,omitempty" jsonschema_description:"Longhorn distributed block storage on the nodes' disks, in longhorn-system. Enabled also adds the iscsi-tools and util-linux-tools extensions to the Talos image and mounts /var/lib/longhorn into the kubelet."`
	Cilium                    Cilium                    `yaml:"cilium,omitempty" jsonschema_description:"Cilium, the cluster's CNI: pod networking with native routing in the Hetzner network, kube-proxy replacement, WireGuard or IPsec encryption between nodes. Without it nodes stay NotReady; kubeProxyReplacementEnabled also turns kube-proxy off in the Talos configuration."`
	MetricsServer             MetricsServer             `yaml:"metricsServer,omitempty" jsonschema_description:"Kubernetes metrics-server: resource metrics for kubectl top and the horizontal pod autoscaler."`
	CertManager               Addon                     `yaml:"certManager,omitempty" jsonschema_description:"cert-manager with its CRDs and Gateway API support; needed by ingressNginx and certManagerWebhookHetzner."`
	CertManagerWebhookHetzner CertManagerWebhookHetzner `yaml:"certManagerWebhookHetzner,omitempty" jsonschema_description:"cert-manager webhook that solves ACME DNS-01 challenges through Hetzner DNS (you create the token Secret and the Issuer); needs certManager."`
	IngressNginx              IngressNginx              `yaml:"ingressNginx,omitempty" jsonschema_description:"ingress-nginx controller, retired upstream (needs deprecationIgnored and certManager). Enabled also creates the <cluster>-ingress load balancer when ingressLoadBalancer.pools is empty."`
	ClusterAutoscaler         ClusterAutoscaler         `yaml:"clusterAutoscaler,omitempty" jsonschema_description:"Kubernetes cluster autoscaler with the Hetzner provider, which creates and removes the servers of autoscalerNodepools.; cleanupEnabled acts on destroy."`
	OIDC                      OIDC                      `yaml:"oidc,omitempty" jsonschema_description:"OpenID Connect login to the Kubernetes API: API server flags and RBAC bindings for groupMappings."`
	RBAC                      RBAC                      `yaml:"rbac,omitempty" jsonschema_description:"Roles and ClusterRoles the module creates in the cluster. Created with the addons."`
	ChartMirror               string                    `yaml:"chartMirror,omitempty" jsonschema_description:"Fetch every addon chart from this mirror instead of its own repository, for air-gapped networks: an http(s):// chart repository, an oci:// registry path, or a directory (path or file:// URL) of <name>-<version>.tgz archives. The environment variable HCLOUD_K8S_CHART_MIRROR overrides it."`
}

// HcloudCCM is the Hetzner cloud controller manager.
type HcloudCCM struct {
	Addon                `yaml:",inline"`
	LoadBalancers        CCMLoadBalancers `yaml:"loadBalancers,omitempty" jsonschema_description:"Defaults the CCM uses for the load balancers it creates for Services."`
	NetworkRoutesEnabled *bool            `yaml:"networkRoutesEnabled,omitempty" jsonschema_description:"Let the CCM create routes for the pod ranges in the Hetzner network. Unset: true."`
}

// CCMLoadBalancers are the defaults the CCM uses for Service load balancers.
type CCMLoadBalancers struct {
	Enabled               bool        `yaml:"enabled" jsonschema_description:"Let the CCM create load balancers for Services of type LoadBalancer."`
	Location              string      `yaml:"location,omitempty" jsonschema:"enum=fsn1,enum=nbg1,enum=hel1,enum=ash,enum=hil,enum=sin" jsonschema_description:"Default location of the CCM's load balancers, and the location of the <cluster>-ingress load balancer. Unset: location of the first worker, autoscaler or control-plane pool."`
	DisablePrivateIngress bool        `yaml:"disablePrivateIngress" jsonschema_description:"Default of the CCM annotation load-balancer.hetzner.cloud/disable-private-ingress."`
	UsePrivateIP          bool        `yaml:"usePrivateIP" jsonschema_description:"Default of load-balancer.hetzner.cloud/use-private-ip: reach targets over the private network."`
	DisableIPv6           bool        `yaml:"disableIPv6" jsonschema_description:"Default of load-balancer.hetzner.cloud/ipv6-disabled."`
	Algorithm             string      `yaml:"algorithm,omitempty" jsonschema:"enum=round_robin,enum=least_connections" jsonschema_description:"Default of load-balancer.hetzner.cloud/algorithm-type."`
	DisablePublicNetwork  bool        `yaml:"disablePublicNetwork" jsonschema_description:"Default of load-balancer.hetzner.cloud/disable-public-network."`
	HealthCheck           HealthCheck `yaml:"healthCheck,omitempty" jsonschema_description:"Default health check of the CCM's load balancers."`
	Type                  string      `yaml:"type,omitempty" jsonschema:"enum=lb11,enum=lb21,enum=lb31" jsonschema_description:"Default of load-balancer.hetzner.cloud/type."`
	UsesProxyProtocol     bool        `yaml:"usesProxyProtocol" jsonschema_description:"Default of load-balancer.hetzner.cloud/uses-proxyprotocol."`
}

// HcloudCSI is the Hetzner CSI driver.
type HcloudCSI struct {
	Addon                `yaml:",inline"`
	EncryptionPassphrase string            `yaml:"encryptionPassphrase,omitempty" jsonschema_description:"LUKS passphrase of encrypted volumes (8-512 printable ASCII). Unset: generated once."`
	StorageClasses       []StorageClass    `yaml:"storageClasses,omitempty" jsonschema_description:"Storage classes the driver creates; they cannot be changed once created."`
	VolumeExtraLabels    map[string]string `yaml:"volumeExtraLabels,omitempty" jsonschema_description:"Hetzner labels added to every volume the driver creates."`
}

// StorageClass is one entry of addons.hcloudCSI.storageClasses.
type StorageClass struct {
	Name                string            `yaml:"name" jsonschema:"required" jsonschema_description:"Storage class name."`
	Encrypted           bool              `yaml:"encrypted" jsonschema_description:"LUKS-encrypt the volumes with encryptionPassphrase."`
	ReclaimPolicy       string            `yaml:"reclaimPolicy,omitempty" jsonschema:"enum=Delete,enum=Retain" jsonschema_description:"What happens to a volume when its claim is deleted."`
	DefaultStorageClass bool              `yaml:"defaultStorageClass" jsonschema_description:"Make this the cluster's default storage class."`
	ExtraParameters     map[string]string `yaml:"extraParameters,omitempty" jsonschema_description:"Extra storage class parameters."`
}

// Longhorn is the Longhorn storage system.
type Longhorn struct {
	Addon               `yaml:",inline"`
	DefaultStorageClass bool `yaml:"defaultStorageClass" jsonschema_description:"Make Longhorn's storage class the default."`
}

// Cilium is the CNI.
type Cilium struct {
	Addon                       `yaml:",inline"`
	PolicyCIDRMatchMode         string           `yaml:"policyCIDRMatchMode,omitempty" jsonschema:"enum=,enum=nodes" jsonschema_description:"nodes: let CIDR-based network policies select nodes (needed for policies towards kube-apiserver)."`
	Encryption                  CiliumEncryption `yaml:"encryption,omitempty" jsonschema_description:"Transparent encryption of traffic between nodes."`
	KubeProxyReplacementEnabled bool             `yaml:"kubeProxyReplacementEnabled" jsonschema_description:"Cilium replaces kube-proxy. Used today: it turns kube-proxy off in the Talos configuration."`
	SocketLBHostNamespaceOnly   bool             `yaml:"socketLBHostNamespaceOnly" jsonschema_description:"Limit socket-level load balancing to the host namespace (for sidecar-based service meshes)."`
	LoadBalancerAcceleration    string           `yaml:"loadBalancerAcceleration,omitempty" jsonschema:"enum=disabled,enum=native,enum=best-effort" jsonschema_description:"XDP acceleration of Cilium's load balancing."`
	BPFHostLegacyRouting        *bool            `yaml:"bpfHostLegacyRouting,omitempty" jsonschema_description:"Unset: true iff IPsec encryption is used."`
	RoutingMode                 string           `yaml:"routingMode,omitempty" jsonschema:"enum=native,enum=tunnel" jsonschema_description:"Unset: native."`
	BPFDatapathMode             string           `yaml:"bpfDatapathMode,omitempty" jsonschema:"enum=veth,enum=netkit,enum=netkit-l2" jsonschema_description:"Network device type of pods."`
	GatewayAPI                  CiliumGatewayAPI `yaml:"gatewayAPI,omitempty" jsonschema_description:"Cilium's Gateway API implementation (needs crds.gatewayAPI)."`
	EgressGatewayEnabled        bool             `yaml:"egressGatewayEnabled" jsonschema_description:"Cilium egress gateway (needs kubeProxyReplacementEnabled)."`
	ServiceMonitorEnabled       bool             `yaml:"serviceMonitorEnabled" jsonschema_description:"Prometheus ServiceMonitors for Cilium (needs crds.prometheusOperator)."`
	Hubble                      CiliumHubble     `yaml:"hubble,omitempty" jsonschema_description:"Hubble network observability."`
}

// CiliumEncryption is transparent encryption between nodes.
type CiliumEncryption struct {
	Enabled bool        `yaml:"enabled" jsonschema_description:"Encrypt traffic between nodes."`
	Type    string      `yaml:"type,omitempty" jsonschema:"enum=wireguard,enum=ipsec" jsonschema_description:"Encryption method."`
	IPsec   CiliumIPsec `yaml:"ipsec,omitempty" jsonschema_description:"Key settings for type ipsec."`
}

// CiliumIPsec configures IPsec keys; bump keyID to rotate.
type CiliumIPsec struct {
	Algorithm string `yaml:"algorithm,omitempty" jsonschema_description:"IPsec algorithm of the generated key."`
	KeySize   int    `yaml:"keySize,omitempty" jsonschema:"enum=128,enum=192,enum=256" jsonschema_description:"Key size in bits."`
	KeyID     int    `yaml:"keyID,omitempty" jsonschema:"minimum=1,maximum=15" jsonschema_description:"Key ID 1-15; increase it to rotate the key."`
}

// CiliumGatewayAPI is Cilium's Gateway API implementation.
type CiliumGatewayAPI struct {
	Enabled               bool   `yaml:"enabled" jsonschema_description:"Run Cilium's Gateway API controller and create its GatewayClass."`
	ProxyProtocolEnabled  bool   `yaml:"proxyProtocolEnabled" jsonschema_description:"Expect the PROXY protocol from load balancers."`
	ExternalTrafficPolicy string `yaml:"externalTrafficPolicy,omitempty" jsonschema:"enum=Cluster,enum=Local" jsonschema_description:"externalTrafficPolicy of the Gateway Services."`
}

// CiliumHubble is Cilium's observability layer.
type CiliumHubble struct {
	Enabled      bool `yaml:"enabled" jsonschema_description:"Enable Hubble."`
	RelayEnabled bool `yaml:"relayEnabled" jsonschema_description:"Run Hubble Relay (needs enabled)."`
	UIEnabled    bool `yaml:"uiEnabled" jsonschema_description:"Run the Hubble UI (needs relayEnabled)."`
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
	GroupName string `yaml:"groupName,omitempty" jsonschema_description:"API group of the webhook's DNS-01 solver, referenced from Issuers."`
}

// IngressNginx is the (deprecated) ingress-nginx controller.
type IngressNginx struct {
	Addon                        `yaml:",inline"`
	DeprecationIgnored           bool              `yaml:"deprecationIgnored" jsonschema_description:"Must be true to enable ingress-nginx: the project is retired."`
	Kind                         string            `yaml:"kind,omitempty" jsonschema:"enum=Deployment,enum=DaemonSet" jsonschema_description:"Run the controller as a Deployment or a DaemonSet."`
	Replicas                     *int              `yaml:"replicas,omitempty" jsonschema:"minimum=1" jsonschema_description:"Deployment only. Unset: 2 with fewer than 3 workers, else 3."`
	TopologyAwareRouting         bool              `yaml:"topologyAwareRouting" jsonschema_description:"Topology-aware routing for the controller Service."`
	ServiceExternalTrafficPolicy string            `yaml:"serviceExternalTrafficPolicy,omitempty" jsonschema:"enum=Cluster,enum=Local" jsonschema_description:"externalTrafficPolicy of the controller Service; Local keeps client IPs."`
	Config                       map[string]string `yaml:"config,omitempty" jsonschema_description:"Merged into the controller ConfigMap."`
}

// ClusterAutoscaler is the Kubernetes cluster autoscaler (Hetzner provider).
type ClusterAutoscaler struct {
	Addon            `yaml:",inline"`
	ImageTag         string `yaml:"imageTag,omitempty" jsonschema_description:"Cluster autoscaler image tag."`
	DiscoveryEnabled bool   `yaml:"discoveryEnabled" jsonschema_description:"Find autoscaled nodes through Talos so upgrades and config changes reach them too. Accepted, not used yet."`
	CleanupEnabled   bool   `yaml:"cleanupEnabled" jsonschema_description:"On destroy, also delete the servers the autoscaler created (label hcloud/node-group=<cluster>-<pool>). Used today."`
}

// OIDC configures API server OIDC authentication and group bindings.
type OIDC struct {
	Enabled       bool               `yaml:"enabled" jsonschema_description:"Turn on OIDC authentication in the API server."`
	IssuerURL     string             `yaml:"issuerURL,omitempty" jsonschema_description:"OIDC issuer URL; required when enabled."`
	ClientID      string             `yaml:"clientID,omitempty" jsonschema_description:"OIDC client ID; required when enabled."`
	UsernameClaim string             `yaml:"usernameClaim,omitempty" jsonschema_description:"JWT claim used as the user name."`
	GroupsClaim   string             `yaml:"groupsClaim,omitempty" jsonschema_description:"JWT claim that holds the user's groups."`
	GroupsPrefix  string             `yaml:"groupsPrefix,omitempty" jsonschema_description:"Prefix added to group names, in the API server and in the bindings."`
	GroupMappings []OIDCGroupMapping `yaml:"groupMappings,omitempty" jsonschema_description:"Bind OIDC groups to ClusterRoles and Roles."`
}

// OIDCGroupMapping binds an OIDC group to cluster roles and namespaced roles.
type OIDCGroupMapping struct {
	Group        string          `yaml:"group" jsonschema:"required" jsonschema_description:"OIDC group name, without groupsPrefix."`
	ClusterRoles []string        `yaml:"clusterRoles,omitempty" jsonschema_description:"ClusterRoles bound to the group."`
	Roles        []NamespacedRef `yaml:"roles,omitempty" jsonschema_description:"Roles bound to the group."`
}

// NamespacedRef names a Role.
type NamespacedRef struct {
	Name      string `yaml:"name" jsonschema:"required" jsonschema_description:"Role name."`
	Namespace string `yaml:"namespace" jsonschema:"required" jsonschema_description:"Namespace of the Role."`
}

// RBAC creates Roles and ClusterRoles.
type RBAC struct {
	Roles        []Role        `yaml:"roles,omitempty" jsonschema_description:"Namespaced Roles to create. Accepted, not used yet."`
	ClusterRoles []ClusterRole `yaml:"clusterRoles,omitempty" jsonschema_description:"ClusterRoles to create. Accepted, not used yet."`
}

// Role is a namespaced RBAC role.
type Role struct {
	Name      string       `yaml:"name" jsonschema:"required" jsonschema_description:"Role name."`
	Namespace string       `yaml:"namespace" jsonschema:"required" jsonschema_description:"Namespace of the Role."`
	Rules     []PolicyRule `yaml:"rules" jsonschema:"required" jsonschema_description:"The Role's rules."`
}

// ClusterRole is a cluster-wide RBAC role.
type ClusterRole struct {
	Name  string       `yaml:"name" jsonschema:"required" jsonschema_description:"ClusterRole name."`
	Rules []PolicyRule `yaml:"rules" jsonschema:"required" jsonschema_description:"The ClusterRole's rules."`
}

// PolicyRule is one RBAC rule.
type PolicyRule struct {
	APIGroups []string `yaml:"apiGroups" jsonschema_description:"API groups; an empty string is the core group."`
	Resources []string `yaml:"resources" jsonschema_description:"Resources, e.g. pods."`
	Verbs     []string `yaml:"verbs" jsonschema_description:"Verbs, e.g. get, list, watch."`
}

// CRDs are the CRD bundles.
type CRDs struct {
	GatewayAPI         GatewayAPICRDs `yaml:"gatewayAPI,omitempty" jsonschema_description:"Gateway API CRDs."`
	PrometheusOperator CRDBundle      `yaml:"prometheusOperator,omitempty" jsonschema_description:"The Prometheus Operator's CRDs (stripped-down-crds.yaml)."`
}

// CRDBundle is a versioned set of CRDs.
type CRDBundle struct {
	Enabled bool   `yaml:"enabled" jsonschema_description:"Download and apply these CRDs."`
	Version string `yaml:"version,omitempty" jsonschema_description:"Release to download."`
}

// GatewayAPICRDs are the Gateway API CRDs.
type GatewayAPICRDs struct {
	CRDBundle      `yaml:",inline"`
	ReleaseChannel string `yaml:"releaseChannel,omitempty" jsonschema:"enum=standard,enum=experimental" jsonschema_description:"Which install file of the release: standard or experimental."`
}
