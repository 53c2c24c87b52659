package hcloudsim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

func TestFetchReplicaFollowsTheSimulatorClock(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{Speed: 100})
	replica, err := clock.FetchReplica(context.Background(), env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if replica.Speed() != 100 {
		t.Fatalf("replica speed %v, want 100", replica.Speed())
	}
	// Both clocks run at 100x on the same wall clock: they may differ by the
	// time between two reads (a few ms real, well under a simulated minute).
	if d := replica.Now().Sub(env.Sim.Now()); d < -time.Minute || d > time.Minute {
		t.Fatalf("replica is %v off the simulator", d)
	}
}

func TestFetchReplicaRefusesRemoteEndpoints(t *testing.T) {
	_, err := clock.FetchReplica(context.Background(), "https://api.hetzner.cloud/v1")
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("err = %v, want a refusal of the non-loopback endpoint", err)
	}
}
