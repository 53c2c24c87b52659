package talos

import (
	"errors"
	"fmt"
	"strings"

	coreconfig "github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"go.yaml.in/yaml/v3"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// MachineryContract is the newest Talos version contract the pinned
// machinery (v1.13.9) can generate configurations for.
var MachineryContract = coreconfig.TalosVersion1_13

// VersionContract parses talos.version into machinery's version contract
// (major.minor), refusing versions newer than the pinned machinery: it can
// generate configurations for its own and older Talos releases only.
func VersionContract(talosVersion string) (*coreconfig.VersionContract, error) {
	vc, err := coreconfig.ParseContractFromVersion(talosVersion)
	if err != nil {
		return nil, fmt.Errorf("talos.version %q: %w", talosVersion, err)
	}
	if vc.Greater(MachineryContract) {
		return nil, fmt.Errorf("talos.version %s is newer than this hcloud-k8s build supports (Talos %s configuration contract); use an hcloud-k8s release made for Talos %d.%d",
			talosVersion, MachineryContract, vc.Major, vc.Minor)
	}
	return vc, nil
}

// Generate returns the machine configuration of one node (or, for
// RoleAutoscaler, of one autoscaler pool), encoded as the module's
// talos_machine_configuration data source encodes it (no docs, no
// examples). The result has passed machinery's validation in cloud mode.
//
// The output contains secrets (CA keys for control planes, tokens, the
// hcloud token of the VIP documents): write it only where secrets belong.
func Generate(c *config.Cluster, in NodeInputs) ([]byte, error) {
	cfg, err := build(c, in)
	if err != nil {
		return nil, err
	}
	data, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return nil, fmt.Errorf("encode machine configuration: %w", err)
	}
	if _, err := Validate(data); err != nil {
		return nil, fmt.Errorf("machine configuration of %s: %w", in.describe(), err)
	}
	return data, nil
}

func (in NodeInputs) describe() string {
	if in.Role == RoleAutoscaler {
		return "autoscaler pool " + in.Pool
	}
	return string(in.Role) + " " + in.ServerName
}

// Patches returns the node's config patches in the order Generate applies
// them, each encoded like Terraform's yamlencode(): common, cloud-only, role
// patches, then the user's talos.configPatches. They contain the hcloud token
// (control-plane VIP documents).
func Patches(c *config.Cluster, in NodeInputs) ([][]byte, error) {
	ps, _, err := patchesFor(c, in)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(ps))
	for i, p := range ps {
		b, err := encodePatch(p)
		if err != nil {
			return nil, fmt.Errorf("patch %d: %w", i+1, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func patchesFor(c *config.Cluster, in NodeInputs) ([]patch, facts, error) {
	if c == nil {
		return nil, facts{}, errors.New("no cluster file")
	}
	if err := in.check(c); err != nil {
		return nil, facts{}, fmt.Errorf("machine configuration of %s: %w", in.describe(), err)
	}
	f, err := deriveFacts(c, in.ClusterInputs)
	if err != nil {
		return nil, f, err
	}
	p, _ := poolOf(c, in.Role, in.Pool)

	ps := commonPatches(c, f)
	ps = append(ps, cloudPatches(c, f)...)
	var role []patch
	switch in.Role {
	case RoleControlPlane:
		role, err = controlPlanePatches(c, f, in, p)
	default:
		role, err = workerPatches(c, in, p)
	}
	if err != nil {
		return nil, f, err
	}
	ps = append(ps, role...)
	ps = append(ps, userPatches(c, in.Role)...)
	return ps, f, nil
}

// build generates the base configuration with machinery's generator and
// applies the patches, like the provider's bundle.NewBundle with
// WithPatchControlPlane / WithPatchWorker.
func build(c *config.Cluster, in NodeInputs) (coreconfig.Provider, error) {
	ps, f, err := patchesFor(c, in)
	if err != nil {
		return nil, err
	}
	vc, err := VersionContract(c.Talos.Version)
	if err != nil {
		return nil, err
	}
	input, err := generate.NewInput(
		c.Cluster.Name,
		f.endpoint,
		// The provider passes the version without "v"; machinery writes
		// image tags as "v" + version.
		strings.TrimPrefix(c.Kubernetes.Version, "v"),
		generate.WithClusterDiscovery(true),
		generate.WithDNSDomain("cluster.local"), // the provider's default; cluster.network.dnsDomain is patched
		generate.WithInstallDisk(InstallDisk),
		generate.WithSecretsBundle(in.Secrets),
		generate.WithVersionContract(vc),
	)
	if err != nil {
		return nil, fmt.Errorf("machine configuration input: %w", err)
	}
	mt := machine.TypeWorker
	if in.Role == RoleControlPlane {
		mt = machine.TypeControlPlane
	}
	base, err := input.Config(mt)
	if err != nil {
		return nil, fmt.Errorf("generate %s configuration: %w", mt, err)
	}

	loaded := make([]configpatcher.Patch, 0, len(ps))
	for i, p := range ps {
		b, err := encodePatch(p)
		if err != nil {
			return nil, fmt.Errorf("encode patch %d of %s: %w", i+1, in.describe(), err)
		}
		lp, err := configpatcher.LoadPatch(b)
		if err != nil {
			return nil, fmt.Errorf("patch %d of %s (%s): %w", i+1, in.describe(), patchName(p), err)
		}
		loaded = append(loaded, lp)
	}
	out, err := configpatcher.Apply(configpatcher.WithConfig(base), loaded)
	if err != nil {
		return nil, fmt.Errorf("apply patches to %s: %w", in.describe(), err)
	}
	return out.Config()
}

// encodePatch is Terraform's yamlencode(): block YAML with sorted keys.
func encodePatch(p patch) ([]byte, error) {
	return yaml.Marshal(p)
}

// patchName names a patch in errors without printing its content (patches
// may hold the hcloud token or user secrets).
func patchName(p patch) string {
	kind, _ := p["kind"].(string)
	if kind == "" {
		return "v1alpha1 machine/cluster patch"
	}
	if name, ok := p["name"].(string); ok && name != "" {
		return kind + " " + name
	}
	return kind
}

// cloudMode is the runtime mode Talos runs in on Hetzner Cloud servers
// (talosctl validate --mode cloud): installed to disk, not in a container.
type cloudMode struct{}

func (cloudMode) String() string        { return "cloud" }
func (cloudMode) RequiresInstall() bool { return true }
func (cloudMode) InContainer() bool     { return false }

// CloudMode is validation's runtime mode for Hetzner Cloud servers.
var CloudMode validation.RuntimeMode = cloudMode{}

// Validate loads an encoded machine configuration with machinery's strict
// loader and validates it in cloud mode, as `talosctl validate --mode cloud`
// does. It returns machinery's warnings.
func Validate(data []byte) ([]string, error) {
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	warnings, err := cfg.Validate(CloudMode, validation.WithLocal())
	if err != nil {
		return warnings, fmt.Errorf("invalid in cloud mode: %w", err)
	}
	return warnings, nil
}
