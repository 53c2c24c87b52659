package addons

import (
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

func renderHcloudCCM(c *config.Cluster, _ Inputs) (Result, error) {
	ccm := c.Addons.HcloudCCM
	lb := ccm.LoadBalancers
	net, err := c.Layout()
	if err != nil {
		return Result{}, err
	}
	// Unset means true: the module turns routes off only for bare metal,
	// which is not supported.
	routes := true
	if ccm.NetworkRoutesEnabled != nil {
		routes = *ccm.NetworkRoutesEnabled
	}
	b := strconv.FormatBool
	seconds := func(n int) string { return strconv.Itoa(n) + "s" }
	// The chart turns each entry into a container env var, so every value is
	// a string.
	env := map[string]string{
		"HCLOUD_LOAD_BALANCERS_ALGORITHM_TYPE":          lb.Algorithm,
		"HCLOUD_LOAD_BALANCERS_DISABLE_IPV6":            b(lb.DisableIPv6),
		"HCLOUD_LOAD_BALANCERS_DISABLE_PRIVATE_INGRESS": b(lb.DisablePrivateIngress),
		"HCLOUD_LOAD_BALANCERS_DISABLE_PUBLIC_NETWORK":  b(lb.DisablePublicNetwork),
		"HCLOUD_LOAD_BALANCERS_ENABLED":                 b(lb.Enabled),
		"HCLOUD_LOAD_BALANCERS_HEALTH_CHECK_INTERVAL":   seconds(lb.HealthCheck.Interval),
		"HCLOUD_LOAD_BALANCERS_HEALTH_CHECK_RETRIES":    strconv.Itoa(lb.HealthCheck.Retries),
		"HCLOUD_LOAD_BALANCERS_HEALTH_CHECK_TIMEOUT":    seconds(lb.HealthCheck.Timeout),
		"HCLOUD_LOAD_BALANCERS_LOCATION":                ccmLoadBalancerLocation(c),
		"HCLOUD_LOAD_BALANCERS_PRIVATE_SUBNET_IP_RANGE": net.LoadBalancer.String(),
		"HCLOUD_LOAD_BALANCERS_TYPE":                    lb.Type,
		"HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP":          b(lb.UsePrivateIP),
		"HCLOUD_LOAD_BALANCERS_USES_PROXYPROTOCOL":      b(lb.UsesProxyProtocol),
		"HCLOUD_NETWORK_ROUTES_ENABLED":                 b(routes),
		// The CCM must reach the API server before Services (and so the
		// kubernetes Service) work: it is what initialises the nodes.
		"KUBERNETES_SERVICE_HOST": kubePrismHost,
		"KUBERNETES_SERVICE_PORT": strconv.Itoa(kubePrismPort),
	}
	envValues := make(map[string]any, len(env))
	for k, v := range env {
		envValues[k] = map[string]any{"value": v}
	}
	return Result{
		Chart: chartFrom(ccm.Chart, "hcloud-cloud-controller-manager", kubeSystem),
		Values: map[string]any{
			"kind":         "DaemonSet",
			"nodeSelector": controlPlaneNodeSelector(),
			"networking":   map[string]any{"enabled": true, "clusterCIDR": net.Pod.String()},
			"robot":        map[string]any{"enabled": false},
			"env":          envValues,
		},
	}, nil
}

// ccmLoadBalancerLocation resolves addons.hcloudCCM.loadBalancers.location:
// unset, the location of the first worker pool, else of the first autoscaler
// pool, else of the first control-plane pool.
func ccmLoadBalancerLocation(c *config.Cluster) string {
	switch {
	case c.Addons.HcloudCCM.LoadBalancers.Location != "":
		return c.Addons.HcloudCCM.LoadBalancers.Location
	case len(c.WorkerNodepools) > 0:
		return c.WorkerNodepools[0].Location
	case len(c.AutoscalerNodepools) > 0:
		return c.AutoscalerNodepools[0].Location
	case len(c.ControlPlaneNodepools) > 0:
		return c.ControlPlaneNodepools[0].Location
	}
	return ""
}
