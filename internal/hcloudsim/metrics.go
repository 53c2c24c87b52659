package hcloudsim

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metrics are made up: nothing in the simulator consumes CPU or moves
// bytes. Every sample is a pure function of the seed, the resource, the
// series and the timestamp, so repeated and overlapping queries agree.

// metricSeries is one time series of a metric type and the range its
// plausible values lie in.
type metricSeries struct {
	name   string
	lo, hi float64
}

// serverMetricTypes are the series of GET /servers/{id}/metrics per type.
var serverMetricTypes = map[string][]metricSeries{
	"cpu": {{"cpu", 0.5, 35}},
	"disk": {
		{"disk.0.iops.read", 0, 40}, {"disk.0.iops.write", 1, 120},
		{"disk.0.bandwidth.read", 0, 2e6}, {"disk.0.bandwidth.write", 1e4, 8e6},
	},
	"network": {
		{"network.0.pps.in", 5, 400}, {"network.0.pps.out", 5, 400},
		{"network.0.bandwidth.in", 1e3, 2e5}, {"network.0.bandwidth.out", 1e3, 2e5},
	},
}

// lbMetricTypes are the series of GET /load_balancers/{id}/metrics per type.
var lbMetricTypes = map[string][]metricSeries{
	"open_connections":       {{"open_connections", 0, 80}},
	"connections_per_second": {{"connections_per_second", 0, 25}},
	"requests_per_second":    {{"requests_per_second", 0, 60}},
	"bandwidth":              {{"bandwidth.in", 1e3, 5e5}, {"bandwidth.out", 1e3, 2e6}},
}

const (
	metricsRetention  = 30 * 24 * time.Hour // "available for the last 30 days only"
	metricsDefaultMax = 200                 // samples when no step is given
	metricsMax        = 500                 // samples at most; step grows to fit
)

// metricsQuery is a validated metrics request.
type metricsQuery struct {
	series     []metricSeries
	start, end time.Time
	step       int64 // seconds
}

// parseMetricsQuery reads type (repeated or comma-separated), start, end
// (RFC 3339) and step like the API: anything invalid is invalid_input naming
// the parameter, and step is widened to the documented sample limits.
func parseMetricsQuery(c *call, types map[string][]metricSeries) (metricsQuery, error) {
	var q metricsQuery
	var err error
	if q.series, err = metricTypes(c, types); err != nil {
		return q, err
	}
	if q.start, err = metricsTime(c, "start"); err != nil {
		return q, err
	}
	if q.end, err = metricsTime(c, "end"); err != nil {
		return q, err
	}
	if q.end.Before(q.start) {
		return q, errInvalidField("end", "must not be before start")
	}
	// Samples sit on multiples of step in [start, end], both ends included:
	// span/step intervals hold up to span/step+1 samples, so the limits
	// divide by one less.
	span := int64(q.end.Sub(q.start) / time.Second)
	q.step = max(1, ceilDiv(span, metricsDefaultMax-1))
	if raw := c.query("step"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return q, errInvalidField("step", "must be a positive number of seconds")
		}
		q.step = max(n, ceilDiv(span, metricsMax-1))
	}
	return q, nil
}

func metricTypes(c *call, types map[string][]metricSeries) ([]metricSeries, error) {
	var names []string
	for _, v := range c.queryAll("type") {
		names = append(names, strings.Split(v, ",")...)
	}
	if len(names) == 0 {
		return nil, errInvalidField("type", "is required")
	}
	var out []metricSeries
	for _, n := range names {
		s, ok := types[strings.TrimSpace(n)]
		if !ok {
			return nil, errInvalidField("type", "unknown metric type %q", n)
		}
		for _, ms := range s {
			if !slices.Contains(out, ms) {
				out = append(out, ms)
			}
		}
	}
	return out, nil
}

func metricsTime(c *call, name string) (time.Time, error) {
	raw := c.query(name)
	if raw == "" {
		return time.Time{}, errInvalidField(name, "is required")
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, errInvalidField(name, "must be an ISO-8601 (RFC 3339) time")
	}
	return t, nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// sampleMetrics returns the values of q's series for the resource id, with
// samples only where the resource existed (since created), within the
// retention and not in the future. Timestamps sit on multiples of step.
func (s *Server) sampleMetrics(q metricsQuery, kind string, id int64, created time.Time) map[string][]any {
	now := s.clock.Now()
	from := maxTime(q.start, maxTime(created, now.Add(-metricsRetention)))
	to := q.end
	if now.Before(to) {
		to = now
	}
	out := map[string][]any{}
	for _, ms := range q.series {
		values := []any{}
		for ts := ceilDiv(from.Unix(), q.step) * q.step; ts <= to.Unix(); ts += q.step {
			v := s.metricValue(kind, id, ms, ts)
			values = append(values, []any{float64(ts), strconv.FormatFloat(v, 'f', 2, 64)})
		}
		out[ms.name] = values
	}
	return out
}

// metricValue is a daily wave plus seeded noise inside the series' range.
func (s *Server) metricValue(kind string, id int64, ms metricSeries, ts int64) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind + "/" + ms.name))
	r := rand.New(rand.NewPCG(s.opts.Seed^uint64(id)^h.Sum64(), uint64(ts)))
	wave := 0.5 + 0.3*math.Sin(2*math.Pi*float64(ts%86400)/86400+float64(id%7))
	u := min(1, max(0, wave+0.4*(r.Float64()-0.5)))
	return ms.lo + (ms.hi-ms.lo)*u
}

// metricsResponse is the wire form schema.ServerGetMetricsResponse and
// schema.LoadBalancerGetMetricsResponse share; they differ only in the Go
// type of the series.
type metricsResponse struct {
	Metrics struct {
		Start      time.Time               `json:"start"`
		End        time.Time               `json:"end"`
		Step       float64                 `json:"step"`
		TimeSeries map[string]metricValues `json:"time_series"`
	} `json:"metrics"`
}

type metricValues struct {
	Values []any `json:"values"`
}

// metrics validates the query and samples it for resource r of kind.
func (s *Server) metrics(c *call, types map[string][]metricSeries, kind string, r *resource) (int, any, error) {
	q, err := parseMetricsQuery(c, types)
	if err != nil {
		return 0, nil, err
	}
	var resp metricsResponse
	resp.Metrics.Start, resp.Metrics.End, resp.Metrics.Step = q.start, q.end, float64(q.step)
	resp.Metrics.TimeSeries = map[string]metricValues{}
	for name, values := range s.sampleMetrics(q, kind, r.ID, r.Created) {
		resp.Metrics.TimeSeries[name] = metricValues{Values: values}
	}
	return http.StatusOK, resp, nil
}

func (s *Server) serverMetrics(_ context.Context, c *call) (int, any, error) {
	sv, err := s.serverByID(c)
	if err != nil {
		return 0, nil, err
	}
	return s.metrics(c, serverMetricTypes, "server", sv.base())
}

func (s *Server) lbMetrics(_ context.Context, c *call) (int, any, error) {
	lb, err := s.lbByID(c)
	if err != nil {
		return 0, nil, err
	}
	return s.metrics(c, lbMetricTypes, "load_balancer", lb.base())
}
