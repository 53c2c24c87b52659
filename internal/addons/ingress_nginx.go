package addons

import (
	"errors"
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

const ingressNginxNamespace = "ingress-nginx"

// errIngressNginxDeprecated: ingress-nginx is retired upstream, so the module
// installs it only when the user says they know.
var errIngressNginxDeprecated = errors.New("ingress-nginx is retired upstream; set addons.ingressNginx.deprecationIgnored: true to install it anyway")

// ingressNginxReplicas resolves addons.ingressNginx.replicas; 0 for a
// DaemonSet, which has no replica count.
func ingressNginxReplicas(c *config.Cluster) int {
	n := c.Addons.IngressNginx
	switch {
	case n.Kind == "DaemonSet":
		return 0
	case n.Replicas != nil:
		return *n.Replicas
	case c.WorkerCount() < 3:
		return 2
	}
	return 3
}

func renderIngressNginx(c *config.Cluster, _ Inputs) (Result, error) {
	n := c.Addons.IngressNginx
	if !n.DeprecationIgnored {
		return Result{}, errIngressNginxDeprecated
	}
	net, err := c.Layout()
	if err != nil {
		return Result{}, err
	}
	controller := map[string]any{
		// cert-manager issues the admission webhook's certificate.
		"admissionWebhooks":          map[string]any{"certManager": map[string]any{"enabled": true}},
		"kind":                       n.Kind,
		"minAvailable":               nil,
		"maxUnavailable":             1,
		"enableTopologyAwareRouting": n.TopologyAwareRouting,
		"watchIngressWithoutClass":   true,
		"service":                    ingressNginxService(c),
		"config":                     ingressNginxConfig(c, net),
		"networkPolicy":              map[string]any{"enabled": true},
	}
	if r := ingressNginxReplicas(c); r > 0 {
		controller["replicaCount"] = r
	}
	if n.Kind == "Deployment" {
		// With a single worker a hard per-host spread would leave the
		// second replica pending.
		host := "ScheduleAnyway"
		if c.WorkerCount() > 1 {
			host = "DoNotSchedule"
		}
		controller["topologySpreadConstraints"] = spread(map[string]string{
			"app.kubernetes.io/instance":  "ingress-nginx",
			"app.kubernetes.io/name":      "ingress-nginx",
			"app.kubernetes.io/component": "controller",
		}, host)
	}
	return Result{
		Chart:   chartFrom(n.Chart, "ingress-nginx", ingressNginxNamespace),
		Values:  map[string]any{"controller": controller},
		Objects: []Object{namespace(ingressNginxNamespace, nil)},
	}, nil
}

// ingressNginxService: without ingress pools the CCM attaches the controller
// Service to the <cluster>-ingress load balancer (by name); with pools the
// pool load balancers target fixed node ports instead.
func ingressNginxService(c *config.Cluster) map[string]any {
	n := c.Addons.IngressNginx
	svc := map[string]any{"externalTrafficPolicy": n.ServiceExternalTrafficPolicy}
	if len(c.IngressLoadBalancer.Pools) > 0 {
		svc["type"] = "NodePort"
		svc["nodePorts"] = map[string]any{"http": 30000, "https": 30001}
		return svc
	}
	il := c.IngressLoadBalancer
	b := strconv.FormatBool
	seconds := func(n int) string { return strconv.Itoa(n) + "s" }
	svc["type"] = "LoadBalancer"
	// Annotation values must be strings.
	svc["annotations"] = anyMap(map[string]string{
		"load-balancer.hetzner.cloud/algorithm-type":          il.Algorithm,
		"load-balancer.hetzner.cloud/disable-private-ingress": "true",
		"load-balancer.hetzner.cloud/disable-public-network":  b(!il.PublicNetworkEnabled),
		"load-balancer.hetzner.cloud/health-check-interval":   seconds(il.HealthCheck.Interval),
		"load-balancer.hetzner.cloud/health-check-retries":    strconv.Itoa(il.HealthCheck.Retries),
		"load-balancer.hetzner.cloud/health-check-timeout":    seconds(il.HealthCheck.Timeout),
		"load-balancer.hetzner.cloud/ipv6-disabled":           "false",
		"load-balancer.hetzner.cloud/location":                ccmLoadBalancerLocation(c),
		"load-balancer.hetzner.cloud/name":                    layout.IngressLoadBalancerName(c.Cluster.Name),
		"load-balancer.hetzner.cloud/type":                    il.Type,
		"load-balancer.hetzner.cloud/use-private-ip":          "true",
		"load-balancer.hetzner.cloud/uses-proxyprotocol":      "true",
	})
	return svc
}

// ingressNginxConfig is the controller ConfigMap: the load balancers speak
// the PROXY protocol, and the client address is trusted from the range the
// proxies connect from. addons.ingressNginx.config is merged over it.
func ingressNginxConfig(c *config.Cluster, net layout.Network) map[string]any {
	realIP := net.Node.String()
	if c.Addons.IngressNginx.ServiceExternalTrafficPolicy == "Local" {
		realIP = net.LoadBalancer.String()
	}
	cfg := map[string]string{
		"proxy-real-ip-cidr":         realIP,
		"compute-full-forwarded-for": "true",
		"use-proxy-protocol":         "true",
	}
	for k, v := range c.Addons.IngressNginx.Config {
		cfg[k] = v
	}
	return anyMap(cfg)
}
