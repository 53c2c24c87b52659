package charts

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is. Every error this package returns is an *Error
// that names the addon and chart; these say what went wrong.
var (
	// ErrNotFound: the repository, registry or mirror answered but has no
	// such chart or version.
	ErrNotFound = errors.New("chart version not found")
	// ErrUnreachable: the repository, registry or mirror could not be read.
	ErrUnreachable = errors.New("chart source unreachable")
	// ErrInvalidArchive: what was served is not a readable chart archive.
	ErrInvalidArchive = errors.New("not a chart archive")
	// ErrDigestMismatch: a cached archive, or a new download of a version
	// already recorded, differs from the digest recorded at first download.
	ErrDigestMismatch = errors.New("chart archive digest mismatch")
	// ErrInvalidValues: the values do not satisfy the chart's
	// values.schema.json (or a subchart's).
	ErrInvalidValues = errors.New("values rejected by the chart's schema")
	// ErrKubeVersion: the chart's kubeVersion constraint excludes the
	// cluster's Kubernetes version.
	ErrKubeVersion = errors.New("chart does not support the cluster's Kubernetes version")
)

// Error is a failure to fetch or render one chart, or to fetch a manifest.
type Error struct {
	Addon string // "" when the caller named none
	Chart string // Ref.String(); "" for a manifest
	// URL is the manifest's URL (FetchManifest), "" for a chart.
	URL string
	Err error
}

func (e *Error) Error() string {
	s := "chart " + e.Chart + ": " + e.Err.Error()
	if e.URL != "" {
		s = "manifest " + e.URL + ": " + e.Err.Error()
	}
	if e.Addon != "" {
		s = "addon " + e.Addon + ": " + s
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// errorf wraps a failure concerning r in an *Error.
func (r Ref) errorf(format string, args ...any) error {
	return &Error{Addon: r.Addon, Chart: r.String(), Err: fmt.Errorf(format, args...)}
}
