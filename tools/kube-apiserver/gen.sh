#!/usr/bin/env bash
# Regenerate go.mod/go.sum for one Kubernetes release, e.g.:
#
#   cd tools/kube-apiserver && ./gen.sh v1.34.4
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go,
# ...) as v0.0.0 and maps them to ./staging with replace directives, which a
# consumer does not inherit. This script repeats those replaces, pointing every
# staging module at its published version (Kubernetes v1.X.Y => staging v0.X.Y).
# Only needed when bumping the version; commit the resulting go.mod and go.sum.
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
GOPROXY=$(go env GOPROXY); export GOPROXY=${GOPROXY%%[,|]*}
KV=${1:?usage: gen.sh v1.X.Y}
SV=v0.${KV#v1.}
rm -f go.mod go.sum
go mod init github.com/hcloud-k8s/hcloud-k8s/tools/kube-apiserver
go mod edit -go=1.26.8
mod=$(go list -m -f '{{.GoMod}}' "k8s.io/kubernetes@$KV")
args=()
for m in $(grep '=> ./staging/' "$mod" | awk '{print $1}'); do
  args+=("-replace=$m=$m@$SV")
done
go mod edit -require="k8s.io/kubernetes@$KV" "${args[@]}"
# Keep upstream's runtime defaults (e.g. "godebug default=go1.24" for v1.34).
for gd in $(awk '$1 == "godebug" && $2 != "(" {print $2}' "$mod"); do
  go mod edit -godebug="$gd"
done
go mod tidy
