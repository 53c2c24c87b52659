package hcloudsim_test

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// listen serves on a server's public (loopback) IPv4 until the test ends or
// the returned func closes it. With handler nil it only accepts TCP.
func listen(t *testing.T, srv *hcloud.Server, port int, handler http.Handler) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(srv.PublicNet.IPv4.IP.String(), strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on %s:%d: %v", srv.PublicNet.IPv4.IP, port, err)
	}
	if handler == nil {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
		t.Cleanup(func() { _ = ln.Close() })
		return func() { _ = ln.Close() }
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return func() { _ = hs.Close() }
}

// healthOf returns the status of every (server, listen port) of the load
// balancer's targets, selector matches included, e.g. "1000001/80".
func healthOf(t *testing.T, env *simtest.Env, lbID int64) map[string]hcloud.LoadBalancerTargetHealthStatusStatus {
	t.Helper()
	lb := must[*hcloud.LoadBalancer](t)(env.Client.LoadBalancer.GetByID(testCtx(t), lbID))
	out := map[string]hcloud.LoadBalancerTargetHealthStatusStatus{}
	var add func(tg hcloud.LoadBalancerTarget)
	add = func(tg hcloud.LoadBalancerTarget) {
		for _, hs := range tg.HealthStatus {
			out[fmt.Sprintf("%d/%d", tg.Server.Server.ID, hs.ListenPort)] = hs.Status
		}
		for _, sub := range tg.Targets {
			add(sub)
		}
	}
	for _, tg := range lb.Targets {
		add(tg)
	}
	return out
}

// waitHealth waits (in simulated time, on the simulator's clock) until the
// statuses include want.
func waitHealth(t *testing.T, env *simtest.Env, lbID int64, want map[string]hcloud.LoadBalancerTargetHealthStatusStatus) {
	t.Helper()
	testwait.Eventually(t, 20*time.Second, "load balancer health", func() error {
		got := healthOf(t, env, lbID)
		for k, w := range want {
			if got[k] != w {
				return fmt.Errorf("health %v, want %v", got, want)
			}
		}
		return nil
	})
}

// TestLoadBalancerHealthFollowsListeners: target health comes from probing
// the target, per service and per matched server: unknown until `retries`
// results agree, healthy where something answers, unhealthy where nothing
// listens, the HTTP check answers wrong or the server is off. Private
// targets are probed on the server's public loopback address, never on 10.x.
func TestLoadBalancerHealthFollowsListeners(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	nw := newCloudNetwork(t, env, "n")
	web := createServer(t, env, serverSpec{name: "web", labels: map[string]string{"role": "web"}, networks: []*hcloud.Network{nw}})
	idle := createServer(t, env, serverSpec{name: "idle", labels: map[string]string{"role": "web"}, networks: []*hcloud.Network{nw}})
	stopTCP := listen(t, web, 8080, nil)
	listen(t, web, 8081, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))

	res := must[hcloud.LoadBalancerCreateResult](t)(c.LoadBalancer.Create(ctx, hcloud.LoadBalancerCreateOpts{
		Name: "lb", LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb11"}, Location: &hcloud.Location{Name: "fsn1"}, Network: nw,
	}))
	wait(t, env, res.Action)
	lb := res.LoadBalancer
	check := func(proto hcloud.LoadBalancerServiceProtocol, path string) *hcloud.LoadBalancerAddServiceOptsHealthCheck {
		hc := &hcloud.LoadBalancerAddServiceOptsHealthCheck{Protocol: proto, Interval: hcloud.Ptr(5 * time.Second), Timeout: hcloud.Ptr(3 * time.Second), Retries: hcloud.Ptr(2)}
		if path != "" {
			hc.HTTP = &hcloud.LoadBalancerAddServiceOptsHealthCheckHTTP{Path: hcloud.Ptr(path), StatusCodes: []string{"2??"}}
		}
		return hc
	}
	for _, svc := range []struct {
		port int
		hc   *hcloud.LoadBalancerAddServiceOptsHealthCheck
	}{
		{8080, check(hcloud.LoadBalancerServiceProtocolTCP, "")},
		{9090, check(hcloud.LoadBalancerServiceProtocolTCP, "")}, // nothing listens
		{8081, check(hcloud.LoadBalancerServiceProtocolHTTP, "/healthz")},
		{8082, nil}, // the default check: tcp on the destination port 8082
	} {
		wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AddService(ctx, lb, hcloud.LoadBalancerAddServiceOpts{
			Protocol: hcloud.LoadBalancerServiceProtocolTCP, ListenPort: hcloud.Ptr(svc.port), DestinationPort: hcloud.Ptr(svc.port), HealthCheck: svc.hc,
		})))
	}
	// A second HTTP service whose check asks for a path the target 404s.
	wait(t, env, must[*hcloud.Action](t)(c.LoadBalancer.AddService(ctx, lb, hcloud.LoadBalancerAddServiceOpts{
		Protocol: hcloud.LoadBalancerServiceProtocolTCP, ListenPort: hcloud.Ptr(18081), DestinationPort: hcloud.Ptr(8081),
		HealthCheck: check(hcloud.LoadBalancerServiceProtocolHTTP, "/missing"),
	})))

	env.Clock.Pause() // no second probe result may count before we look
	added := must[*hcloud.Action](t)(c.LoadBalancer.AddLabelSelectorTarget(ctx, lb, hcloud.LoadBalancerAddLabelSelectorTargetOpts{Selector: "role=web", UsePrivateIP: hcloud.Ptr(true)}))
	statuses := healthOf(t, env, lb.ID)
	if len(statuses) != 10 {
		t.Fatalf("health of 2 servers x 5 services: %v", statuses)
	}
	for k, st := range statuses {
		if st != hcloud.LoadBalancerTargetHealthStatusStatusUnknown {
			t.Fatalf("%s is %s right after the target was added, want unknown", k, st)
		}
	}
	env.Clock.Resume()
	wait(t, env, added)

	key := func(sv *hcloud.Server, port int) string { return fmt.Sprintf("%d/%d", sv.ID, port) }
	healthy, unhealthy := hcloud.LoadBalancerTargetHealthStatusStatusHealthy, hcloud.LoadBalancerTargetHealthStatusStatusUnhealthy
	waitHealth(t, env, lb.ID, map[string]hcloud.LoadBalancerTargetHealthStatusStatus{
		key(web, 8080): healthy, key(web, 9090): unhealthy, key(web, 8081): healthy, key(web, 18081): unhealthy, key(web, 8082): unhealthy,
		key(idle, 8080): unhealthy, key(idle, 8081): unhealthy,
	})

	stopTCP()
	waitHealth(t, env, lb.ID, map[string]hcloud.LoadBalancerTargetHealthStatusStatus{key(web, 8080): unhealthy, key(web, 8081): healthy})

	wait(t, env, must[*hcloud.Action](t)(c.Server.Poweroff(ctx, web)))
	waitHealth(t, env, lb.ID, map[string]hcloud.LoadBalancerTargetHealthStatusStatus{key(web, 8081): unhealthy})
}
