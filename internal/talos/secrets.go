package talos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	yamlv4 "go.yaml.in/yaml/v4"
)

// SecretsFileName is the secrets bundle's file in the cluster's state
// directory. Its format is that of `talosctl gen secrets`, so talosctl can
// use it too (talosctl gen config --with-secrets).
const SecretsFileName = "secrets.yaml"

// File modes of the state directory and the secrets bundle.
const (
	StateDirMode = 0o700
	SecretsMode  = 0o600
)

// maxSecretsSize bounds what LoadSecrets reads; a bundle is a few kilobytes.
const maxSecretsSize = 1 << 20

// NewSecrets generates a new machine secrets bundle (cluster ID and secret,
// bootstrap token, secretbox key, trustd token, and the etcd, Kubernetes,
// aggregator, service-account and Talos OS CAs) for the version contract of
// talosVersion, like the module's talos_machine_secrets resource.
func NewSecrets(talosVersion string) (*secrets.Bundle, error) {
	vc, err := VersionContract(talosVersion)
	if err != nil {
		return nil, err
	}
	b, err := secrets.NewBundle(secrets.NewClock(), vc)
	if err != nil {
		return nil, fmt.Errorf("generate Talos secrets: %w", err)
	}
	return b, nil
}

// SecretsPath is the bundle's path in the state directory dir.
func SecretsPath(dir string) string { return filepath.Join(dir, SecretsFileName) }

// MarshalSecrets encodes a bundle in `talosctl gen secrets` format.
func MarshalSecrets(b *secrets.Bundle) ([]byte, error) {
	if b == nil {
		return nil, errors.New("no secrets bundle")
	}
	var buf bytes.Buffer
	enc := yamlv4.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(b); err != nil {
		return nil, errors.New("encode Talos secrets bundle failed") // never echo content
	}
	if err := enc.Close(); err != nil {
		return nil, errors.New("encode Talos secrets bundle failed")
	}
	return buf.Bytes(), nil
}

// UnmarshalSecrets decodes and validates a bundle in `talosctl gen secrets`
// format. Errors never quote the input.
func UnmarshalSecrets(data []byte) (*secrets.Bundle, error) {
	b := &secrets.Bundle{Clock: secrets.NewClock()}
	dec := yamlv4.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(b); err != nil {
		// YAML errors can quote the offending value: say only where.
		return nil, fmt.Errorf("not a Talos secrets bundle (YAML could not be decoded%s)", yamlErrorLine(err))
	}
	if err := b.Validate(); err != nil {
		// Validation messages name missing or malformed fields, not values.
		return nil, fmt.Errorf("invalid Talos secrets bundle: %w", err)
	}
	return b, nil
}

// yamlErrorLine extracts only the position of a YAML error.
func yamlErrorLine(err error) string {
	var te *yamlv4.TypeError
	if errors.As(err, &te) {
		return ": wrong types"
	}
	if errors.Is(err, io.EOF) {
		return ": file is empty"
	}
	return ""
}

// SaveSecrets writes the bundle to dir/secrets.yaml with mode 0600, creating
// dir with mode 0700. It never replaces an existing bundle: the file is
// written to a temporary name and linked into place, which fails if
// secrets.yaml exists.
func SaveSecrets(dir string, b *secrets.Bundle) error {
	data, err := MarshalSecrets(b)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, StateDirMode); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	path := SecretsPath(dir)
	tmp, err := os.CreateTemp(dir, ".secrets-*.yaml")
	if err != nil {
		return fmt.Errorf("write Talos secrets: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) //nolint:errcheck // best effort; gone after a successful link
	if err := tmp.Chmod(SecretsMode); err != nil {
		tmp.Close()
		return fmt.Errorf("write Talos secrets: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write Talos secrets: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write Talos secrets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write Talos secrets: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("Talos secrets %s already exist; refusing to replace them", path)
		}
		// File systems without hard links: fall back to an existence check
		// and a rename.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("Talos secrets %s already exist; refusing to replace them", path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("write Talos secrets: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new directory entry durable
		d.Close()
	}
	return nil
}

// LoadSecrets reads dir/secrets.yaml. A missing file is reported as an
// error wrapping fs.ErrNotExist. A file readable by group or others is
// tightened to 0600.
func LoadSecrets(dir string) (*secrets.Bundle, error) {
	path := SecretsPath(dir)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read Talos secrets: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, SecretsMode); err != nil {
			return nil, fmt.Errorf("Talos secrets %s are readable by other users (mode %v) and could not be restricted: %w", path, fi.Mode().Perm(), err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretsSize+1))
	if err != nil {
		return nil, fmt.Errorf("read Talos secrets: %w", err)
	}
	if len(data) > maxSecretsSize {
		return nil, fmt.Errorf("Talos secrets %s: file is larger than %d bytes", path, maxSecretsSize)
	}
	b, err := UnmarshalSecrets(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ErrSecretsLost is wrapped by the error EnsureSecrets returns when the
// cluster exists but its secrets bundle does not.
var ErrSecretsLost = errors.New("Talos secrets of an existing cluster are missing")

// SecretsLostError explains what losing the bundle means and how to recover.
type SecretsLostError struct {
	Cluster string
	Path    string
}

func (e *SecretsLostError) Error() string {
	return fmt.Sprintf(`%s: cluster %q already has servers in Hetzner Cloud, but its Talos secrets bundle %s does not exist.
hcloud-k8s will not generate a new one: new secrets mean new Talos and Kubernetes certificate authorities, so every existing node would reject hcloud-k8s (and its talosconfig and kubeconfig), and new nodes could not join the cluster.
To recover, either
  - restore %s from a backup (or pass --state-dir pointing at the directory that holds it; the Terraform module's equivalent is its talos_machine_secrets output);
  - or, if a talosconfig of this cluster still works, read a control plane's machine configuration (talosctl -n <control-plane-ip> get machineconfig -o jsonpath='{.spec}' > controlplane.yaml) and rebuild the bundle from it (talosctl gen secrets --from-controlplane-config controlplane.yaml -o %s), then chmod 600 it;
  - or, if the cluster's data is expendable, destroy the cluster and create it again.`,
		ErrSecretsLost, e.Cluster, e.Path, SecretsFileName, e.Path)
}

func (e *SecretsLostError) Unwrap() error { return ErrSecretsLost }

// EnsureSecrets returns the cluster's secrets bundle from the state
// directory dir. When there is none it creates and saves one (created is
// then true) — unless clusterExists says the cluster already has servers in
// Hetzner Cloud: then it returns a *SecretsLostError and creates nothing.
func EnsureSecrets(dir, clusterName, talosVersion string, clusterExists bool) (b *secrets.Bundle, created bool, err error) {
	b, err = LoadSecrets(dir)
	if err == nil {
		return b, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if clusterExists {
		return nil, false, &SecretsLostError{Cluster: clusterName, Path: SecretsPath(dir)}
	}
	b, err = NewSecrets(talosVersion)
	if err != nil {
		return nil, false, err
	}
	if err := SaveSecrets(dir, b); err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// SecretsFromMachineConfig rebuilds a bundle from a control plane's machine
// configuration (it holds every CA key), the way `talosctl gen secrets
// --from-controlplane-config` does.
func SecretsFromMachineConfig(data []byte) (*secrets.Bundle, error) {
	cfg, err := configloader.NewFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("load machine configuration: %w", err)
	}
	if !cfg.Machine().Type().IsControlPlane() {
		return nil, errors.New("a control plane's machine configuration is needed: worker configurations do not hold the CA keys")
	}
	b := secrets.NewBundleFromConfig(secrets.NewFixedClock(time.Now()), cfg)
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("machine configuration does not hold a complete secrets bundle: %w", err)
	}
	return b, nil
}
