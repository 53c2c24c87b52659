// Package charts fetches the Helm charts of the addons and renders them
// client-side into Kubernetes objects.
//
// A Fetcher turns a Ref (repository, name, version; ForAddon makes one from
// an addons.Result) into the chart's archive: from an HTTP chart repository
// (index.yaml, then the URL it lists), from an OCI registry (oci://, through
// Helm's registry client), or from a mirror that replaces every chart's
// repository (an HTTP chart repository, an OCI registry or a local
// directory of <name>-<version>.tgz files) for air-gapped users; see
// MirrorFrom and MirrorEnv. Archives are cached under the user cache
// directory, keyed by the source they came from, with their sha256
// recorded at first download; an archive that no longer matches the record
// is refused rather than rendered. docs/charts.md is the user's account.
//
// Render renders an archive as `helm template` would, with the cluster's
// Kubernetes version and API versions, checking values.schema.json and the
// chart's kubeVersion, and splits the result into CRDs, hooks (by event
// and weight, test hooks dropped) and ordinary objects, each parsed and in
// a stable order.
//
// Every error is an *Error naming the addon and the chart as
// repository/name@version; errors.Is tells the failures apart (ErrNotFound,
// ErrUnreachable, ErrDigestMismatch, ErrInvalidValues, ErrKubeVersion,
// ErrInvalidArchive).
//
// Left to the caller: applying the objects (CRDs established first, hooks
// in their order), defaulting the namespace of namespaced objects (which
// needs the cluster's REST mapping; Helm leaves it unset too), the
// inventory and pruning (internal/kubeapply, internal/install), and reading
// addons.chartMirror (internal/lifecycle passes it with MirrorFrom).
package charts
