package infra

import (
	"context"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindPlacementGroup is a spread placement group.
const KindPlacementGroup Kind = "placement_group"

// PlacementGroupSpec is a spread placement group (at most 10 servers).
type PlacementGroupSpec struct {
	Type string `json:"type"` // spread
}

// placementGroupKind: worker pools get one group per ten servers, so scaling a
// pool across a multiple of ten creates or deletes one.
type placementGroupKind struct{}

func (placementGroupKind) about() kindInfo {
	return kindInfo{kind: KindPlacementGroup, title: "placement group", order: 4, destroyAfter: []Kind{KindServer}}
}

func (placementGroupKind) observe(s *State, c *Cloud) {
	for _, pg := range c.PlacementGroups {
		s.add(&Resource{Kind: KindPlacementGroup, Name: pg.Name, ID: pg.ID, Labels: pg.Labels, PlacementGroup: &PlacementGroupSpec{Type: string(pg.Type)}})
	}
}

func (placementGroupKind) find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error {
	return getByName(ctx, api.PlacementGroup.GetByName, name, &c.PlacementGroups)
}

func (placementGroupKind) setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error {
	return errOf(api.PlacementGroup.Update(ctx, &hcloud.PlacementGroup{ID: id}, hcloud.PlacementGroupUpdateOpts{Labels: labels}))
}

func (placementGroupKind) create(ctx context.Context, r *run, d *Resource) error {
	opts := hcloud.PlacementGroupCreateOpts{Name: d.Name, Labels: d.Labels, Type: hcloud.PlacementGroupType(d.PlacementGroup.Type)}
	return createOne(ctx, r, d, r.api().PlacementGroup.Create, opts, func(res hcloud.PlacementGroupCreateResult) error {
		return r.created(ctx, d, res.PlacementGroup.ID, Cloud{}, res.Action)
	})
}

func (placementGroupKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().PlacementGroup.Delete(ctx, &hcloud.PlacementGroup{ID: o.ID}))
}

// deletable: only groups named and labelled as the layout makes them.
func (placementGroupKind) deletable(desired *State, o *Resource) bool {
	role := o.Labels[layout.LabelRole]
	return strings.HasPrefix(o.Name, desired.Cluster+"-") && (role == layout.RoleWorker || role == layout.RoleControlPlane)
}

func (placementGroupKind) attributes(r *Resource) map[string]any {
	return map[string]any{"type": r.PlacementGroup.Type}
}
