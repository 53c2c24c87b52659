package addons

import (
	"regexp"
	"strconv"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

const (
	backupTalosSecret = "talos-backup-secrets"
	backupS3Secret    = "talos-backup-s3-secrets"
	backupImage       = "ghcr.io/siderolabs/talos-backup"
)

var reHcloudObjectStorage = regexp.MustCompile(`^(?:https?://)?([^.]+)\.([^.]+)\.your-objectstorage\.com\.?$`)

// backupTarget resolves the S3 settings: backup.s3.hcloudURL supplies the
// bucket, region and endpoint of Hetzner Object Storage for the fields left
// unset.
func backupTarget(s config.BackupS3) (bucket, region, endpoint string) {
	bucket, region, endpoint = s.Bucket, s.Region, s.Endpoint
	if m := reHcloudObjectStorage.FindStringSubmatch(s.HcloudURL); m != nil {
		if bucket == "" {
			bucket = m[1]
		}
		if region == "" {
			region = m[2]
		}
		if endpoint == "" {
			endpoint = "https://" + m[2] + ".your-objectstorage.com"
		}
	}
	return bucket, region, endpoint
}

// renderTalosBackup: a CronJob that takes an etcd snapshot through the Talos
// API and uploads it. The Talos ServiceAccount makes Talos issue a client
// certificate limited to os:etcd:backup into the talos-backup-secrets Secret.
func renderTalosBackup(c *config.Cluster, _ Inputs) (Result, error) {
	b := c.Backup
	bucket, region, endpoint := backupTarget(b.S3)
	env := func(name, value string) any { return map[string]any{"name": name, "value": value} }
	fromSecret := func(name, key string) any {
		return map[string]any{"name": name, "valueFrom": map[string]any{
			"secretKeyRef": map[string]any{"name": backupS3Secret, "key": key},
		}}
	}
	container := map[string]any{
		"name":            "talos-backup",
		"image":           backupImage + ":" + b.Version,
		"workingDir":      "/tmp",
		"imagePullPolicy": "IfNotPresent",
		"env": []any{
			fromSecret("AWS_ACCESS_KEY_ID", "access_key"),
			fromSecret("AWS_SECRET_ACCESS_KEY", "secret_key"),
			env("AGE_X25519_PUBLIC_KEY", b.AgeX25519PublicKey),
			env("DISABLE_ENCRYPTION", strconv.FormatBool(b.AgeX25519PublicKey == "")),
			env("AWS_REGION", region),
			env("CUSTOM_S3_ENDPOINT", endpoint),
			env("BUCKET", bucket),
			env("CLUSTER_NAME", c.Cluster.Name),
			env("S3_PREFIX", b.S3.Prefix),
			env("USE_PATH_STYLE", strconv.FormatBool(b.S3.PathStyle)),
			env("ENABLE_COMPRESSION", strconv.FormatBool(b.EnableCompression)),
		},
		"resources": map[string]any{
			"requests": map[string]any{"memory": "128Mi", "cpu": "250m"},
			"limits":   map[string]any{"memory": "256Mi", "cpu": "500m"},
		},
		"securityContext": map[string]any{
			"runAsUser":                1000,
			"runAsGroup":               1000,
			"runAsNonRoot":             true,
			"allowPrivilegeEscalation": false,
			"capabilities":             map[string]any{"drop": []any{"ALL"}},
			"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
		},
		"volumeMounts": []any{
			map[string]any{"name": "tmp", "mountPath": "/tmp"},
			map[string]any{"name": "talos-secrets", "mountPath": "/var/run/secrets/talos.dev"},
		},
	}
	cronJob := Object{
		"apiVersion": "batch/v1",
		"kind":       "CronJob",
		"metadata":   metadata("talos-backup", kubeSystem),
		"spec": map[string]any{
			"schedule": b.Schedule,
			// Without a bucket there is nowhere to upload: keep the job
			// but do not run it.
			"suspend":           bucket == "",
			"concurrencyPolicy": "Forbid",
			"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers":    []any{container},
				"restartPolicy": "OnFailure",
				"volumes": []any{
					map[string]any{"name": "tmp", "emptyDir": map[string]any{}},
					map[string]any{"name": "talos-secrets", "secret": map[string]any{"secretName": backupTalosSecret}},
				},
				"tolerations": controlPlaneTolerations(),
			}}}},
		},
	}
	return Result{Objects: []Object{
		{
			"apiVersion": "talos.dev/v1alpha1",
			"kind":       "ServiceAccount",
			"metadata":   metadata(backupTalosSecret, kubeSystem),
			"spec":       map[string]any{"roles": []any{"os:etcd:backup"}},
		},
		secret(backupS3Secret, kubeSystem, map[string]string{"access_key": b.S3.AccessKey, "secret_key": b.S3.SecretKey}),
		cronJob,
	}}, nil
}
