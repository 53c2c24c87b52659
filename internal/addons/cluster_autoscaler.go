package addons

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

const (
	autoscalerConfigSecret = "cluster-autoscaler-hetzner-config"
	autoscalerConfigDir    = "/config"
	autoscalerConfigKey    = "cluster-config"
)

func renderClusterAutoscaler(c *config.Cluster, in Inputs) (Result, error) {
	ca := c.Addons.ClusterAutoscaler
	groups := make([]any, 0, len(c.AutoscalerNodepools))
	for _, p := range c.AutoscalerNodepools {
		groups = append(groups, map[string]any{
			"name":         autoscalerGroupName(c, p),
			"minSize":      p.Min,
			"maxSize":      p.Max,
			"instanceType": p.Type,
			"region":       p.Location,
		})
	}
	b := strconv.FormatBool
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	values := MergeValues(haSpec{
		ReplicasKey: "replicaCount", MaxUnavailable: 1,
		PodLabels: map[string]string{
			"app.kubernetes.io/instance": "cluster-autoscaler",
			"app.kubernetes.io/name":     "hetzner-cluster-autoscaler",
		},
	}.values(c), map[string]any{
		"cloudProvider":     "hetzner",
		"autoscalingGroups": groups,
		"image":             map[string]any{"tag": ca.ImageTag},
		"extraEnv": anyMap(map[string]string{
			"HCLOUD_CLUSTER_CONFIG_FILE":     autoscalerConfigDir + "/" + autoscalerConfigKey,
			"HCLOUD_SERVER_CREATION_TIMEOUT": "10",
			"HCLOUD_FIREWALL":                id(in.FirewallID),
			"HCLOUD_SSH_KEY":                 id(in.SSHKeyID),
			"HCLOUD_PUBLIC_IPV4":             b(c.Talos.PublicIPv4Enabled),
			"HCLOUD_PUBLIC_IPV6":             b(c.Talos.PublicIPv6Enabled && c.Talos.IPv6Enabled),
			"HCLOUD_NETWORK":                 id(in.NetworkID),
		}),
		"extraEnvSecrets": map[string]any{
			"HCLOUD_TOKEN": map[string]any{"name": hcloudSecretName, "key": "token"},
		},
		"extraVolumeSecrets": map[string]any{
			autoscalerConfigSecret: map[string]any{"name": autoscalerConfigSecret, "mountPath": autoscalerConfigDir},
		},
	})
	cfg, err := autoscalerClusterConfig(c, in)
	if err != nil {
		return Result{}, err
	}
	return Result{
		Chart:             chartFrom(ca.Chart, "cluster-autoscaler", kubeSystem),
		Values:            values,
		Objects:           []Object{secret(autoscalerConfigSecret, kubeSystem, map[string]string{autoscalerConfigKey: cfg})},
		ObjectsAfterChart: true,
	}, nil
}

func autoscalerGroupName(c *config.Cluster, p config.AutoscalerPool) string {
	return c.Cluster.Name + "-" + p.Name
}

// autoscalerClusterConfig is the Hetzner provider's cluster configuration
// (HCLOUD_CLUSTER_CONFIG): which snapshot to boot, which subnet to join and,
// per node group, the Talos configuration a new server boots with and the
// labels and taints its node gets.
func autoscalerClusterConfig(c *config.Cluster, in Inputs) (string, error) {
	net, err := c.Layout()
	if err != nil {
		return "", err
	}
	type taint struct {
		Key    string `json:"key"`
		Value  string `json:"value"`
		Effect string `json:"effect"`
	}
	type nodeConfig struct {
		CloudInit     string            `json:"cloudInit"`
		Labels        map[string]string `json:"labels"`
		Taints        []taint           `json:"taints"`
		SubnetIPRange string            `json:"subnetIPRange,omitempty"`
	}
	nodes := map[string]nodeConfig{}
	for i, p := range c.AutoscalerNodepools {
		cfg, ok := in.AutoscalerWorkerConfigs[p.Name]
		if !ok {
			return "", fmt.Errorf("Inputs.AutoscalerWorkerConfigs has no Talos configuration for autoscalerNodepools[%d] (%s)", i, p.Name)
		}
		labels := map[string]string{}
		for k, v := range p.Labels {
			labels[k] = v
		}
		labels["nodepool"] = p.Name
		taints := []taint{}
		for j, s := range p.Taints {
			k, v, e, ok := parseTaint(s)
			if !ok {
				return "", fmt.Errorf("autoscalerNodepools[%d].taints[%d]: %q is not key[=value]:Effect", i, j, s)
			}
			taints = append(taints, taint{k, v, e})
		}
		nodes[autoscalerGroupName(c, p)] = nodeConfig{CloudInit: cfg, Labels: labels, Taints: taints, SubnetIPRange: p.Subnet}
	}
	out, err := json.Marshal(map[string]any{
		"imagesForArch":        map[string]string{"arm64": in.ImageSelectors.ARM64, "amd64": in.ImageSelectors.AMD64},
		"defaultSubnetIPRange": net.AutoscalerShared.String(),
		"nodeConfigs":          nodes,
	})
	if err != nil {
		return "", fmt.Errorf("autoscaler cluster config: %w", err)
	}
	return string(out), nil
}

var reTaint = regexp.MustCompile(`^([^=:]+)=?([^=:]*?):(.+)$`)

// parseTaint reads a pool taint, key[=value]:Effect, as nodepool.tf does.
func parseTaint(s string) (key, value, effect string, ok bool) {
	m := reTaint.FindStringSubmatch(s)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}
