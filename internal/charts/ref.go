package charts

import (
	"errors"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
)

// Ref names one version of a chart and, for error messages, the addon that
// wants it.
type Ref struct {
	// Addon is the addon's name (e.g. "talos-ccm"); "" leaves it out of
	// error messages.
	Addon string
	// Repository is an https:// (or http://) chart repository or an
	// oci:// registry path, e.g. oci://ghcr.io/siderolabs/charts.
	Repository string
	Name       string
	Version    string
}

// String is repository/name@version, the form every error of this package
// names a chart by.
func (r Ref) String() string {
	return strings.TrimSuffix(r.Repository, "/") + "/" + r.Name + "@" + r.Version
}

// Release is what a chart is rendered as.
type Release struct {
	Name      string
	Namespace string
	// NoHooks leaves the chart's hooks out of the result (addons.Chart's
	// NoHooks, the module's disable_webhooks).
	NoHooks bool
}

// ForAddon maps an addon's result onto what Fetch and Render take: the
// chart pin becomes a Ref named after the addon, the release name,
// namespace and NoHooks a Release. r.Values are the values to render with.
func ForAddon(r addons.Result) (Ref, Release, error) {
	if r.Chart == nil {
		return Ref{}, Release{}, errors.New("addon " + r.Name + " has no chart")
	}
	c := r.Chart
	return Ref{Addon: r.Name, Repository: c.Repository, Name: c.Name, Version: c.Version},
		Release{Name: c.Release, Namespace: c.Namespace, NoHooks: c.NoHooks}, nil
}
