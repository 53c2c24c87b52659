//go:build tools

// Package tools pins the etcd server used by the test API server
// (internal/kubesim). It is built by hack/testbin; it is its own module so
// its dependencies never enter the main module's build list.
package tools

import _ "go.etcd.io/etcd/server/v3"
