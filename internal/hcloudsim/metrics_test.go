package hcloudsim_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// TestServerMetrics: GET /servers/{id}/metrics answers the documented time
// series for each requested type (not a 404), with deterministic values
// inside the requested period and the server's lifetime.
func TestServerMetrics(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "m"})
	env.Clock.Advance(2 * time.Hour)
	end := env.Sim.Now().Truncate(time.Second)
	opts := hcloud.ServerGetMetricsOpts{
		Types: []hcloud.ServerMetricType{hcloud.ServerMetricCPU, hcloud.ServerMetricDisk, hcloud.ServerMetricNetwork},
		Start: end.Add(-time.Hour), End: end, Step: 60,
	}
	m := must[*hcloud.ServerMetrics](t)(c.Server.GetMetrics(ctx, srv, opts))
	want := []string{"cpu", "disk.0.bandwidth.read", "disk.0.bandwidth.write", "disk.0.iops.read", "disk.0.iops.write",
		"network.0.bandwidth.in", "network.0.bandwidth.out", "network.0.pps.in", "network.0.pps.out"}
	var got []string
	for name := range m.TimeSeries {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || m.Step != 60 || !m.Start.Equal(opts.Start) || !m.End.Equal(opts.End) {
		t.Fatalf("series %v step %v period %s–%s", got, m.Step, m.Start, m.End)
	}
	cpu := m.TimeSeries["cpu"]
	if len(cpu) < 59 || len(cpu) > 61 {
		t.Fatalf("%d cpu samples for an hour at step 60", len(cpu))
	}
	for i, v := range cpu {
		ts := time.Unix(int64(v.Timestamp), 0)
		pct, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || pct < 0 || pct > 100 || ts.Before(opts.Start) || ts.After(opts.End) || (i > 0 && v.Timestamp <= cpu[i-1].Timestamp) {
			t.Fatalf("cpu sample %d: %+v", i, v)
		}
	}
	again := must[*hcloud.ServerMetrics](t)(c.Server.GetMetrics(ctx, srv, opts))
	if !reflect.DeepEqual(m.TimeSeries, again.TimeSeries) {
		t.Fatal("the same query answered different values")
	}

	t.Run("comma-separated types and step limits", func(t *testing.T) {
		tests := []struct {
			name, query string
			series, max int
		}{
			{"default step", "type=cpu,network", 5, 200},
			{"step too fine", "type=cpu&step=1", 1, 500},
		}
		for _, tt := range tests {
			var res schema.ServerGetMetricsResponse
			apiDecode(t, env, http.MethodGet, metricsPath("servers", srv.ID, tt.query, opts.Start, opts.End), "", http.StatusOK, &res)
			if n := len(res.Metrics.TimeSeries); n != tt.series {
				t.Fatalf("%s: %d series, want %d", tt.name, n, tt.series)
			}
			if n := len(res.Metrics.TimeSeries["cpu"].Values); n == 0 || n > tt.max {
				t.Fatalf("%s: %d samples, want 1..%d", tt.name, n, tt.max)
			}
		}
	})
	t.Run("before the server existed", func(t *testing.T) {
		var res schema.ServerGetMetricsResponse
		apiDecode(t, env, http.MethodGet, metricsPath("servers", srv.ID, "type=cpu", end.Add(-48*time.Hour), end.Add(-24*time.Hour)), "", http.StatusOK, &res)
		if n := len(res.Metrics.TimeSeries["cpu"].Values); n != 0 {
			t.Fatalf("%d samples before the server was created", n)
		}
	})
	t.Run("invalid parameters name the field", func(t *testing.T) {
		start, stop := url.QueryEscape(opts.Start.Format(time.RFC3339)), url.QueryEscape(end.Format(time.RFC3339))
		tests := []struct{ query, field string }{
			{"start=" + start + "&end=" + stop, "type"},
			{"type=gpu&start=" + start + "&end=" + stop, "type"},
			{"type=cpu&start=yesterday&end=" + stop, "start"},
			{"type=cpu&start=" + start, "end"},
			{"type=cpu&start=" + stop + "&end=" + start, "end"},
			{"type=cpu&start=" + start + "&end=" + stop + "&step=0", "step"},
			{"type=cpu&start=" + start + "&end=" + stop + "&step=x", "step"},
		}
		for _, tt := range tests {
			status, body := apiCall(t, env, http.MethodGet, "/servers/"+strconv.FormatInt(srv.ID, 10)+"/metrics?"+tt.query, "")
			wantAPIError(t, status, body, "invalid_input", tt.field)
		}
	})
}

// TestLoadBalancerMetrics: the load balancer's metrics have the same gap and
// the same shape, with their own types.
func TestLoadBalancerMetrics(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	res := must[hcloud.LoadBalancerCreateResult](t)(c.LoadBalancer.Create(ctx, hcloud.LoadBalancerCreateOpts{
		Name: "lb", LoadBalancerType: &hcloud.LoadBalancerType{Name: "lb11"}, Location: &hcloud.Location{Name: "fsn1"},
	}))
	env.Clock.Advance(time.Hour)
	end := env.Sim.Now().Truncate(time.Second)
	m := must[*hcloud.LoadBalancerMetrics](t)(c.LoadBalancer.GetMetrics(ctx, res.LoadBalancer, hcloud.LoadBalancerGetMetricsOpts{
		Types: []hcloud.LoadBalancerMetricType{hcloud.LoadBalancerMetricOpenConnections, hcloud.LoadBalancerMetricBandwidth},
		Start: end.Add(-30 * time.Minute), End: end,
	}))
	if len(m.TimeSeries) != 3 || len(m.TimeSeries["bandwidth.in"]) == 0 || len(m.TimeSeries["open_connections"]) == 0 {
		t.Fatalf("series %v", m.TimeSeries)
	}
	status, body := apiCall(t, env, http.MethodGet, metricsPath("load_balancers", res.LoadBalancer.ID, "type=cpu", end.Add(-time.Minute), end), "")
	wantAPIError(t, status, body, "invalid_input", "type")
}

func metricsPath(kind string, id int64, query string, start, end time.Time) string {
	return "/" + kind + "/" + strconv.FormatInt(id, 10) + "/metrics?" + query +
		"&start=" + url.QueryEscape(start.Format(time.RFC3339)) + "&end=" + url.QueryEscape(end.Format(time.RFC3339))
}
