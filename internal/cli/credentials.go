package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables shared with the official hcloud CLI.
const (
	envToken    = "HCLOUD_TOKEN"
	envEndpoint = "HCLOUD_ENDPOINT"
	// envPollInterval sets how often running actions are polled (default 1s).
	envPollInterval = "HCLOUD_POLL_INTERVAL"
	// envImageFactory points the image builder at another Talos Image Factory
	// (a mirror, or the simulator's fake); default https://factory.talos.dev.
	envImageFactory = "HCLOUD_K8S_IMAGE_FACTORY"
	// envRescueSSHPort is the rescue system's SSH port: 22 on Hetzner; the local
	// simulator serves it elsewhere.
	envRescueSSHPort = "HCLOUD_K8S_RESCUE_SSH_PORT"
)

// credentials say how to reach the Hetzner Cloud API. Token is a secret: it is never
// printed, logged or included in an error.
type credentials struct {
	Token    string
	Endpoint string // empty: the public API
}

// credentials resolves the token from --token-file, else HCLOUD_TOKEN. There is
// deliberately no --token flag: arguments end up in shell history and process lists.
func (o *options) credentials() (credentials, error) {
	c := credentials{Endpoint: strings.TrimSpace(o.env.Getenv(envEndpoint))}
	if o.tokenFile != "" {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return c, fmt.Errorf("read --token-file: %w", err)
		}
		if fi, err := os.Stat(o.tokenFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(o.env.Stderr, "Warning: token file %s is readable by other users (mode %v); run chmod 600 %s\n", o.tokenFile, fi.Mode().Perm(), o.tokenFile)
		}
		c.Token = strings.TrimSpace(string(data))
		if c.Token == "" {
			return c, fmt.Errorf("--token-file %s is empty; it must hold a Hetzner Cloud API token", o.tokenFile)
		}
	} else {
		c.Token = strings.TrimSpace(o.env.Getenv(envToken))
	}
	if c.Token == "" {
		return c, errors.New("no Hetzner Cloud API token: set HCLOUD_TOKEN or pass --token-file (create a read/write token in the Hetzner Cloud console under Security > API tokens)")
	}
	if strings.ContainsAny(c.Token, " \t\r\n") {
		return c, errors.New("the Hetzner Cloud API token contains whitespace; check HCLOUD_TOKEN or --token-file")
	}
	return c, nil
}

// clusterStateDir is where a cluster's Talos secrets, talosconfig and kubeconfig live.
func (o *options) clusterStateDir(cluster string) (string, error) {
	dir := o.stateDir
	if dir == "" {
		base := o.env.Getenv("XDG_STATE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("find a state directory (pass --state-dir): %w", err)
			}
			base = filepath.Join(home, ".local", "state")
		}
		dir = filepath.Join(base, "hcloud-k8s", cluster)
	}
	if err := tightenStateDir(dir, o.env.Stderr); err != nil {
		return "", err
	}
	return dir, nil
}

// tightenStateDir makes an existing state directory private (0700): it holds
// the Talos secrets and admin credentials, and a directory others can list or
// enter exposes their names and, with a looser file, their contents. A missing
// directory is left to the code that creates it with the right mode.
func tightenStateDir(dir string, warn io.Writer) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state directory %s is not a directory; pass --state-dir with a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("state directory %s has mode %04o, which lets other users read the cluster's secrets, and it could not be tightened: %w", dir, perm, err)
		}
		fmt.Fprintf(warn, "Warning: state directory %s had mode %04o; changed it to 0700 because it holds the cluster's secrets.\n", dir, perm)
	}
	return nil
}
