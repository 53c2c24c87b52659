package charts

// MirrorEnv names the environment variable that points every chart at a
// mirror, as addons.chartMirror would in the cluster file.
const MirrorEnv = "HCLOUD_K8S_CHART_MIRROR"

// MirrorFrom picks the mirror for Options.Mirror: the environment variable
// when it is set, else the cluster file's setting. The variable wins because
// it belongs to the machine: the same cluster file is applied from inside
// and outside an air-gapped network. getenv is os.Getenv outside tests.
func MirrorFrom(configured string, getenv func(string) string) string {
	if v := getenv(MirrorEnv); v != "" {
		return v
	}
	return configured
}
