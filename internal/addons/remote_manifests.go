package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

// The module hands these URLs to Talos (cluster.externalCloudProvider
// .manifests), which applies what it downloads once at bootstrap and never
// removes it. hcloud-k8s fetches them itself and applies them like every
// other addon, so a version change updates them and switching a bundle off
// removes its CRDs.

func prometheusOperatorCRDsURL(version string) string {
	return "https://github.com/prometheus-operator/prometheus-operator/releases/download/" + version + "/stripped-down-crds.yaml"
}

func gatewayAPICRDsURL(version, channel string) string {
	return "https://github.com/kubernetes-sigs/gateway-api/releases/download/" + version + "/" + channel + "-install.yaml"
}

func renderPrometheusOperatorCRDs(c *config.Cluster, _ Inputs) (Result, error) {
	return Result{Manifests: []string{prometheusOperatorCRDsURL(c.CRDs.PrometheusOperator.Version)}}, nil
}

func renderGatewayAPICRDs(c *config.Cluster, _ Inputs) (Result, error) {
	g := c.CRDs.GatewayAPI
	return Result{Manifests: []string{gatewayAPICRDsURL(g.Version, g.ReleaseChannel)}}, nil
}

func renderRemoteManifests(c *config.Cluster, _ Inputs) (Result, error) {
	return Result{Manifests: append([]string(nil), c.Talos.ExtraRemoteManifests...)}, nil
}
