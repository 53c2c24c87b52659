package infra

import (
	"context"
	"fmt"
	"sync"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// clashLookups is how many name lookups NameClashes sends at once.
const clashLookups = 4

// NameClashes looks up, by name, every resource the plan creates (and the
// state marker, while the cluster has none) and returns a problem for each
// name already taken by something that is not this cluster's. Observe sees
// only what carries the cluster label, so without this a foreign network named
// like the cluster's would stop apply only after the firewall, SSH key and
// placement groups were created. One request per new name; kinds without
// names (subnets) are not looked up.
func NameClashes(ctx context.Context, client *hetzner.Client, p *Plan) ([]string, error) {
	var refs []Ref
	for _, ch := range p.Changes {
		if ch.Action == ActionCreate {
			refs = append(refs, ch.Ref)
		}
	}
	if !p.Initialized {
		refs = append(refs, stateMarker(p.Cluster).Ref())
	}
	problems := make([]string, len(refs))
	errs := make([]error, len(refs))
	sem := make(chan struct{}, clashLookups)
	var wg sync.WaitGroup
	for i, ref := range refs {
		f, ok := kinds.ops(ref.Kind).(finder)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var found Cloud
			errs[i] = client.Retry(ctx, "look up "+ref.Kind.Title()+" "+ref.Name, func(ctx context.Context) error {
				found = Cloud{}
				return f.find(ctx, client.API(), ref.Name, &found)
			})
			if errs[i] == nil {
				problems[i] = clash(p.Cluster, ref, found)
			}
		}()
	}
	wg.Wait()
	var out []string
	for i := range refs {
		if errs[i] != nil {
			return nil, fmt.Errorf("check that the names the plan needs are free: %w", errs[i])
		}
		if problems[i] != "" {
			out = append(out, problems[i])
		}
	}
	return out, nil
}

// clash is the problem with ref's name being taken by what found holds, or ""
// when nothing, or something of this cluster's, holds it.
func clash(cluster string, ref Ref, found Cloud) string {
	o := FromCloud(cluster, "", found).Get(ref)
	if o == nil || o.Labels[layout.LabelCluster] == cluster {
		return ""
	}
	return foreignName(ref, cluster, o.Labels[layout.LabelCluster])
}

// foreignName says that a name the cluster needs belongs to something else.
func foreignName(ref Ref, cluster, owner string) string {
	whose := "does not carry the label cluster=" + cluster
	if owner != "" {
		whose = "belongs to cluster " + owner + " (label cluster=" + owner + ")"
	}
	return fmt.Sprintf("a %s named %s already exists but %s; hcloud-k8s will not touch it: rename or delete it, or pick another cluster name", ref.Kind.Title(), ref.Name, whose)
}
