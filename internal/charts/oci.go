package charts

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"helm.sh/helm/v4/pkg/registry"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// ociRegistry is a repository path in an OCI registry (oci://host/path):
// chart name is the repository host/path/name, the version its tag.
type ociRegistry struct {
	what string // "mirror " or ""
	base string // host/path, without oci:// and a trailing slash
	key  string
	f    *Fetcher
}

func (r *ociRegistry) String() string   { return r.what + "OCI registry oci://" + r.base }
func (r *ociRegistry) cacheKey() string { return r.key }

func (r *ociRegistry) fetch(ctx context.Context, name, version string) ([]byte, error) {
	client, err := r.client(ctx)
	if err != nil {
		return nil, err
	}
	repository := r.base + "/" + name
	// Helm's client turns the + of a semver build into the _ that tags
	// allow.
	res, err := client.Pull(repository + ":" + version)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, fmt.Errorf("%w: oci://%s has no tag %s (%s)", ErrNotFound, repository, version, r.tagsOf(client, repository))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: pull oci://%s:%s: %w", ErrUnreachable, repository, version, err)
	}
	return res.Chart.Data, nil
}

// tagsOf lists the versions a registry has of a chart, for the error about
// a missing one; it says so when they cannot be listed.
func (r *ociRegistry) tagsOf(client *registry.Client, repository string) string {
	tags, err := client.Tags(repository)
	var resp *errcode.ErrorResponse
	if errors.Is(err, errdef.ErrNotFound) || (errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound) {
		return versionList(nil)
	}
	if err != nil {
		return fmt.Sprintf("its tags could not be listed: %v", err)
	}
	return versionList(tags)
}

// client is a Helm registry client whose requests go through the Fetcher's
// HTTP client and end when ctx does (Helm's client takes no context). It
// speaks plain HTTP to a loopback registry only: a registry elsewhere is
// reached over HTTPS, as Helm does unless told otherwise.
func (r *ociRegistry) client(ctx context.Context) (*registry.Client, error) {
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(&http.Client{
			Transport: ctxTransport{ctx: ctx, next: r.f.client.Transport},
			Timeout:   r.f.client.Timeout,
		}),
	}
	if r.f.registryConfig != "" {
		opts = append(opts, registry.ClientOptCredentialsFile(r.f.registryConfig))
	}
	if isLoopbackHost(r.base) {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	c, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry client: %w", err)
	}
	return c, nil
}
