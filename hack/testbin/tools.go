package main

import (
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// tool is a binary of the test world with what building it takes.
type tool struct {
	testbin.Binary
	estimate string // what a cold build costs, for the progress message
	ldflags  func(version string) string
}

// tools adds build settings to testbin.Binaries, in the same order.
func tools() []tool {
	settings := map[string]tool{
		testbin.Etcd: {
			estimate: "2-3 minutes and 0.5 GB of RAM on 2 cores",
			ldflags:  func(string) string { return "-s -w" },
		},
		testbin.APIServer: {
			estimate: "8-13 minutes, up to 3 GB of RAM and 2.5 GB of GOCACHE on 2 cores",
			ldflags:  kubeLDFlags,
		},
		testbin.ControllerManager: {
			estimate: "about 3 minutes after kube-apiserver (shared packages), 8-20 on its own, on 2 cores",
			ldflags:  kubeLDFlags,
		},
		testbin.Scheduler: {
			estimate: "under a minute after kube-controller-manager (shared packages), about 8 on its own, on 2 cores",
			ldflags:  kubeLDFlags,
		},
		testbin.CCM: {
			estimate: "5-9 minutes and 1.5 GB of GOCACHE on 2 cores",
			ldflags:  ccmLDFlags,
		},
	}
	var out []tool
	for _, b := range testbin.Binaries() {
		t := settings[b.Name]
		t.Binary = b
		out = append(out, t)
	}
	return out
}

// kubeLDFlags stamps the version, otherwise the binary reports
// v0.0.0-master+$Format:%H$ and breaks version parsing in clients.
func kubeLDFlags(v string) string {
	minor := strings.TrimPrefix(v, "v1.")
	if i := strings.IndexByte(minor, '.'); i >= 0 {
		minor = minor[:i]
	}
	const p = "k8s.io/component-base/version"
	return strings.Join([]string{
		"-s -w",
		"-X " + p + ".gitVersion=" + v,
		"-X " + p + ".gitMajor=1",
		"-X " + p + ".gitMinor=" + minor,
		"-X " + p + ".gitTreeState=clean",
		"-X " + p + ".buildDate=1970-01-01T00:00:00Z",
	}, " ")
}

// ccmLDFlags stamps the version the way the CCM's release build does, so it
// logs and sends it in its User-Agent.
func ccmLDFlags(v string) string {
	return "-s -w -X " + testbin.CCMModule + "/hcloud.providerVersion=" + v
}
