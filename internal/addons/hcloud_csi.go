package addons

import (
	"errors"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

const csiSecretName = "hcloud-csi-secret"

func renderHcloudCSI(c *config.Cluster, in Inputs) (Result, error) {
	csi := c.Addons.HcloudCSI
	pass := csi.EncryptionPassphrase
	if pass == "" {
		pass = in.CSIEncryptionPassphrase
	}
	if pass == "" {
		return Result{}, errors.New("addons.hcloudCSI.encryptionPassphrase is unset and Inputs.CSIEncryptionPassphrase is empty")
	}
	classes := make([]any, 0, len(csi.StorageClasses))
	for _, sc := range csi.StorageClasses {
		params := map[string]string{}
		if sc.Encrypted {
			// The node plugin reads the LUKS passphrase from this Secret.
			params["csi.storage.k8s.io/node-publish-secret-name"] = csiSecretName
			params["csi.storage.k8s.io/node-publish-secret-namespace"] = kubeSystem
		}
		for k, v := range sc.ExtraParameters {
			params[k] = v
		}
		classes = append(classes, map[string]any{
			"name":                sc.Name,
			"reclaimPolicy":       sc.ReclaimPolicy,
			"defaultStorageClass": sc.DefaultStorageClass,
			"extraParameters":     anyMap(params),
		})
	}
	controller := MergeValues(haSpec{
		ReplicasKey: "replicaCount", PDBSwitch: "create", MaxUnavailable: "1",
		PodLabels: map[string]string{
			"app.kubernetes.io/name":      "hcloud-csi",
			"app.kubernetes.io/instance":  "hcloud-csi",
			"app.kubernetes.io/component": "controller",
		},
	}.values(c), map[string]any{"volumeExtraLabels": anyMap(csi.VolumeExtraLabels)})
	return Result{
		Chart: chartFrom(csi.Chart, "hcloud-csi", kubeSystem),
		Values: map[string]any{
			// Volumes get node affinity from the CSI topology keys the
			// driver itself reports, so they follow the node's location.
			"global":         map[string]any{"enableProvidedByTopology": true},
			"controller":     controller,
			"storageClasses": classes,
		},
		Objects: []Object{secret(csiSecretName, kubeSystem, map[string]string{"encryption-passphrase": pass})},
	}, nil
}
