// Package configtest builds the small cluster files that tests across the
// project start from, so that there is one fixture to read and change.
package configtest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// Pool is one node pool of a test cluster file.
type Pool struct {
	Name     string
	Type     string
	Location string
	Count    int
	Labels   map[string]string
}

// File is a test cluster file: a cluster name, the Kubernetes API source
// range of the firewall, one control-plane pool and any worker pools.
type File struct {
	Name         string
	APISource    string
	ControlPlane Pool
	Workers      []Pool
}

// Demo is the cluster most tests use: "demo" with three cpx22 control planes
// and two labelled cpx32 workers in fsn1.
func Demo() File {
	return File{
		Name:         "demo",
		APISource:    "203.0.113.0/24",
		ControlPlane: Pool{Name: "control", Type: "cpx22", Location: "fsn1", Count: 3},
		Workers: []Pool{{Name: "worker", Type: "cpx32", Location: "fsn1", Count: 2,
			Labels: map[string]string{"tier": "general"}}},
	}
}

// YAML renders the file as a cluster file.
func (f File) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: hcloud-k8s.io/v1alpha1\nkind: Cluster\ncluster:\n  name: %s\n", f.Name)
	fmt.Fprintf(&b, "firewall:\n  apiSource: [%s]\n", f.APISource)
	fmt.Fprintf(&b, "controlPlaneNodepools:\n  - %s\n", f.ControlPlane.flow())
	if len(f.Workers) > 0 {
		b.WriteString("workerNodepools:\n")
		for _, p := range f.Workers {
			fmt.Fprintf(&b, "  - %s\n", p.flow())
		}
	}
	return b.String()
}

func (p Pool) flow() string {
	s := fmt.Sprintf("{name: %s, type: %s, location: %s, count: %d", p.Name, p.Type, p.Location, p.Count)
	if len(p.Labels) > 0 {
		keys := make([]string, 0, len(p.Labels))
		for k := range p.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + p.Labels[k]
		}
		s += ", labels: {" + strings.Join(parts, ", ") + "}"
	}
	return s + "}"
}

// Load parses f as the loader would a file on disk, failing the test on any
// error. mutate, when not nil, changes the parsed cluster afterwards.
func Load(t testing.TB, f File, mutate func(c *config.Cluster)) *config.Cluster {
	t.Helper()
	c, err := config.Parse([]byte(f.YAML()), "test.yaml")
	if err != nil {
		t.Fatalf("test cluster file does not load: %v\n%s", err, f.YAML())
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}
