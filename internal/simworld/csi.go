package simworld

import (
	"fmt"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld/csisim"
)

// runCSI runs the CSI driver's stand-in for the cluster until the world
// closes. It acts only while the CSI chart's controller pod runs (see
// csisim), so a cluster without the CSI addon gets no volumes, as on
// Hetzner. It calls the simulator with the simulator's token, as the driver
// would with the one in the hcloud Secret.
func (w *TalosWorld) runCSI(c *worldCluster, api *kubesim.APIServer) {
	cs, ok := w.clusterClient(c, api, "simworld-csi")
	if !ok {
		return
	}
	hc := hcloud.NewClient(
		hcloud.WithEndpoint(w.sim.Endpoint()), hcloud.WithToken(w.sim.Token()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(10 * time.Millisecond)}),
		hcloud.WithApplication("simworld-csi", "0"),
	)
	err := csisim.Run(w.ctx, csisim.Options{
		Kube: cs, Hetzner: hc, Clock: w.clock,
		Logf:     func(format string, args ...any) { w.logf("simworld: "+c.name+": csi: "+format, args...) },
		Interval: 4 * w.opts.KubeletInterval,
	})
	if err != nil && w.ctx.Err() == nil {
		w.fail(fmt.Errorf("simworld: cluster %s: CSI stand-in: %w", c.name, err))
	}
}
