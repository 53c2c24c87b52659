package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

func TestSimulatorClockFollowsALoopbackSimulatorOnly(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{Speed: 100})
	with := func(v string) *options {
		return &options{env: Env{Getenv: func(k string) string {
			if k == envSimClock {
				return v
			}
			return ""
		}}}
	}

	if c, err := with("").simulatorClock(env.Endpoint); c != nil || err != nil {
		t.Fatalf("unset: clock %v, err %v; want neither", c, err)
	}
	c, err := with("1").simulatorClock(env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Now().Sub(env.Sim.Now()); d < -time.Minute || d > time.Minute || c.Speed() != 100 {
		t.Fatalf("replica %v off the simulator, speed %v; want in step at 100x", d, c.Speed())
	}
	for _, tc := range []struct{ value, endpoint, want string }{
		{"1", "https://api.hetzner.cloud/v1", "not a loopback address"},
		{"1", "", "needs HCLOUD_ENDPOINT"},
		{"yes", env.Endpoint, "use 1"},
	} {
		if _, err := with(tc.value).simulatorClock(tc.endpoint); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q, endpoint %q: err = %v, want %q", envSimClock, tc.value, tc.endpoint, err, tc.want)
		}
	}
}
