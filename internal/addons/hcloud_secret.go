package addons

import (
	"errors"
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// hcloudSecretName is the Secret the Hetzner CCM, CSI driver and cluster
// autoscaler read the API token (and the CCM the network ID) from.
const hcloudSecretName = "hcloud"

// renderHcloudSecret is the module's first inline manifest: kube-system/hcloud
// with the token and the network ID. It is always created, even with the CCM
// off, because the CSI driver and the autoscaler read it too.
func renderHcloudSecret(_ *config.Cluster, in Inputs) (Result, error) {
	if in.HCloudToken == "" {
		return Result{}, errors.New("Inputs.HCloudToken is empty")
	}
	if in.NetworkID == 0 {
		return Result{}, errors.New("Inputs.NetworkID is 0")
	}
	return Result{Objects: []Object{secret(hcloudSecretName, kubeSystem, map[string]string{
		"network": strconv.FormatInt(in.NetworkID, 10),
		"token":   in.HCloudToken,
	})}}, nil
}
