package hcloudsim_test

import (
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestLoadBalancers(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	nw := newCloudNetwork(t, env, "k8s")
	cp := createServer(t, env, serverSpec{name: "cp-1", labels: map[string]string{"role": "cp"}, networks: []*hcloud.Network{nw}})

	env.Clock.Pause() // observe the lock of create_load_balancer without racing it
	res := must[hcloud.LoadBalancerCreateResult](t)(c.LoadBalancer.Create(ctx, hcloud.LoadBalancerCreateOpts{
		Name: "api", LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb11"}, Location: &hcloud.Location{Name: "fsn1"},
		Labels:   map[string]string{"cluster": "a"},
		Services: []hcloud.LoadBalancerCreateOptsService{{Protocol: hcloud.LoadBalancerServiceProtocolTCP, ListenPort: hcloud.Ptr(6443), DestinationPort: hcloud.Ptr(6443)}},
	}))
	lb := res.LoadBalancer
	if !lb.PublicNet.IPv4.IP.IsLoopback() {
		t.Fatalf("LB IPv4 %s is not loopback", lb.PublicNet.IPv4.IP)
	}
	_, _, err := c.LoadBalancer.AttachToNetwork(ctx, lb, hcloud.LoadBalancerAttachToNetworkOpts{Network: nw})
	wantCode(t, err, hcloud.ErrorCodeLocked) // create_load_balancer still running
	env.Clock.Resume()
	wait(t, env, res.Action)

	wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AttachToNetwork(ctx, lb, hcloud.LoadBalancerAttachToNetworkOpts{Network: nw})))
	wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AddLabelSelectorTarget(ctx, lb, hcloud.LoadBalancerAddLabelSelectorTargetOpts{Selector: "role=cp", UsePrivateIP: hcloud.Ptr(true)})))
	wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AddService(ctx, lb, hcloud.LoadBalancerAddServiceOpts{Protocol: "tcp", ListenPort: hcloud.Ptr(50000), DestinationPort: hcloud.Ptr(50000)})))
	_, _, err = c.LoadBalancer.AddService(ctx, lb, hcloud.LoadBalancerAddServiceOpts{Protocol: "tcp", ListenPort: hcloud.Ptr(50000)})
	wantCode(t, err, hcloud.ErrorCodeSourcePortAlreadyUsed)

	t.Run("targets become healthy", func(t *testing.T) {
		// Health follows the probes: something has to answer on the ports
		// the checks dial (the target's public loopback address, although
		// it is a use_private_ip target).
		listen(t, cp, 6443, nil)
		listen(t, cp, 50000, nil)
		env.Eventually(t, 5*time.Minute, func() bool {
			got := must[*hcloud.LoadBalancer](t)(c.LoadBalancer.GetByID(ctx, lb.ID))
			if len(got.Targets) != 1 || len(got.Targets[0].Targets) != 1 {
				return false
			}
			hs := got.Targets[0].Targets[0].HealthStatus
			return len(hs) == 2 && hs[0].Status == hcloud.LoadBalancerTargetHealthStatusStatusHealthy && hs[1].Status == hcloud.LoadBalancerTargetHealthStatusStatusHealthy
		})
		srv := must[*hcloud.Server](t)(c.Server.GetByID(ctx, cp.ID))
		if len(srv.LoadBalancers) != 1 {
			t.Fatalf("server.load_balancers = %v", srv.LoadBalancers)
		}
	})

	t.Run("server target rules", func(t *testing.T) {
		plain := createServer(t, env, serverSpec{name: "plain"})
		_, _, err := c.LoadBalancer.AddServerTarget(ctx, lb, hcloud.LoadBalancerAddServerTargetOpts{Server: plain, UsePrivateIP: hcloud.Ptr(true)})
		wantCode(t, err, hcloud.ErrorCodeServerNotAttachedToNetwork)
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AddServerTarget(ctx, lb, hcloud.LoadBalancerAddServerTargetOpts{Server: plain})))
		_, _, err = c.LoadBalancer.AddServerTarget(ctx, lb, hcloud.LoadBalancerAddServerTargetOpts{Server: plain})
		wantCode(t, err, hcloud.ErrorCodeTargetAlreadyDefined)
		_, _, err = c.LoadBalancer.DisablePublicInterface(ctx, lb)
		wantCode(t, err, hcloud.ErrorCodeTargetsWithoutUsePrivateIP)
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.RemoveServerTarget(ctx, lb, plain)))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.DisablePublicInterface(ctx, lb)))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.EnablePublicInterface(ctx, lb)))
	})

	t.Run("changes", func(t *testing.T) {
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.ChangeAlgorithm(ctx, lb, hcloud.LoadBalancerChangeAlgorithmOpts{Type: hcloud.LoadBalancerAlgorithmTypeLeastConnections})))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.ChangeType(ctx, lb, hcloud.LoadBalancerChangeTypeOpts{LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb21"}})))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.ChangeDNSPtr(ctx, lb, lb.PublicNet.IPv4.IP.String(), hcloud.Ptr("api.example.com"))))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.UpdateService(ctx, lb, 50000, hcloud.LoadBalancerUpdateServiceOpts{HealthCheck: &hcloud.LoadBalancerUpdateServiceOptsHealthCheck{Interval: hcloud.Ptr(5 * time.Second)}})))
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.DeleteService(ctx, lb, 50000)))
		got := must[*hcloud.LoadBalancer](t)(c.LoadBalancer.GetByID(ctx, lb.ID))
		if got.Algorithm.Type != hcloud.LoadBalancerAlgorithmTypeLeastConnections || got.LoadBalancerType.Name != "lb21" ||
			got.PublicNet.IPv4.DNSPtr != "api.example.com" || len(got.Services) != 1 || len(got.PrivateNet) != 1 {
			t.Fatalf("LB after changes: %+v", got)
		}
	})

	t.Run("protection and delete", func(t *testing.T) {
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.ChangeProtection(ctx, lb, hcloud.LoadBalancerChangeProtectionOpts{Delete: hcloud.Ptr(true)})))
		_, _, err := c.LoadBalancer.DeleteWithResult(ctx, lb)
		wantCode(t, err, hcloud.ErrorCodeProtected)
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.ChangeProtection(ctx, lb, hcloud.LoadBalancerChangeProtectionOpts{Delete: hcloud.Ptr(false)})))
		r := must[hcloud.LoadBalancerDeleteResult](t)(c.LoadBalancer.DeleteWithResult(ctx, lb))
		wait(t, env, r.Action)
		if got := must[*hcloud.LoadBalancer](t)(c.LoadBalancer.GetByID(ctx, lb.ID)); got != nil {
			t.Fatal("load balancer still exists")
		}
	})
}
