package infra

import (
	"context"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// KindVolume is a volume labelled with the cluster.
const KindVolume Kind = "volume"

// VolumeSpec is a volume labelled with the cluster (for example by the CSI driver's
// extra labels); only destroy touches volumes.
type VolumeSpec struct {
	Server int64 `json:"server"` // attached server, 0 if none
}

// volumeKind: volumes are never desired, so apply never creates or changes one;
// destroy detaches and deletes them.
type volumeKind struct{}

func (volumeKind) about() kindInfo {
	return kindInfo{kind: KindVolume, title: "volume", order: 8}
}

func (volumeKind) observe(s *State, c *Cloud) {
	for _, v := range c.Volumes {
		spec := &VolumeSpec{}
		if v.Server != nil {
			spec.Server = v.Server.ID
		}
		s.add(&Resource{Kind: KindVolume, Name: v.Name, ID: v.ID, Labels: v.Labels, Protected: v.Protection.Delete, Volume: spec})
	}
}

func (volumeKind) create(context.Context, *run, *Resource) error {
	return fmt.Errorf("creating %s is not supported", KindVolume)
}

// beforeRemove detaches the volume; one whose server is already gone is detached.
func (volumeKind) beforeRemove(ctx context.Context, r *run, o *Resource) error {
	if o.Volume == nil || o.Volume.Server == 0 {
		return nil
	}
	err := r.call(ctx, "detach volume "+o.Name, func(ctx context.Context) error {
		a, _, err := r.api().Volume.Detach(ctx, &hcloud.Volume{ID: o.ID})
		if err == nil {
			err = r.wait(ctx, a)
		}
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassNotFound {
		return nil
	}
	return err
}

func (volumeKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().Volume.Delete(ctx, &hcloud.Volume{ID: o.ID}))
}

func (volumeKind) protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error) {
	return actionOf(api.Volume.ChangeProtection(ctx, &hcloud.Volume{ID: id}, hcloud.VolumeChangeProtectionOpts{Delete: hcloud.Ptr(on)}))
}
