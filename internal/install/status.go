package install

import (
	"context"
	"fmt"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/kubeapply"
)

// AddonStatus is what the cluster shows of one addon of the registry.
type AddonStatus struct {
	Name string `json:"name"`
	// Enabled is the cluster file's switch.
	Enabled bool `json:"enabled"`
	// Chart is the chart the cluster file pins (name@version), "" for
	// addons of plain objects.
	Chart string `json:"chart,omitempty"`
	// Applied is true once an apply of the addon ran to the end;
	// AppliedVersion is the chart version it applied.
	Applied        bool   `json:"applied"`
	AppliedVersion string `json:"appliedVersion,omitempty"`
	// Objects is how many objects the inventory lists.
	Objects int `json:"objects"`
	// Healthy is true when every object is ready; NotReady names the others
	// with what they show.
	Healthy  bool     `json:"healthy"`
	NotReady []string `json:"notReady,omitempty"`
}

// Status reads every addon's inventory and checks each object once. An
// addon that is switched off and has no inventory is reported as such.
func Status(ctx context.Context, a *kubeapply.Applier, c *config.Cluster) ([]AddonStatus, error) {
	var out []AddonStatus
	for _, ad := range addons.Registry() {
		st := AddonStatus{Name: ad.Name, Enabled: ad.Enabled(c), Chart: ad.ChartPin(c)}
		inv, err := a.Inventory(ctx, ad.Name)
		if err != nil {
			return nil, err
		}
		st.Applied, st.AppliedVersion, st.Objects = inv.Installed, inv.Version, len(inv.Objects)
		if !inv.Exists {
			if st.Enabled {
				st.NotReady = []string{"not applied yet"}
			}
			out = append(out, st)
			continue
		}
		pending, err := a.Check(ctx, inv.Objects)
		if err != nil {
			return nil, fmt.Errorf("addon %s: %w", ad.Name, err)
		}
		for _, p := range pending {
			st.NotReady = append(st.NotReady, p.String())
		}
		st.Healthy = st.Applied && len(pending) == 0
		out = append(out, st)
	}
	return out, nil
}
