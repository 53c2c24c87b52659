package addons

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// KubePrism is Talos's local load balancer for the API server on every node:
// components that start before Services work (the CNI, the CCM) use it.
const (
	kubePrismHost = "127.0.0.1"
	kubePrismPort = 7445
)

const ciliumIPsecSecretName = "cilium-ipsec-keys"

// CiliumIPsecEnabled reports whether Cilium encrypts with IPsec, which needs
// Inputs.IPsecKey.
func CiliumIPsecEnabled(c *config.Cluster) bool {
	e := c.Addons.Cilium.Encryption
	return e.Enabled && e.Type == "ipsec"
}

// CiliumIPsecKeyLen is the length of the raw IPsec key the caller must
// generate: the key plus a 4-byte salt, as the module's random_bytes.
func CiliumIPsecKeyLen(c *config.Cluster) int {
	return c.Addons.Cilium.Encryption.IPsec.KeySize/8 + 4
}

func renderCilium(c *config.Cluster, in Inputs) (Result, error) {
	cl := c.Addons.Cilium
	net, err := c.Layout()
	if err != nil {
		return Result{}, err
	}
	ipsec := CiliumIPsecEnabled(c)
	kpr := cl.KubeProxyReplacementEnabled
	// Bare metal (which would make it tunnel) is not supported.
	routing := cl.RoutingMode
	if routing == "" {
		routing = "native"
	}
	hostLegacy := ipsec
	if cl.BPFHostLegacyRouting != nil {
		hostLegacy = *cl.BPFHostLegacyRouting
	}
	healthz := ""
	if kpr {
		healthz = "0.0.0.0:10256"
	}
	operator := MergeValues(haSpec{
		ReplicasKey: "replicas", PDBSwitch: "enabled", MaxUnavailable: 1,
		PodLabels:     map[string]string{"app.kubernetes.io/name": "cilium-operator"},
		NoTolerations: true,
	}.values(c), map[string]any{
		"prometheus": map[string]any{
			"enabled":        true,
			"serviceMonitor": map[string]any{"enabled": cl.ServiceMonitorEnabled, "interval": "15s"},
		},
	})
	values := map[string]any{
		"ipam":                  map[string]any{"mode": "kubernetes"},
		"routingMode":           routing,
		"ipv4NativeRoutingCIDR": net.NativeRouting.String(),
		"policyCIDRMatchMode":   cl.PolicyCIDRMatchMode,
		"bpf": map[string]any{
			"masquerade":        kpr,
			"datapathMode":      cl.BPFDatapathMode,
			"hostLegacyRouting": hostLegacy,
		},
		"encryption":                          map[string]any{"enabled": cl.Encryption.Enabled, "type": cl.Encryption.Type},
		"k8s":                                 map[string]any{"requireIPv4PodCIDR": true},
		"k8sServiceHost":                      kubePrismHost,
		"k8sServicePort":                      kubePrismPort,
		"kubeProxyReplacement":                kpr,
		"kubeProxyReplacementHealthzBindAddr": healthz,
		"installNoConntrackIptablesRules":     kpr && routing == "native",
		"socketLB":                            map[string]any{"hostNamespaceOnly": cl.SocketLBHostNamespaceOnly},
		// Talos mounts the cgroup filesystem itself.
		"cgroup": map[string]any{"autoMount": map[string]any{"enabled": false}, "hostRoot": "/sys/fs/cgroup"},
		// Talos forbids SYS_MODULE, which the chart's defaults include.
		"securityContext": map[string]any{"capabilities": map[string]any{
			"ciliumAgent":      anyList([]string{"CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}),
			"cleanCiliumState": anyList([]string{"NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"}),
		}},
		"dnsProxy":      map[string]any{"enableTransparentMode": true},
		"egressGateway": map[string]any{"enabled": cl.EgressGatewayEnabled},
		"loadBalancer":  map[string]any{"acceleration": cl.LoadBalancerAcceleration},
		"gatewayAPI": map[string]any{
			"enabled":               cl.GatewayAPI.Enabled,
			"enableProxyProtocol":   cl.GatewayAPI.ProxyProtocolEnabled,
			"enableAppProtocol":     true,
			"enableAlpn":            true,
			"externalTrafficPolicy": cl.GatewayAPI.ExternalTrafficPolicy,
			// The chart takes a string here ("true", "false" or "auto").
			"gatewayClass": map[string]any{"create": strconv.FormatBool(cl.GatewayAPI.Enabled)},
		},
		"hubble": map[string]any{
			"enabled":     cl.Hubble.Enabled,
			"relay":       map[string]any{"enabled": cl.Hubble.RelayEnabled},
			"ui":          map[string]any{"enabled": cl.Hubble.UIEnabled},
			"peerService": map[string]any{"clusterDomain": c.Cluster.Domain},
		},
		"prometheus": map[string]any{
			"enabled": true,
			"serviceMonitor": map[string]any{
				"enabled":        cl.ServiceMonitorEnabled,
				"trustCRDsExist": cl.ServiceMonitorEnabled,
				"interval":       "15s",
			},
		},
		"operator": operator,
	}
	r := Result{Chart: chartFrom(cl.Chart, "cilium", kubeSystem), Values: values}
	if ipsec {
		s, err := ciliumIPsecSecret(c, in.IPsecKey)
		if err != nil {
			return Result{}, err
		}
		r.Objects = []Object{s}
	}
	return r, nil
}

// ciliumIPsecSecret is the keys Secret in the format Cilium reads:
// "<id>+ <algorithm> <hex key> 128" (the trailing 128 is the ICV length in
// bits; "+" marks the key as per-tunnel).
func ciliumIPsecSecret(c *config.Cluster, key []byte) (Object, error) {
	p := c.Addons.Cilium.Encryption.IPsec
	if want := CiliumIPsecKeyLen(c); len(key) != want {
		return nil, fmt.Errorf("Inputs.IPsecKey has %d bytes, addons.cilium.encryption.ipsec.keySize %d needs %d", len(key), p.KeySize, want)
	}
	s := secret(ciliumIPsecSecretName, kubeSystem, map[string]string{
		"keys": fmt.Sprintf("%d+ %s %s 128", p.KeyID, p.Algorithm, hex.EncodeToString(key)),
	})
	s["metadata"].(map[string]any)["annotations"] = map[string]any{
		"cilium.io/key-id":        strconv.Itoa(p.KeyID),
		"cilium.io/key-algorithm": p.Algorithm,
		"cilium.io/key-size":      strconv.Itoa(p.KeySize),
	}
	return s, nil
}
