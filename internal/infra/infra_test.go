package infra

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// loadCluster is the shared demo fixture (configtest.Demo), changed by mutate.
func loadCluster(t *testing.T, mutate func(c *config.Cluster)) *config.Cluster {
	t.Helper()
	return configtest.Load(t, configtest.Demo(), mutate)
}

func desire(t *testing.T, mutate func(c *config.Cluster)) *State {
	t.Helper()
	s, err := Desire(loadCluster(t, mutate), Inputs{CurrentIPs: []string{"198.51.100.7/32", "2001:db8:1::/64"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asObserved turns a desired state into what Observe would report after a perfect
// apply: every resource exists with an ID and the attributes it was created with.
func asObserved(s *State) *State {
	o := newState(s.Cluster, s.Domain)
	id := int64(100)
	for _, r := range s.Sorted() {
		c := *r
		c.Labels = maps.Clone(r.Labels)
		id++
		c.ID = id
		switch {
		case c.Network != nil:
			c.Protected = c.Network.DeleteProtection
		case c.Server != nil:
			srv := *c.Server
			srv.ActualPrivateIP = srv.PrivateIP
			if !srv.ActualPrivateIP.IsValid() {
				srv.ActualPrivateIP = srv.Subnet.Addr().Next().Next() // assigned by Hetzner
			}
			c.Server = &srv
			c.Protected = srv.DeleteProtection
		case c.LoadBalancer != nil:
			lb := *c.LoadBalancer
			c.LoadBalancer = &lb
			c.Protected = lb.DeleteProtection
		case c.FloatingIP != nil:
			c.Protected = c.FloatingIP.DeleteProtection
		}
		o.add(&c)
	}
	return o
}

func names(s *State, k Kind) []string {
	var out []string
	for _, r := range s.Sorted() {
		if r.Kind == k {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestDesireMatchesTheModule(t *testing.T) {
	s := desire(t, nil)
	if got, want := names(s, KindServer), []string{"demo-control-1", "demo-control-2", "demo-control-3", "demo-worker-1", "demo-worker-2"}; !slices.Equal(got, want) {
		t.Errorf("servers = %v, want %v", got, want)
	}
	if got, want := names(s, KindSubnet), []string{"10.0.64.0/25", "10.0.64.128/25", "10.0.80.0/25", "10.0.80.128/25", "10.0.95.128/25"}; !slices.Equal(got, want) {
		t.Errorf("subnets = %v, want %v", got, want)
	}
	if got, want := names(s, KindPlacementGroup), []string{"demo-control-plane-pg", "demo-worker-pg-1"}; !slices.Equal(got, want) {
		t.Errorf("placement groups = %v, want %v", got, want)
	}
	w := s.Get(Ref{KindServer, "demo-worker-2"})
	wantLabels := map[string]string{"cluster": "demo", "nodepool": "worker", "role": "worker", "tier": "general"}
	if !maps.Equal(w.Labels, wantLabels) {
		t.Errorf("worker labels = %v, want %v", w.Labels, wantLabels)
	}
	if w.Server.Subnet.String() != "10.0.80.0/25" || w.Server.PrivateIP.IsValid() || w.Server.Firewall != "demo" || w.Server.SSHKey != "demo" || !w.Server.DeleteProtection {
		t.Errorf("worker spec = %+v", w.Server)
	}
	cp := s.Get(Ref{KindServer, "demo-control-1"})
	if cp.Labels["role"] != "control-plane" || cp.Server.PlacementGroup != "demo-control-plane-pg" || cp.Server.Subnet.String() != "10.0.64.0/25" {
		t.Errorf("control plane = %v %+v", cp.Labels, cp.Server)
	}
	if n := s.Get(Ref{KindNetwork, "demo"}); n == nil || n.Network.IPRange.String() != "10.0.0.0/16" || n.Labels["cluster"] != "demo" {
		t.Errorf("network = %+v", n)
	}
	for _, k := range []Kind{KindLoadBalancer, KindFloatingIP} {
		if got := names(s, k); len(got) != 0 {
			t.Errorf("unexpected %s: %v", k, got)
		}
	}
}

func TestDesirePlacementGroupSharding(t *testing.T) {
	s := desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 21 })
	if got, want := names(s, KindPlacementGroup), []string{"demo-control-plane-pg", "demo-worker-pg-1", "demo-worker-pg-2", "demo-worker-pg-3"}; !slices.Equal(got, want) {
		t.Errorf("placement groups = %v, want %v", got, want)
	}
	for name, pg := range map[string]string{"demo-worker-10": "demo-worker-pg-1", "demo-worker-11": "demo-worker-pg-2", "demo-worker-20": "demo-worker-pg-2", "demo-worker-21": "demo-worker-pg-3"} {
		if got := s.Get(Ref{KindServer, name}).Server.PlacementGroup; got != pg {
			t.Errorf("%s in %s, want %s", name, got, pg)
		}
	}
	s = desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].PlacementGroup = false })
	if got := names(s, KindPlacementGroup); !slices.Equal(got, []string{"demo-control-plane-pg"}) {
		t.Errorf("placementGroup: false still creates %v", got)
	}
}

func TestDesirePinnedSubnet(t *testing.T) {
	s := desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Subnet = "10.0.65.0/25" })
	if s.Get(Ref{KindSubnet, "10.0.65.0/25"}) == nil {
		t.Fatal("pinned subnet not created")
	}
	for name, ip := range map[string]string{"demo-worker-1": "10.0.65.1", "demo-worker-2": "10.0.65.2"} {
		if got := s.Get(Ref{KindServer, name}).Server.PrivateIP.String(); got != ip {
			t.Errorf("%s IP = %s, want %s", name, got, ip)
		}
	}
}

func TestDesireFirewall(t *testing.T) {
	rules := func(s *State) []FirewallRule { return s.Get(Ref{KindFirewall, "demo"}).Firewall.Rules }
	t.Run("explicit sources, no current IP", func(t *testing.T) {
		rs := rules(desire(t, nil))
		if len(rs) != 2 || !slices.Equal(rs[0].SourceIPs, []string{"203.0.113.0/24"}) || rs[0].Port != "50000" || rs[1].Port != "6443" {
			t.Errorf("rules = %+v", rs)
		}
	})
	t.Run("no sources: current IPs", func(t *testing.T) {
		rs := rules(desire(t, func(c *config.Cluster) { c.Firewall.APISource = nil }))
		if len(rs) != 2 || !slices.Equal(rs[1].SourceIPs, []string{"198.51.100.7/32", "2001:db8:1::/64"}) {
			t.Errorf("rules = %+v", rs)
		}
	})
	t.Run("current IP switched off", func(t *testing.T) {
		off := false
		rs := rules(desire(t, func(c *config.Cluster) { c.Firewall.APISource = nil; c.Firewall.UseCurrentIPv4 = &off }))
		if len(rs) != 2 || !slices.Equal(rs[1].SourceIPs, []string{"2001:db8:1::/64"}) {
			t.Errorf("rules = %+v", rs)
		}
	})
	t.Run("default rule replaces an extra rule with the same key", func(t *testing.T) {
		rs := rules(desire(t, func(c *config.Cluster) {
			c.Firewall.ExtraRules = []config.FirewallRule{
				{Description: "mine", Direction: "in", Protocol: "tcp", Port: "6443", SourceIPs: []string{"10.9.9.9/32"}},
				{Description: "ping", Direction: "in", Protocol: "icmp"},
			}
		}))
		if len(rs) != 3 {
			t.Fatalf("rules = %+v", rs)
		}
		for _, r := range rs {
			if r.Description == "mine" {
				t.Error("extra rule on 6443 survived; the module's default rule wins")
			}
			if r.Protocol == "icmp" && !slices.Equal(r.SourceIPs, anyAddress) {
				t.Errorf("empty sources should mean any address, got %v", r.SourceIPs)
			}
		}
	})
}

func TestDesireLoadBalancersAndVIP(t *testing.T) {
	s := desire(t, func(c *config.Cluster) {
		c.KubeAPI.LoadBalancer.Enabled = true
		c.ControlPlane.PublicVIPIPv4Enabled = true
		c.IngressLoadBalancer.Pools = []config.IngressPool{
			{Name: "eu", Location: "fsn1", Count: 2},
			{Name: "de", Location: "nbg1", Count: 1, LocalTraffic: true},
		}
	})
	lb := s.Get(Ref{KindLoadBalancer, "demo-kube-api"})
	if lb == nil || lb.LoadBalancer.PrivateIP.String() != "10.0.64.254" || lb.LoadBalancer.Targets[0].LabelSelector != "cluster=demo,role=control-plane" ||
		lb.LoadBalancer.Services[0].HealthCheck.HTTP.StatusCodes[0] != "401" || lb.Labels["role"] != "kube-api" {
		t.Fatalf("kube-api LB = %+v", lb)
	}
	for name, ip := range map[string]string{"demo-eu-1": "10.0.64.251", "demo-eu-2": "10.0.64.250", "demo-de-1": "10.0.64.249"} {
		p := s.Get(Ref{KindLoadBalancer, name})
		if p == nil || p.LoadBalancer.PrivateIP.String() != ip {
			t.Errorf("%s = %+v, want IP %s", name, p, ip)
		}
	}
	// Local traffic: only pools in nbg1, and there are none.
	if got := s.Get(Ref{KindLoadBalancer, "demo-de-1"}).LoadBalancer.Targets; len(got) != 0 {
		t.Errorf("local-traffic pool targets = %v", got)
	}
	if got := s.Get(Ref{KindLoadBalancer, "demo-eu-1"}).LoadBalancer.Targets; len(got) != 1 || got[0].LabelSelector != "cluster=demo,nodepool=worker" {
		t.Errorf("pool targets = %v", got)
	}
	fip := s.Get(Ref{KindFloatingIP, "demo-control-plane-ipv4"})
	if fip == nil || fip.FloatingIP.HomeLocation != "fsn1" || fip.Labels["role"] != "control-plane" {
		t.Errorf("floating IP = %+v", fip)
	}
}

func actions(p *Plan) map[string]Action {
	out := map[string]Action{}
	for _, c := range p.Changes {
		if c.Action != ActionNoop {
			out[c.Ref.String()] = c.Action
		}
	}
	return out
}

func TestDiffNoChange(t *testing.T) {
	d := desire(t, nil)
	p := Diff(d, asObserved(d))
	if p.HasChanges() || len(p.Problems) > 0 {
		t.Errorf("converged cluster plans changes: %v %v", actions(p), p.Problems)
	}
}

func TestDiffFromNothingCreatesEverythingInOrder(t *testing.T) {
	d := desire(t, nil)
	p := Diff(d, newState("demo", "cluster.local"))
	c, u, del := p.Counts()
	if c != len(d.Resources) || u != 0 || del != 0 {
		t.Errorf("counts = %d/%d/%d, want %d creates", c, u, del, len(d.Resources))
	}
	for _, ch := range p.Changes {
		if ch.Ref == (Ref{KindServer, "demo-worker-1"}) {
			want := []Ref{{KindSubnet, "10.0.80.0/25"}, {KindFirewall, "demo"}, {KindSSHKey, "demo"}, {KindPlacementGroup, "demo-worker-pg-1"}}
			for _, w := range want {
				if !slices.Contains(ch.DependsOn, w) {
					t.Errorf("worker create does not wait for %s: %v", w, ch.DependsOn)
				}
			}
		}
		if ch.Ref.Kind == KindSubnet && !slices.Contains(ch.DependsOn, Ref{KindNetwork, "demo"}) {
			t.Errorf("subnet %s does not wait for the network", ch.Ref.Name)
		}
	}
}

func TestDiffScale(t *testing.T) {
	two := desire(t, nil)
	four := desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 4 })

	up := Diff(four, asObserved(two))
	if got, want := actions(up), map[string]Action{"server/demo-worker-3": ActionCreate, "server/demo-worker-4": ActionCreate}; !maps.Equal(got, want) {
		t.Errorf("scale up = %v, want %v", got, want)
	}

	down := Diff(two, asObserved(four))
	if got, want := actions(down), map[string]Action{"server/demo-worker-3": ActionDelete, "server/demo-worker-4": ActionDelete}; !maps.Equal(got, want) {
		t.Errorf("scale down = %v, want %v", got, want)
	}

	marker := &Resource{Kind: KindCertificate, Name: "demo-state", ID: 9, Labels: map[string]string{"cluster": "demo", "state": "initialized"}, Certificate: &CertificateSpec{}}
	t.Run("workers of a bootstrapped cluster are drained, then deleted", func(t *testing.T) {
		obs := asObserved(four)
		obs.add(marker)
		p := Diff(two, obs)
		if got, want := actions(p), map[string]Action{"server/demo-worker-3": ActionDelete, "server/demo-worker-4": ActionDelete}; !p.Initialized || !maps.Equal(got, want) || len(p.Problems) != 0 {
			t.Errorf("plan = %v, problems %v", got, p.Problems)
		}
		if got := p.NodesToDrain(); !slices.Equal(got, []string{"demo-worker-3", "demo-worker-4"}) {
			t.Errorf("nodes to drain = %v", got)
		}
		for _, ch := range p.Changes {
			if ch.Action == ActionDelete && !strings.Contains(ch.Reason, "drained first") {
				t.Errorf("%s: reason %q does not say it is drained first", ch.Ref, ch.Reason)
			}
		}
		if got := Diff(two, asObserved(four)).NodesToDrain(); len(got) != 0 {
			t.Errorf("a cluster never bootstrapped has nodes to drain: %v", got)
		}
	})

	t.Run("control planes of a bootstrapped cluster leave etcd first", func(t *testing.T) {
		one := desire(t, func(c *config.Cluster) { c.ControlPlaneNodepools[0].Count = 1 })
		obs := asObserved(two)
		obs.add(marker)
		p := Diff(one, obs)
		if len(p.Problems) != 0 {
			t.Fatalf("problems %v", p.Problems)
		}
		got := p.ControlPlanesToRemove()
		if want := []string{"demo-control-3", "demo-control-2"}; !slices.Equal(got, want) {
			t.Fatalf("control planes to remove = %v, want %v (highest index first)", got, want)
		}
		for _, ch := range p.Changes {
			if ch.Action == ActionDelete && !strings.Contains(ch.Reason, "etcd member leaves") {
				t.Errorf("%s: reason %q does not say its etcd member leaves", ch.Ref, ch.Reason)
			}
		}
		if len(p.NodesToDrain()) != 0 {
			t.Errorf("workers to drain: %v", p.NodesToDrain())
		}

		// A removal that stopped after relabelling: still removed, and
		// counted among the control planes to remove.
		cp3 := obs.Get(Ref{KindServer, "demo-control-3"})
		cp3.Labels = maps.Clone(cp3.Labels)
		cp3.Labels[layout.LabelRole] = layout.RoleLeavingControlPlane
		p = Diff(one, obs)
		if got := p.ControlPlanesToRemove(); !slices.Equal(got, []string{"demo-control-3", "demo-control-2"}) {
			t.Fatalf("after a stopped removal: %v", got)
		}
		// ... and one the cluster file wants back is a problem, not a quiet
		// relabel that would route API traffic to a node without etcd.
		p = Diff(two, obs)
		if len(p.Problems) != 1 || !strings.Contains(p.Problems[0], "stopped halfway") {
			t.Fatalf("problems %v", p.Problems)
		}
	})

	t.Run("crossing a placement group boundary", func(t *testing.T) {
		ten := desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 10 })
		eleven := desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Count = 11 })
		p := Diff(eleven, asObserved(ten))
		if got, want := actions(p), map[string]Action{"server/demo-worker-11": ActionCreate, "placement_group/demo-worker-pg-2": ActionCreate}; !maps.Equal(got, want) {
			t.Errorf("scale 10→11 = %v", got)
		}
		for _, ch := range p.Changes {
			if ch.Ref.Name == "demo-worker-11" && !slices.Equal(ch.DependsOn, []Ref{{KindPlacementGroup, "demo-worker-pg-2"}}) {
				t.Errorf("server 11 depends on %v", ch.DependsOn)
			}
		}
		p = Diff(ten, asObserved(eleven))
		for _, ch := range p.Changes {
			if ch.Ref.Name == "demo-worker-pg-2" && (ch.Action != ActionDelete || !slices.Equal(ch.DependsOn, []Ref{{KindServer, "demo-worker-11"}})) {
				t.Errorf("pg-2 delete = %s after %v, want delete after server 11", ch.Action, ch.DependsOn)
			}
		}
	})
}

func TestDiffUpdates(t *testing.T) {
	base := asObserved(desire(t, nil))
	cases := []struct {
		name   string
		mutate func(c *config.Cluster)
		want   map[string]Action
		field  string
	}{
		{"firewall sources", func(c *config.Cluster) { c.Firewall.APISource = []string{"192.0.2.0/24"} }, map[string]Action{"firewall/demo": ActionUpdate}, "rules"},
		{"pool labels", func(c *config.Cluster) { c.WorkerNodepools[0].Labels = map[string]string{"tier": "gpu"} },
			map[string]Action{"server/demo-worker-1": ActionUpdate, "server/demo-worker-2": ActionUpdate}, "labels"},
		{"delete protection off", func(c *config.Cluster) { c.Cluster.DeleteProtection = false }, nil, "protection"},
		{"kube-API load balancer on", func(c *config.Cluster) { c.KubeAPI.LoadBalancer.Enabled = true }, map[string]Action{"load_balancer/demo-kube-api": ActionCreate}, ""},
		{"rdns template", func(c *config.Cluster) { c.Cluster.RDNS = "{{ hostname }}.example.com" }, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(desire(t, tc.mutate), base)
			if tc.want != nil && !maps.Equal(actions(p), tc.want) {
				t.Errorf("actions = %v, want %v", actions(p), tc.want)
			}
			if tc.field != "" {
				for _, ch := range p.Changes {
					if ch.Action == ActionUpdate && !slices.ContainsFunc(ch.Updates, func(u Update) bool { return u.Field == tc.field }) {
						t.Errorf("%s update lacks %s: %+v", ch.Ref, tc.field, ch.Updates)
					}
				}
			}
		})
	}
	t.Run("kube-API load balancer off", func(t *testing.T) {
		on := asObserved(desire(t, func(c *config.Cluster) { c.KubeAPI.LoadBalancer.Enabled = true }))
		if got := actions(Diff(desire(t, nil), on)); !maps.Equal(got, map[string]Action{"load_balancer/demo-kube-api": ActionDelete}) {
			t.Errorf("actions = %v", got)
		}
	})
	t.Run("protection off touches every protected resource", func(t *testing.T) {
		p := Diff(desire(t, func(c *config.Cluster) { c.Cluster.DeleteProtection = false }), base)
		if _, u, _ := p.Counts(); u != 6 { // network + 5 servers
			t.Errorf("%d updates, want 6: %v", u, actions(p))
		}
	})
	t.Run("reverse DNS is rendered per server", func(t *testing.T) {
		obs := asObserved(desire(t, nil))
		srv := obs.Get(Ref{KindServer, "demo-worker-1"})
		srv.Server.PublicIPv4Addr = netip.MustParseAddr("127.0.1.5")
		p := Diff(desire(t, func(c *config.Cluster) { c.Cluster.RDNS = "{{ hostname }}.{{ ip-type }}.example.com" }), obs)
		for _, ch := range p.Changes {
			if ch.Ref.Name == "demo-worker-1" {
				if len(ch.Updates) != 1 || ch.Updates[0].To != "demo-worker-1.ipv4.example.com" {
					t.Errorf("updates = %+v", ch.Updates)
				}
				return
			}
		}
		t.Error("no change for demo-worker-1")
	})
}

// A run killed between creating a server and attaching it leaves it detached; the
// next plan attaches it.
func TestDiffAttachesADetachedServer(t *testing.T) {
	obs := asObserved(desire(t, nil))
	obs.Get(Ref{KindServer, "demo-worker-2"}).Server.ActualPrivateIP = netip.Addr{}
	p := Diff(desire(t, nil), obs)
	for _, ch := range p.Changes {
		if ch.Ref.Name == "demo-worker-2" {
			if ch.Action != ActionUpdate || len(ch.Updates) != 1 || ch.Updates[0].Field != "network" {
				t.Errorf("change = %+v", ch)
			}
		} else if ch.Action != ActionNoop {
			t.Errorf("unexpected %s %s", ch.Action, ch.Ref)
		}
	}
}

func TestDestroyPlanOrder(t *testing.T) {
	obs := asObserved(desire(t, func(c *config.Cluster) { c.KubeAPI.LoadBalancer.Enabled = true }))
	obs.add(&Resource{Kind: KindCertificate, Name: "demo-state", ID: 9, Labels: map[string]string{"cluster": "demo"}, Certificate: &CertificateSpec{}})
	p := DestroyPlan(obs, nil)
	byRef := map[Ref]Change{}
	for _, c := range p.Changes {
		if c.Action != ActionDelete {
			t.Errorf("%s: %s", c.Ref, c.Action)
		}
		if c.Ref.Kind == KindSubnet {
			t.Errorf("subnets go with their network, not on their own: %s", c.Ref)
		}
		byRef[c.Ref] = c
	}
	net := byRef[Ref{KindNetwork, "demo"}]
	if !slices.Contains(net.DependsOn, Ref{KindServer, "demo-worker-2"}) || !slices.Contains(net.DependsOn, Ref{KindLoadBalancer, "demo-kube-api"}) {
		t.Errorf("network deleted before what is attached to it: %v", net.DependsOn)
	}
	if fw := byRef[Ref{KindFirewall, "demo"}]; len(fw.DependsOn) != 5 {
		t.Errorf("firewall waits for %v, want the 5 servers", fw.DependsOn)
	}
	if cert := byRef[Ref{KindCertificate, "demo-state"}]; len(cert.DependsOn) != len(p.Changes)-1 {
		t.Errorf("state marker is not deleted last: waits for %d of %d", len(cert.DependsOn), len(p.Changes)-1)
	}
}

// Subnets someone else added to the network (the module leaves its first quarter
// for other servers) are never deleted; a pinned subnet no pool uses any more is.
func TestDiffDeletesOnlyManagedSubnets(t *testing.T) {
	obs := asObserved(desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Subnet = "10.0.65.0/25" }))
	obs.add(&Resource{Kind: KindSubnet, Name: "10.0.1.0/24", Subnet: &SubnetSpec{Network: "demo", IPRange: netip.MustParsePrefix("10.0.1.0/24"), NetworkZone: "eu-central"}})
	p := Diff(desire(t, nil), obs)
	if _, del := actions(p)["subnet/10.0.1.0/24"]; del {
		t.Error("a foreign subnet would be deleted")
	}
	if actions(p)["subnet/10.0.65.0/25"] != ActionDelete {
		t.Error("the unused pinned subnet is kept")
	}
}

// In an existing network (network.existingNetworkID) destroy removes only the
// cluster's subnets and leaves the network and everyone else's subnets.
func TestDestroyPlanInAnExistingNetwork(t *testing.T) {
	d := desire(t, nil)
	obs := asObserved(d)
	n := obs.Get(Ref{KindNetwork, "demo"})
	n.External = true
	obs.add(&Resource{Kind: KindSubnet, Name: "10.0.1.0/24", Subnet: &SubnetSpec{Network: "demo", IPRange: netip.MustParsePrefix("10.0.1.0/24")}})
	got := map[string]bool{}
	for _, c := range DestroyPlan(obs, d.ManagedSubnets).Changes {
		got[c.Ref.String()] = true
	}
	if got["network/demo"] || got["subnet/10.0.1.0/24"] {
		t.Errorf("destroy touches what is not the cluster's: %v", got)
	}
	if !got["subnet/10.0.64.0/25"] || !got["subnet/10.0.80.0/25"] {
		t.Errorf("destroy keeps the cluster's subnets in the existing network: %v", got)
	}
}

func TestDiffAdoptsAndLeavesForeignResourcesAlone(t *testing.T) {
	obs := asObserved(desire(t, nil))
	// A server from an older tool version that lacks the role label.
	delete(obs.Get(Ref{KindServer, "demo-worker-1"}).Labels, "role")
	// Someone's own server that happens to carry the cluster label.
	obs.add(&Resource{Kind: KindServer, Name: "demo-bastion", ID: 999, Labels: map[string]string{"cluster": "demo"}, Server: &ServerSpec{Type: "cx22", Location: "fsn1"}})
	p := Diff(desire(t, nil), obs)
	if got := actions(p); !maps.Equal(got, map[string]Action{"server/demo-worker-1": ActionAdopt}) {
		t.Errorf("actions = %v", got)
	}
	if !slices.Equal(p.Unmanaged, []string{"server demo-bastion"}) {
		t.Errorf("unmanaged = %v", p.Unmanaged)
	}
}

func TestDiffReportsWhatItCannotChange(t *testing.T) {
	obs := asObserved(desire(t, nil))
	p := Diff(desire(t, func(c *config.Cluster) { c.WorkerNodepools[0].Type = "cpx42" }), obs)
	if len(p.Problems) != 2 || !strings.Contains(p.Problems[0], "rolling replacement") {
		t.Errorf("problems = %v", p.Problems)
	}
	p = Diff(desire(t, func(c *config.Cluster) { c.Network.IPv4CIDR = "10.1.0.0/16" }), obs)
	if !slices.ContainsFunc(p.Problems, func(s string) bool { return strings.Contains(s, "cannot be changed in place") }) {
		t.Errorf("problems = %v", p.Problems)
	}
}
