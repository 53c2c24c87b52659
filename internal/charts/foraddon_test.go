package charts

import "github.com/hcloud-k8s/hcloud-k8s/internal/addons"

func addonsResult() addons.Result {
	return addons.Result{Name: "talos-ccm", Chart: &addons.Chart{
		Repository: "oci://ghcr.io/siderolabs/charts", Name: "talos-cloud-controller-manager", Version: "0.5.5",
		Release: "talos-cloud-controller-manager", Namespace: "kube-system",
	}}
}
