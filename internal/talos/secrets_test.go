package talos

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
)

func TestSecretsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "demo")

	b, created, err := EnsureSecrets(dir, "demo", "v1.13.9", false)
	if err != nil || !created || b == nil {
		t.Fatalf("EnsureSecrets on a new cluster = %v, created %v, err %v", b, created, err)
	}
	fi, err := os.Stat(SecretsPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state directory holds %d entries, want only %s", len(entries), SecretsFileName)
	}

	// Loading gives back the same bundle; a second Ensure does not create.
	again, created, err := EnsureSecrets(dir, "demo", "v1.13.9", true)
	if err != nil || created {
		t.Fatalf("second EnsureSecrets: created %v, err %v", created, err)
	}
	want, _ := MarshalSecrets(b)
	got, _ := MarshalSecrets(again)
	if !bytes.Equal(want, got) {
		t.Error("loaded bundle differs from the saved one")
	}
	if again.Clock == nil {
		t.Error("loaded bundle has no clock")
	}

	// The file is in talosctl's format: machinery's own loader reads it.
	viaMachinery, err := secrets.LoadBundle(SecretsPath(dir))
	if err != nil {
		t.Fatalf("secrets.LoadBundle: %v", err)
	}
	if m, _ := MarshalSecrets(viaMachinery); !bytes.Equal(m, want) {
		t.Error("machinery reads a different bundle")
	}
	// Version contract 1.13: secretbox encryption, aggregator CA present.
	if b.Secrets.SecretboxEncryptionSecret == "" || b.Certs.K8sAggregator == nil {
		t.Error("bundle lacks secretbox secret or aggregator CA")
	}

	// Never replaced.
	if err := SaveSecrets(dir, bundle(t)); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("SaveSecrets over an existing bundle = %v, want refusal", err)
	}
	if got, _ := os.ReadFile(SecretsPath(dir)); !bytes.Equal(got, want) {
		t.Error("existing bundle was modified")
	}
}

func TestSecretsLossDetection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	b, created, err := EnsureSecrets(dir, "demo", "v1.13.9", true)
	if b != nil || created {
		t.Fatal("EnsureSecrets generated secrets for an existing cluster")
	}
	var lost *SecretsLostError
	if !errors.As(err, &lost) || !errors.Is(err, ErrSecretsLost) {
		t.Fatalf("err = %v, want a SecretsLostError", err)
	}
	msg := err.Error()
	for _, want := range []string{"demo", SecretsPath(dir), "certificate authorities", "reject", "backup", "--from-controlplane-config", "destroy"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if _, err := os.Stat(SecretsPath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a bundle was written for an existing cluster")
	}
}

func TestLoadSecretsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSecrets(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	// A corrupt file is an error that does not echo its content, and it is
	// not treated as missing (EnsureSecrets must not replace it).
	secret := "cluster:\n  id: SUPERSECRETVALUE\n  secret: [not, a, string]\n"
	if err := os.WriteFile(SecretsPath(dir), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSecrets(dir)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("corrupt file: %v", err)
	}
	if strings.Contains(err.Error(), "SUPERSECRETVALUE") || strings.Contains(err.Error(), "not, a") {
		t.Errorf("error echoes file content: %v", err)
	}
	if _, _, err := EnsureSecrets(dir, "demo", "v1.13.9", false); err == nil {
		t.Error("EnsureSecrets replaced a corrupt bundle")
	}
	// Incomplete bundle.
	if err := os.WriteFile(SecretsPath(dir), []byte("cluster:\n  id: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecrets(dir); err == nil || !strings.Contains(err.Error(), "invalid Talos secrets bundle") {
		t.Errorf("incomplete bundle: %v", err)
	}
}

func TestLoadSecretsTightensMode(t *testing.T) {
	dir := t.TempDir()
	data, err := MarshalSecrets(bundle(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(SecretsPath(dir), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecrets(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(SecretsPath(dir))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after load, want 0600", fi.Mode().Perm())
	}
}

func TestNewSecretsVersion(t *testing.T) {
	if _, err := NewSecrets("v1.14.0"); err == nil {
		t.Error("NewSecrets accepted a Talos version newer than machinery")
	}
}

func TestSecretsFromMachineConfig(t *testing.T) {
	c := starter(t)
	in := cloud(t, c)
	cp, err := Generate(c, cpNode(t, c, in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := SecretsFromMachineConfig(cp)
	if err != nil {
		t.Fatal(err)
	}
	orig := bundle(t)
	if !bytes.Equal(b.Certs.OS.Key, orig.Certs.OS.Key) || !bytes.Equal(b.Certs.K8s.Key, orig.Certs.K8s.Key) ||
		!bytes.Equal(b.Certs.Etcd.Key, orig.Certs.Etcd.Key) || b.Cluster.Secret != orig.Cluster.Secret ||
		b.Secrets.BootstrapToken != orig.Secrets.BootstrapToken {
		t.Error("recovered bundle differs from the original")
	}
	w, err := Generate(c, workerNode(t, c, in))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SecretsFromMachineConfig(w); err == nil {
		t.Error("recovered secrets from a worker configuration")
	}
}
