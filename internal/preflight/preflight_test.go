package preflight

import (
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
)

var (
	fsn1 = &hcloud.Location{Name: "fsn1"}
	nbg1 = &hcloud.Location{Name: "nbg1"}
	hel1 = &hcloud.Location{Name: "hel1"}
)

func offer(loc *hcloud.Location, available bool) hcloud.ServerTypeLocation {
	return hcloud.ServerTypeLocation{Location: loc, Available: available}
}

func deprecated(after string) hcloud.DeprecatableResource {
	t, _ := time.Parse("2006-01-02", after)
	return hcloud.DeprecatableResource{Deprecation: &hcloud.DeprecationInfo{Announced: t.AddDate(0, -3, 0), UnavailableAfter: t}}
}

// catalogue: cpx22 everywhere; cpx32 sold out in fsn1; cx11 deprecated;
// cx23 deprecated in fsn1 only; cax11 arm everywhere; odd11 is an arm type
// whose name the cax rule reads as amd64.
func catalogue() *Catalogue {
	depFsn1 := offer(fsn1, true)
	depFsn1.DeprecatableResource = deprecated("2027-01-01")
	return NewCatalogue([]*hcloud.ServerType{
		{Name: "cpx22", Architecture: hcloud.ArchitectureX86, Locations: []hcloud.ServerTypeLocation{offer(fsn1, true), offer(nbg1, true), offer(hel1, true)}},
		{Name: "cpx32", Architecture: hcloud.ArchitectureX86, Locations: []hcloud.ServerTypeLocation{offer(fsn1, false), offer(nbg1, false), offer(hel1, true)}},
		{Name: "cx11", Architecture: hcloud.ArchitectureX86, DeprecatableResource: deprecated("2026-06-01"), Locations: []hcloud.ServerTypeLocation{offer(fsn1, true)}},
		{Name: "cx23", Architecture: hcloud.ArchitectureX86, Locations: []hcloud.ServerTypeLocation{depFsn1, offer(nbg1, true)}},
		{Name: "cax11", Architecture: hcloud.ArchitectureARM, Locations: []hcloud.ServerTypeLocation{offer(fsn1, true), offer(nbg1, true)}},
		{Name: "odd11", Architecture: hcloud.ArchitectureARM, Locations: []hcloud.ServerTypeLocation{offer(fsn1, true)}},
	}, []*hcloud.Location{fsn1, nbg1, hel1}, []*hcloud.LoadBalancerType{{Name: "lb11"}})
}

// planFor desires c and diffs it against an empty project.
func planFor(t *testing.T, c *config.Cluster) (*infra.State, *infra.Plan) {
	t.Helper()
	desired, err := infra.Desire(c, infra.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	observed := infra.FromCloud(c.Cluster.Name, c.Cluster.Domain, infra.Cloud{})
	return desired, infra.Diff(desired, observed)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *config.Cluster)
		missing []image.Snapshot
		want    []string // each a problem's beginning, in order
	}{
		{name: "every type orderable", mutate: func(c *config.Cluster) { c.WorkerNodepools[0].Type = "cpx22" }},
		{
			name: "sold out, deprecated and unknown pools all at once",
			mutate: func(c *config.Cluster) {
				c.ControlPlaneNodepools[0].Type = "cx11"
				c.WorkerNodepools[0].Type = "cpx32"
				c.WorkerNodepools = append(c.WorkerNodepools, c.WorkerNodepools[0])
				c.WorkerNodepools[1].Name, c.WorkerNodepools[1].Type = "big", "zz1"
			},
			want: []string{
				"controlPlaneNodepools[0] (control): 3 new server(s) of type cx11 in fsn1: server type cx11 is deprecated (unavailable after 2026-06-01) and can no longer be ordered",
				"workerNodepools[0] (worker): 2 new server(s) of type cpx32 in fsn1: Hetzner has no stock of cpx32 in fsn1 right now; it is in stock in hel1; change location, or list fallbackLocations",
				"workerNodepools[1] (big): 2 new server(s) of type zz1 in fsn1: server type zz1 does not exist; Hetzner offers cpx22, cpx32, cx23 (amd64); cax11, odd11 (arm64)",
			},
		},
		{
			name:   "deprecated in one location",
			mutate: func(c *config.Cluster) { c.WorkerNodepools[0].Type = "cx23" },
			want:   []string{"workerNodepools[0] (worker): 2 new server(s) of type cx23 in fsn1: server type cx23 is deprecated in fsn1 (unavailable after 2027-01-01)"},
		},
		{
			name:   "architecture the snapshot does not have",
			mutate: func(c *config.Cluster) { c.WorkerNodepools[0].Type = "odd11" },
			want:   []string{"workerNodepools[0] (worker): server type odd11 runs arm64, but its servers would boot the amd64 Talos snapshot"},
		},
		{
			name: "build server of a missing snapshot",
			mutate: func(c *config.Cluster) {
				c.WorkerNodepools[0].Type = "cpx22"
				c.Images.AMD64.Builder = config.Builder{ServerType: "cax11", Location: "fsn1"}
			},
			missing: []image.Snapshot{{Arch: "amd64"}},
			want:    []string{"images.amd64.builder.serverType: cax11 runs arm64; the amd64 snapshot needs a build server of that architecture"},
		},
		{
			name: "build server sold out",
			mutate: func(c *config.Cluster) {
				c.WorkerNodepools[0].Type = "cpx22"
				c.Images.AMD64.Builder = config.Builder{ServerType: "cpx32", Location: "nbg1"}
			},
			missing: []image.Snapshot{{Arch: "amd64"}},
			want:    []string{"images.amd64.builder: the amd64 Talos snapshot must be built, but its build server cannot be ordered: Hetzner has no stock of cpx32 in nbg1 right now"},
		},
		{
			name: "network full with the autoscaler's maxima",
			mutate: func(c *config.Cluster) {
				c.WorkerNodepools[0].Type = "cpx22"
				c.AutoscalerNodepools = []config.AutoscalerPool{{Nodepool: config.Nodepool{Name: "auto", Type: "cpx22", Location: "fsn1"}, Max: 96}}
			},
			want: []string{"network: 5 servers and up to 96 autoscaled ones would join it; a Hetzner network holds at most 100 servers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configtest.Load(t, configtest.Demo(), tt.mutate)
			desired, p := planFor(t, c)
			got := Check(c, catalogue(), desired, p, tt.missing)
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n  %s\nwant %d", strings.Join(got, "\n  "), len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// Servers that exist are not held to today's catalogue: a type that sold out
// since they were ordered does not stop a plan.
func TestCheckLeavesExistingServersAlone(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), nil) // cpx32 workers: sold out in fsn1
	desired, p := planFor(t, c)
	for i := range p.Changes {
		if p.Changes[i].Ref.Kind == infra.KindServer {
			p.Changes[i].Action = infra.ActionNoop
		}
	}
	if got := Check(c, catalogue(), desired, p, nil); len(got) != 0 {
		t.Errorf("problems for existing servers: %v", got)
	}
}

func TestPlace(t *testing.T) {
	c := configtest.Load(t, configtest.Demo(), func(c *config.Cluster) {
		c.WorkerNodepools[0].FallbackLocations = []string{"nbg1", "hel1"}
		c.WorkerNodepools[0].Count = 3
	})
	desired, err := infra.Desire(c, infra.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	// demo-worker-1 exists in nbg1 (placed there by an earlier fallback),
	// demo-worker-2 in fsn1; demo-worker-3 is new.
	observed := infra.FromCloud("demo", c.Cluster.Domain, infra.Cloud{Servers: []*hcloud.Server{
		{ID: 1, Name: "demo-worker-1", Location: nbg1, Labels: map[string]string{"cluster": "demo"}},
		{ID: 2, Name: "demo-worker-2", Location: fsn1, Labels: map[string]string{"cluster": "demo"}},
	}})
	notes := Place(c, catalogue(), desired, observed)
	loc := func(name string) string {
		return desired.Get(infra.Ref{Kind: infra.KindServer, Name: name}).Server.Location
	}
	if loc("demo-worker-1") != "nbg1" || loc("demo-worker-2") != "fsn1" || loc("demo-worker-3") != "hel1" {
		t.Errorf("locations %s %s %s, want nbg1 (stays) fsn1 (stays) hel1 (first with stock)", loc("demo-worker-1"), loc("demo-worker-2"), loc("demo-worker-3"))
	}
	if loc("demo-control-1") != "fsn1" {
		t.Errorf("a pool without fallbackLocations moved: %s", loc("demo-control-1"))
	}
	want := "workerNodepools[0] (worker): Hetzner has no stock of cpx32 in fsn1 right now; it is in stock in hel1; 1 new server(s) go to hel1, the first of fallbackLocations with stock"
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("notes = %q\nwant %q", notes, want)
	}
}
