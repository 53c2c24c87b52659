// Package image finds and builds the Talos snapshots cluster servers boot from,
// labelled exactly as the module's Packer builds label them. Build replaces
// Packer: a temporary server in the rescue system streams the Image Factory's
// hcloud disk image onto its disk over SSH, and is snapshotted.
package image

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// Schematic is an Image Factory schematic: what goes into a Talos image.
type Schematic struct {
	Customization Customization `yaml:"customization"`
}

// Customization holds the schematic's kernel arguments and extensions.
type Customization struct {
	ExtraKernelArgs  []string         `yaml:"extraKernelArgs,omitempty"`
	SystemExtensions SystemExtensions `yaml:"systemExtensions,omitempty"`
}

// SystemExtensions lists official extensions by name.
type SystemExtensions struct {
	OfficialExtensions []string `yaml:"officialExtensions,omitempty"`
}

// CloudSchematic is the schematic of the module's hcloud images (docs/terraform-parity.md):
// the QEMU guest agent, the user's extensions, and Longhorn's iSCSI and util-linux
// tools when Longhorn is enabled, plus the extra kernel arguments.
func CloudSchematic(c *config.Cluster) Schematic {
	ext := []string{"siderolabs/qemu-guest-agent"}
	ext = append(ext, c.Talos.ImageExtensions...)
	if c.Addons.Longhorn.Enabled {
		ext = append(ext, "siderolabs/iscsi-tools", "siderolabs/util-linux-tools")
	}
	var distinct []string
	for _, e := range ext {
		if !slices.Contains(distinct, e) {
			distinct = append(distinct, e)
		}
	}
	return Schematic{Customization: Customization{
		ExtraKernelArgs:  slices.Clone(c.Talos.ExtraKernelArgs),
		SystemExtensions: SystemExtensions{OfficialExtensions: distinct},
	}}
}

// ID is the schematic's content address: the SHA-256 of its YAML form, which is how
// the Image Factory names schematics, so the same content always has the same ID.
func (s Schematic) ID() string {
	data, err := yaml.Marshal(s)
	if err != nil {
		// Marshalling plain strings cannot fail.
		panic("image: marshal schematic: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SchematicID is the cluster's cloud schematic: talos.schematicID if set, else
// the ID of CloudSchematic.
func SchematicID(c *config.Cluster) string {
	if c.Talos.SchematicID != "" {
		return c.Talos.SchematicID
	}
	return CloudSchematic(c).ID()
}

// Architectures lists the architectures the cluster's pools need, amd64 first.
func Architectures(c *config.Cluster) []string {
	need := map[string]bool{}
	for _, p := range c.ControlPlaneNodepools {
		need[layout.Architecture(p.Type)] = true
	}
	for _, p := range c.WorkerNodepools {
		need[layout.Architecture(p.Type)] = true
	}
	for _, p := range c.AutoscalerNodepools {
		need[layout.Architecture(p.Type)] = true
	}
	var out []string
	for _, a := range []string{layout.ArchAMD64, layout.ArchARM64} {
		if need[a] {
			out = append(out, a)
		}
	}
	return out
}
