package hetzner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/exp/actionutil"
)

// newSimClient starts the project's Hetzner simulator and a Client for it.
func newSimClient(t *testing.T, opts hcloudsim.Options) (*simtest.Env, *Client) {
	t.Helper()
	env := simtest.New(t, opts)
	httpClient := simtest.LoopbackHTTPClient(t)
	// Connections dialled in parallel but never used stay "new" on the
	// server side, and the simulator's graceful shutdown waits 5 s for
	// them; closing them first keeps the test fast.
	t.Cleanup(httpClient.CloseIdleConnections)
	c, err := New(Options{
		Token:        env.Token,
		Endpoint:     env.Endpoint,
		HTTPClient:   httpClient,
		PollInterval: 2 * time.Millisecond, // 2 s of simulated time
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return env, c
}

// seed creates a small cluster's resources (labelled cluster=<name>) with
// the client itself, waiting for every action with WaitForActions.
func seed(t *testing.T, c *Client, cluster string, servers int) {
	t.Helper()
	ctx := context.Background()
	api := c.API()
	labels := map[string]string{"cluster": cluster}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	// A syntactically valid key whose blob differs per cluster, so the
	// fingerprints do not collide.
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + strings.Repeat(string(rune('A'+len(cluster)%26)), 43) + " test"
	sshKey, _, err := api.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: cluster, PublicKey: key, Labels: labels})
	must("ssh key", err)
	_, ipRange, _ := net.ParseCIDR("10.0.0.0/16")
	_, subnet, _ := net.ParseCIDR("10.0.1.0/24")
	network, _, err := api.Network.Create(ctx, hcloud.NetworkCreateOpts{
		Name: cluster, IPRange: ipRange, Labels: labels,
		Subnets: []hcloud.NetworkSubnet{{Type: hcloud.NetworkSubnetTypeCloud, NetworkZone: hcloud.NetworkZoneEUCentral, IPRange: subnet}},
	})
	must("network", err)
	fw, _, err := api.Firewall.Create(ctx, hcloud.FirewallCreateOpts{Name: cluster, Labels: labels})
	must("firewall", err)
	must("firewall actions", c.WaitForActions(ctx, fw.Actions...))
	pg, _, err := api.PlacementGroup.Create(ctx, hcloud.PlacementGroupCreateOpts{Name: cluster + "-workers", Type: hcloud.PlacementGroupTypeSpread, Labels: labels})
	must("placement group", err)
	must("placement group action", c.WaitForActions(ctx, pg.Action))
	fip, _, err := api.FloatingIP.Create(ctx, hcloud.FloatingIPCreateOpts{
		Name: hcloud.Ptr(cluster + "-vip"), Type: hcloud.FloatingIPTypeIPv4,
		HomeLocation: &hcloud.Location{Name: "fsn1"}, Labels: labels,
	})
	must("floating ip", err)
	must("floating ip action", c.WaitForActions(ctx, fip.Action))
	vol, _, err := api.Volume.Create(ctx, hcloud.VolumeCreateOpts{Name: cluster + "-data", Size: 10, Location: &hcloud.Location{Name: "fsn1"}, Labels: labels})
	must("volume", err)
	must("volume actions", c.WaitForActions(ctx, actionutil.AppendNext(vol.Action, vol.NextActions)...))

	var pending []*hcloud.Action
	for i := range servers {
		res, _, err := api.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name:           fmt.Sprintf("%s-worker-%d", cluster, i+1),
			ServerType:     &hcloud.ServerType{Name: "cx22"},
			Image:          &hcloud.Image{Name: "debian-12"},
			Location:       &hcloud.Location{Name: "fsn1"},
			SSHKeys:        []*hcloud.SSHKey{sshKey},
			Networks:       []*hcloud.Network{network},
			PlacementGroup: pg.PlacementGroup,
			Labels:         labels,
		})
		must("server", err)
		pending = append(pending, actionutil.AppendNext(res.Action, res.NextActions)...)
	}
	must("server actions", c.WaitForActions(ctx, pending...))
}

func TestInventoryOneListCallPerKind(t *testing.T) {
	_, c := newSimClient(t, hcloudsim.Options{DefaultPerPage: 2})
	seed(t, c, "demo", 3)
	seed(t, c, "other", 1)

	c.SetPhase("observe")
	inv, err := c.Inventory(context.Background(), "cluster=demo")
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := map[string]int{
		"GET /v1/servers":          1,
		"GET /v1/networks":         1,
		"GET /v1/firewalls":        1,
		"GET /v1/load_balancers":   1,
		"GET /v1/placement_groups": 1,
		"GET /v1/floating_ips":     1,
		"GET /v1/ssh_keys":         1,
		"GET /v1/certificates":     1,
		"GET /v1/volumes":          1,
		"GET /v1/images":           1,
	}
	if got := c.Stats()["observe"]; !reflect.DeepEqual(got, wantCalls) {
		t.Fatalf("inventory requests %v\nwant %v", got, wantCalls)
	}
	counts := map[string]int{
		"servers": len(inv.Servers), "networks": len(inv.Networks), "firewalls": len(inv.Firewalls),
		"load balancers": len(inv.LoadBalancers), "placement groups": len(inv.PlacementGroups),
		"floating IPs": len(inv.FloatingIPs), "SSH keys": len(inv.SSHKeys),
		"certificates": len(inv.Certificates), "volumes": len(inv.Volumes), "snapshots": len(inv.Snapshots),
	}
	wantCounts := map[string]int{
		"servers": 3, "networks": 1, "firewalls": 1, "load balancers": 0, "placement groups": 1,
		"floating IPs": 1, "SSH keys": 1, "certificates": 0, "volumes": 1, "snapshots": 0,
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Fatalf("inventory %v, want %v", counts, wantCounts)
	}
	for _, s := range inv.Servers {
		if s.Labels["cluster"] != "demo" {
			t.Errorf("server %s has labels %v", s.Name, s.Labels)
		}
	}
	if inv.Len() != 9 {
		t.Fatalf("Len() = %d, want 9", inv.Len())
	}
}

func TestInventoryFollowsPages(t *testing.T) {
	_, c := newSimClient(t, hcloudsim.Options{})
	const servers = 52 // more than one page of 50
	ctx := context.Background()
	var pending []*hcloud.Action
	for i := range servers {
		res, _, err := c.API().Server.Create(ctx, hcloud.ServerCreateOpts{
			Name: fmt.Sprintf("big-%d", i), ServerType: &hcloud.ServerType{Name: "cx22"},
			Image: &hcloud.Image{Name: "debian-12"}, Location: &hcloud.Location{Name: "nbg1"},
			Labels: map[string]string{"cluster": "big"},
		})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, actionutil.AppendNext(res.Action, res.NextActions)...)
	}
	c.SetPhase("wait")
	if err := c.WaitForActions(ctx, pending...); err != nil {
		t.Fatal(err)
	}
	polls := c.Stats()["wait"]["GET /v1/actions"]
	t.Logf("%d actions of %d servers: %d GET /v1/actions", len(pending), servers, polls)

	c.SetPhase("observe")
	inv, err := c.Inventory(ctx, "cluster=big")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Servers) != servers {
		t.Fatalf("listed %d servers, want %d", len(inv.Servers), servers)
	}
	if got := c.Stats()["observe"]["GET /v1/servers"]; got != 2 {
		t.Fatalf("GET /v1/servers sent %d times, want 2 pages", got)
	}
}

func TestInventoryIsAllOrNothing(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/volumes" {
			writeJSON(w, http.StatusForbidden, `{"error":{"code":"forbidden","message":"insufficient permissions"}}`)
			return
		}
		kind := strings.TrimPrefix(r.URL.Path, "/v1/")
		writeJSON(w, http.StatusOK, `{"`+kind+`":[],"meta":{"pagination":{"page":1,"per_page":50,"last_page":1,"total_entries":0}}}`)
	}))
	c := newTestClient(t, srv, Options{})
	inv, err := c.Inventory(context.Background(), "cluster=demo")
	if inv != nil || Classify(err) != ClassAuth || !strings.Contains(err.Error(), "list volumes") {
		t.Fatalf("Inventory = %v, %v; want no inventory and the volumes error", inv, err)
	}
	if _, err := c.Inventory(context.Background(), ""); err == nil {
		t.Fatal("Inventory with an empty selector succeeded")
	}
}

func TestListSnapshots(t *testing.T) {
	var query string
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		writeJSON(w, http.StatusOK, `{"images":[{"id":7,"type":"snapshot","status":"available","labels":{"os":"talos"}}],"meta":{"pagination":{"page":1,"per_page":50,"last_page":1,"total_entries":1}}}`)
	}))
	c := newTestClient(t, srv, Options{})
	images, err := c.ListSnapshots(context.Background(), "os=talos,talos_version=v1.11.5")
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 || images[0].ID != 7 {
		t.Fatalf("images = %v", images)
	}
	for _, want := range []string{"type=snapshot", "label_selector=os%3Dtalos%2Ctalos_version%3Dv1.11.5", "per_page=50"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %q lacks %q", query, want)
		}
	}
}
