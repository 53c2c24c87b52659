package talos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"go.yaml.in/yaml/v3"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// testBundle is one secrets bundle for the whole test binary: generating CAs
// is the slow part, and a fixed bundle makes every config deterministic.
var testBundle = sync.OnceValues(func() (*secrets.Bundle, error) {
	vc, err := VersionContract(config.DefaultTalosVersion)
	if err != nil {
		return nil, err
	}
	return secrets.NewBundle(secrets.NewFixedClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), vc)
})

func bundle(t testing.TB) *secrets.Bundle {
	t.Helper()
	b, err := testBundle()
	if err != nil {
		t.Fatalf("secrets bundle: %v", err)
	}
	return b
}

const testToken = "test-hcloud-token-0123456789abcdef0123456789abcdef0123456789abcdef0123"

// starter is the cluster file `hcloud-k8s init` writes: 3 control planes
// (pool "control") and 2 workers (pool "worker"), cluster "demo".
func starter(t testing.TB) *config.Cluster {
	t.Helper()
	return parseCluster(t, string(config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"})), "")
}

// parseCluster parses a cluster file: base with the YAML extra deep-merged
// over it (maps merge, everything else is replaced).
func parseCluster(t testing.TB, base, extra string) *config.Cluster {
	t.Helper()
	var b, e map[string]any
	if err := yaml.Unmarshal([]byte(base), &b); err != nil {
		t.Fatalf("base cluster file: %v", err)
	}
	if err := yaml.Unmarshal([]byte(extra), &e); err != nil {
		t.Fatalf("extra cluster file: %v", err)
	}
	data, err := yaml.Marshal(deepMerge(b, e))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(data, "cluster.yaml")
	if err != nil {
		t.Fatalf("cluster file: %v", err)
	}
	return c
}

func deepMerge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// cloud returns the cloud facts of a cluster whose control planes are
// <cluster>-<pool>-<n> with private IPs 10.0.64.<n>, public IPs
// 203.0.113.<n> and 2001:db8:<n>::1 (per the talos.public* switches).
func cloud(t testing.TB, c *config.Cluster) ClusterInputs {
	t.Helper()
	var cps []ControlPlaneNode
	n := 0
	for _, p := range c.ControlPlaneNodepools {
		for i := 1; i <= p.Count; i++ {
			n++
			cp := ControlPlaneNode{
				Name:        fmt.Sprintf("%s-%s-%d", c.Cluster.Name, p.Name, i),
				PrivateIPv4: netip.MustParseAddr(fmt.Sprintf("10.0.64.%d", n)),
			}
			if c.Talos.PublicIPv4Enabled {
				cp.PublicIPv4 = netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", n))
			}
			if c.Talos.PublicIPv6Enabled && c.Talos.IPv6Enabled {
				cp.PublicIPv6 = netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", n))
			}
			cps = append(cps, cp)
		}
	}
	in := ClusterInputs{Secrets: bundle(t), HCloudToken: testToken, ControlPlanes: cps}
	if c.KubeAPI.LoadBalancer.Enabled && c.KubeAPILoadBalancerPublic() {
		in.KubeAPILoadBalancerPublicIPv4 = netip.MustParseAddr("198.51.100.10")
		in.KubeAPILoadBalancerPublicIPv6 = netip.MustParseAddr("2001:db8:ffff::1")
	}
	if c.PublicVIPEnabled() {
		in.PublicVIPIPv4 = netip.MustParseAddr("198.51.100.20")
	}
	return in
}

func cpNode(t testing.TB, c *config.Cluster, in ClusterInputs) NodeInputs {
	t.Helper()
	return NodeInputs{ClusterInputs: in, Role: RoleControlPlane, Pool: c.ControlPlaneNodepools[0].Name,
		ServerName: c.Cluster.Name + "-" + c.ControlPlaneNodepools[0].Name + "-1", ServerID: 4711}
}

func workerNode(t testing.TB, c *config.Cluster, in ClusterInputs) NodeInputs {
	t.Helper()
	p := c.WorkerNodepools[0].Name
	return NodeInputs{ClusterInputs: in, Role: RoleWorker, Pool: p,
		ServerName: c.Cluster.Name + "-" + p + "-1", ServerID: 4712}
}

// docs is a decoded machine configuration: the v1alpha1 document and the
// other documents in order.
type docs struct {
	all []map[string]any
}

func decode(t testing.TB, data []byte) docs {
	t.Helper()
	var d docs
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode config: %v", err)
		}
		if m != nil {
			d.all = append(d.all, m)
		}
	}
	return d
}

func (d docs) v1alpha1(t testing.TB) map[string]any {
	t.Helper()
	for _, m := range d.all {
		if m["version"] == "v1alpha1" {
			return m
		}
	}
	t.Fatal("no v1alpha1 document")
	return nil
}

// find returns the document of the kind (and name, if not empty).
func (d docs) find(kind, name string) (map[string]any, bool) {
	for _, m := range d.all {
		if m["kind"] == kind && (name == "" || m["name"] == name) {
			return m, true
		}
	}
	return nil, false
}

func (d docs) count(kind string) int {
	n := 0
	for _, m := range d.all {
		if m["kind"] == kind {
			n++
		}
	}
	return n
}

// get follows a dotted path; a key may contain dots when written in
// brackets: machine.nodeLabels[nodepool]; [0] indexes lists.
func get(m any, path string) (any, bool) {
	cur := m
	for _, step := range splitPath(path) {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[step]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func splitPath(path string) []string {
	var out []string
	for path != "" {
		switch {
		case path[0] == '.':
			path = path[1:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			out = append(out, path[1:end])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, path[:end])
			path = path[end:]
		}
	}
	return out
}

func mustGet(t testing.TB, m any, path string) any {
	t.Helper()
	v, ok := get(m, path)
	if !ok {
		t.Fatalf("%s: not set", path)
	}
	return v
}

// equal compares YAML-decoded values with expectations written as Go
// literals ([]string, map[string]string, ints, bools).
func equal(got, want any) bool {
	return reflect.DeepEqual(normalize(got), normalize(want))
}

func normalize(v any) any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	default:
		return v
	}
}

func generateOK(t testing.TB, c *config.Cluster, in NodeInputs) (docs, []byte) {
	t.Helper()
	data, err := Generate(c, in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return decode(t, data), data
}

func starterBytes() []byte {
	return config.Starter(config.StarterOptions{Name: "demo", Location: "fsn1"})
}
