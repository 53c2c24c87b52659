package hcloudsim_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestPagination(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	for i := range 60 {
		must[*hcloud.SSHKey](t)(c.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: fmt.Sprintf("k%02d", i), PublicKey: fakeSSHKey(i), Labels: map[string]string{"even": fmt.Sprint(i%2 == 0)}}))
	}
	tests := []struct {
		name      string
		opts      hcloud.ListOpts
		wantLen   int
		wantNext  int
		wantLast  int
		wantTotal int
	}{
		{"default page size 25", hcloud.ListOpts{}, 25, 2, 3, 60},
		{"per_page capped at 50", hcloud.ListOpts{PerPage: 500}, 50, 2, 2, 60},
		{"last page", hcloud.ListOpts{Page: 3}, 10, 0, 3, 60},
		{"beyond last page", hcloud.ListOpts{Page: 9}, 0, 0, 3, 60},
		{"filtered", hcloud.ListOpts{LabelSelector: "even=true", PerPage: 20}, 20, 2, 2, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, resp, err := c.SSHKey.List(ctx, hcloud.SSHKeyListOpts{ListOpts: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			p := resp.Meta.Pagination
			if len(keys) != tt.wantLen || p.NextPage != tt.wantNext || p.LastPage != tt.wantLast || p.TotalEntries != tt.wantTotal {
				t.Fatalf("len %d, pagination %+v", len(keys), p)
			}
		})
	}
	all, err := c.SSHKey.All(ctx)
	if err != nil || len(all) != 60 {
		t.Fatalf("All: %d %v", len(all), err)
	}
	r, err := http.NewRequest(http.MethodGet, env.Endpoint+"/ssh_keys?sort=name:desc&per_page=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+env.Token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name":"k59"`) || !strings.Contains(string(body), `"previous_page":null`) {
		t.Fatalf("sort=name:desc: %s", body)
	}
}

func TestLabelSelectors(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	for _, s := range []struct {
		name   string
		labels map[string]string
	}{
		{"cp1", map[string]string{"cluster": "a", "role": "cp"}},
		{"w1", map[string]string{"cluster": "a", "role": "worker"}},
		{"w2", map[string]string{"cluster": "b", "role": "worker", "gpu": ""}},
		{"x", map[string]string{}},
	} {
		startServer(t, env, serverSpec{name: s.name, labels: s.labels})
	}
	tests := []struct {
		selector string
		want     string
	}{
		{"cluster=a", "cp1,w1"},
		{"cluster==a,role=worker", "w1"},
		{"cluster!=a", "w2,x"},
		{"gpu", "w2"},
		{"!cluster", "x"},
		{"role in (cp,worker),cluster notin (b)", "cp1,w1"},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			servers, err := c.Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: tt.selector}})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range servers {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"a in (", "=x", "a==b==c"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			_, _, err := c.Server.List(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: bad}})
			wantCode(t, err, hcloud.ErrorCodeInvalidInput)
		})
	}
}

func TestAuthAndWireErrors(t *testing.T) {
	env := newEnv(t)
	ctx := testCtx(t)
	bad := env.NewClient(t, hcloud.WithToken("wrong"))
	_, _, err := bad.Server.List(ctx, hcloud.ServerListOpts{})
	wantCode(t, err, hcloud.ErrorCodeUnauthorized)

	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed json", http.MethodPost, "/servers", `{"name":`, 400, "json_error"},
		{"wrong type", http.MethodPost, "/servers", `{"name":1}`, 400, "invalid_input"},
		{"unknown id", http.MethodGet, "/servers/123", "", 404, "not_found"},
		{"non numeric id", http.MethodGet, "/networks/abc", "", 404, "not_found"},
		{"unknown route", http.MethodGet, "/nothing", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, env.Endpoint+tt.path, strings.NewReader(tt.body))
			r.Header.Set("Authorization", "Bearer "+env.Token)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), `"code":"`+tt.code+`"`) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			if resp.Header.Get("X-Correlation-Id") == "" || resp.Header.Get("RateLimit-Remaining") == "" {
				t.Fatalf("headers missing: %v", resp.Header)
			}
		})
	}
	t.Run("GetByID maps not_found to nil", func(t *testing.T) {
		s, _, err := env.Client.Server.GetByID(ctx, 424242)
		if err != nil || s != nil {
			t.Fatalf("%v %v", s, err)
		}
	})
}

// TestLockingWithManualClock steps simulated time by hand to observe the
// intermediate states of a server create.
func TestLockingWithManualClock(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := simtest.New(t, hcloudsim.Options{Clock: clk, Latency: hcloudsim.LatencyModel{Jitter: -1}})
	c := env.Client
	ctx := testCtx(t)
	res := startServer(t, env, serverSpec{name: "s"})
	_, _, err := c.Server.Poweroff(ctx, res.Server)
	wantCode(t, err, hcloud.ErrorCodeLocked)

	steps := []struct {
		advance  time.Duration
		status   hcloud.ServerStatus
		locked   bool
		progress int
	}{
		{6 * time.Second, hcloud.ServerStatusInitializing, true, 50},
		{6 * time.Second, hcloud.ServerStatusStarting, true, 100},
		{8 * time.Second, hcloud.ServerStatusRunning, false, 100},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		srv := must[*hcloud.Server](t)(c.Server.GetByID(ctx, res.Server.ID))
		a := must[*hcloud.Action](t)(c.Action.GetByID(ctx, res.Action.ID))
		if srv.Status != st.status || srv.Locked != st.locked || a.Progress != st.progress {
			t.Fatalf("at %v: status %s locked %v progress %d, want %s %v %d", env.Sim.Elapsed(), srv.Status, srv.Locked, a.Progress, st.status, st.locked, st.progress)
		}
	}
	if got := env.Sim.Elapsed(); got != 20*time.Second {
		t.Fatalf("elapsed %v", got)
	}
	a := must[*hcloud.Action](t)(c.Action.GetByID(ctx, res.Action.ID))
	if !a.Started.Equal(clk.Now().Add(-20*time.Second)) || !a.Finished.Equal(a.Started.Add(12*time.Second)) {
		t.Fatalf("timestamps started %v finished %v", a.Started, a.Finished)
	}
}

func TestRateLimit(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := simtest.New(t, hcloudsim.Options{Clock: clk, RateLimit: hcloudsim.RateLimitOptions{Limit: 3, RefillPerSecond: 1}})
	c := env.NewClient(t, hcloud.WithRetryOpts(hcloud.RetryOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond), MaxRetries: 0}))
	ctx := testCtx(t)
	for want := 2; want >= 0; want-- {
		_, resp, err := c.Location.List(ctx, hcloud.LocationListOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Meta.Ratelimit.Limit != 3 || resp.Meta.Ratelimit.Remaining != want {
			t.Fatalf("ratelimit %+v, want remaining %d", resp.Meta.Ratelimit, want)
		}
		if resp.Meta.Ratelimit.Reset.Before(clk.Now()) {
			t.Fatalf("reset %v in the past", resp.Meta.Ratelimit.Reset)
		}
		wantSimulatedDate(t, resp.Response, clk.Now())
	}
	_, resp, err := c.Location.List(ctx, hcloud.LocationListOpts{})
	wantCode(t, err, hcloud.ErrorCodeRateLimitExceeded)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d", resp.StatusCode)
	}
	wantSimulatedDate(t, resp.Response, clk.Now())
	clk.Advance(2 * time.Second)
	if _, _, err := c.Location.List(ctx, hcloud.LocationListOpts{}); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	t.Run("disabled", func(t *testing.T) {
		env := simtest.New(t, hcloudsim.Options{Clock: clk, RateLimit: hcloudsim.RateLimitOptions{Disabled: true, Limit: 1}})
		for range 5 {
			if _, _, err := env.Client.Location.List(ctx, hcloud.LocationListOpts{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// wantSimulatedDate checks that resp's Date is the simulated time now, the
// clock its RateLimit-Reset is on, and not the wall clock.
func wantSimulatedDate(t *testing.T, resp *http.Response, now time.Time) {
	t.Helper()
	if got, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !got.Equal(now.Truncate(time.Second)) {
		t.Fatalf("Date %q (%v), want the simulated time %v", resp.Header.Get("Date"), err, now)
	}
}

func TestStatsEndpoint(t *testing.T) {
	env := newEnv(t)
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "s"})
	must[*hcloud.Server](t)(env.Client.Server.GetByID(ctx, srv.ID))
	st := env.Sim.Stats()
	if st.Requests["POST /v1/servers"] != 1 || st.Requests["GET /v1/servers/{id}"] != 2 {
		t.Fatalf("stats %v", st.Requests)
	}
	resp, err := http.Get(env.Sim.URL() + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"GET /v1/servers/{id}":2`) {
		t.Fatalf("/_sim/stats: %s", b)
	}
	resp, err = http.Post(env.Sim.URL()+"/_sim/stats/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if env.Sim.Stats().Total != 0 {
		t.Fatal("reset did not clear stats")
	}
	resp, err = http.Get(env.Sim.URL() + "/_sim/clock")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"speed":1000`) || !strings.Contains(string(b), "elapsed_seconds") {
		t.Fatalf("/_sim/clock: %s", b)
	}
}

func TestServerStatesGoAPI(t *testing.T) {
	env := newEnv(t)
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "s", noStart: true})
	r := must[hcloud.ServerEnableRescueResult](t)(env.Client.Server.EnableRescue(ctx, srv, hcloud.ServerEnableRescueOpts{}))
	wait(t, env, r.Action)
	wait(t, env, must[*hcloud.Action](t)(env.Client.Server.Poweron(ctx, srv)))
	env.Sim.ResetStats()
	states := env.Sim.ServerStates()
	if len(states) != 1 || !states[0].InRescue || states[0].BootCount != 1 || states[0].PublicV4 != srv.PublicNet.IPv4.IP.String() {
		t.Fatalf("states %+v", states)
	}
	if env.Sim.Stats().Total != 0 {
		t.Fatal("Go API observation must not count as requests")
	}
}
