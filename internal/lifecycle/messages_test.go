package lifecycle

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
)

// The full text apply ends with when Hetzner says no, as people read it:
// explained once by the Hetzner layer, with the step apply stopped at, and a
// rerun suggested only where a rerun alone can help.
//
// Servers are created in parallel and inventory lists run in parallel, so
// which server fails first and which list is refused first vary from run to
// run; normalize sorts the failure lines and names the refused list KIND, and
// the limit case names its server SERVER; nothing else is taken out.
func TestApplyFailureMessages(t *testing.T) {
	const rerunAfterFix = "Nothing was rolled back; once the cause is fixed, apply continues from here"
	noCapacity := func(server string) string {
		return "create server " + server + " (cpx31 in fsn1): Hetzner has no capacity for this right now (Hetzner: \"we are unable to provision servers for this location, try with a different location or try later\", resource_unavailable); try another location or server type in the cluster file, or wait until Hetzner has stock again"
	}
	tests := []struct {
		name   string
		opts   hcloudsim.Options
		faults hcloudsim.Faults
		token  string
		// anyServer: which server hits the limit depends on which create
		// reaches the simulator last, so the text names it as SERVER.
		anyServer bool
		want      string
	}{
		{
			// Stock that runs out after plan looked (a sold-out type plan can
			// see is a pre-flight problem: TestPreflight...).
			name:   "capacity",
			faults: hcloudsim.Faults{SoldOutUnannounced: []string{"cpx31@fsn1"}},
			want: "apply stopped at infrastructure: " + noCapacity("demo-worker-1") + "\n" +
				noCapacity("demo-worker-2") + "\n" +
				rerunAfterFix,
		},
		{
			name:      "project limit",
			opts:      hcloudsim.Options{ServerLimit: 4},
			anyServer: true,
			want: "apply stopped at infrastructure: create server SERVER: project limit reached (Hetzner: \"server limit exceeded\", resource_limit_exceeded); delete resources this project no longer needs, or ask Hetzner to raise the limit (Cloud Console: the project's Limits page)\n" +
				rerunAfterFix,
		},
		{
			name:  "authentication",
			token: "not-the-token",
			want: "apply stopped at lock: take the lock of cluster demo: create lock demo-lock: Hetzner refused the API token (Hetzner: \"unable to authenticate\", unauthorized); check that HCLOUD_TOKEN is valid, belongs to the cluster's project and has Read & Write permission\n" +
				rerunAfterFix,
		},
		{
			name:   "locked",
			faults: hcloudsim.Faults{LockedRate: 1, Routes: []string{"POST /v1/firewalls"}},
			want: "apply stopped at infrastructure: create firewall demo: still failing after 9 attempts: the resource stayed locked by another action (Hetzner: \"simulated lock: resource is locked\", locked); wait for that action to finish\n" +
				"Nothing was rolled back; running apply again continues from here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.opts)
			c := parse(t, nil)
			w.seed(t, c)
			w.env.Sim.SetFaults(tt.faults)
			deps := w.deps
			if tt.token != "" {
				deps.Client = simClient(t, w.env, tt.token, nil)
			}
			_, err := Apply(context.Background(), deps, c)
			if err == nil {
				t.Fatal("apply succeeded")
			}
			got := normalize(err.Error())
			if tt.anyServer {
				got = anyServer.ReplaceAllString(got, "create server SERVER:")
			}
			if got != tt.want {
				t.Errorf("apply's error:\n got: %s\nwant: %s\n(raw: %s)", got, tt.want, err)
			}
		})
	}
}

var (
	anyServer  = regexp.MustCompile(`create server demo-[a-z]+-[0-9]+ \([a-z0-9]+ in [a-z0-9]+\):`)
	listedKind = regexp.MustCompile(`list [A-Za-z ]+ with label selector`)
)

// normalize takes out of an error text what parallelism decides: see
// TestApplyFailureMessages.
func normalize(msg string) string {
	msg = listedKind.ReplaceAllString(msg, "list KIND with label selector")
	lines := strings.Split(msg, "\n")
	if len(lines) > 2 {
		head, _, _ := strings.Cut(lines[0], ": ")
		lines[0] = strings.TrimPrefix(lines[0], head+": ")
		failures := lines[:len(lines)-1]
		sort.Strings(failures)
		lines[0] = head + ": " + lines[0]
	}
	return strings.Join(lines, "\n")
}
