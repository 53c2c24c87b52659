//go:build tools

// Package tools pins the kube-apiserver, kube-controller-manager and
// kube-scheduler run by the test world (internal/kubesim). They are built by
// hack/testbin; it is its own module so the k8s.io versions it pins never
// enter the main module's build list.
// Regenerate go.mod with ./gen.sh when bumping the Kubernetes version.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
