package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// versionInfo is what `hcloud-k8s version` reports.
type versionInfo struct {
	Version           string `json:"version"`
	Commit            string `json:"commit,omitempty"`
	GoVersion         string `json:"goVersion"`
	Platform          string `json:"platform"`
	DefaultTalos      string `json:"defaultTalosVersion"`
	DefaultKubernetes string `json:"defaultKubernetesVersion"`
}

// buildVersion reads the module version and VCS revision the Go toolchain embedded,
// so `go install ...@v1.2.3` reports v1.2.3 with no linker flags.
func buildVersion() versionInfo {
	v := versionInfo{
		Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		DefaultTalos: config.DefaultTalosVersion, DefaultKubernetes: config.DefaultKubernetesVersion,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
	}
	return v
}

func newVersionCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hcloud-k8s version and the Talos and Kubernetes versions it defaults to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			if o.output == outputJSON {
				return writeJSON(cmd.OutOrStdout(), kindVersion, v)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "hcloud-k8s %s", v.Version)
			if v.Commit != "" {
				fmt.Fprintf(w, " (%.12s)", v.Commit)
			}
			fmt.Fprintf(w, " %s %s\ndefaults: Talos %s, Kubernetes %s\n", v.GoVersion, v.Platform, v.DefaultTalos, v.DefaultKubernetes)
			return nil
		},
	}
}
