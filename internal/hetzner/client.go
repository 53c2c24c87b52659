package hetzner

import (
	"net/http"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// Client is the project's handle on the Hetzner Cloud API. Create one per
// CLI run and share it between every layer, so that all requests draw from
// one budget and all actions are polled by one poller.
type Client struct {
	api     *hcloud.Client
	clock   Clock
	opts    Options
	budget  *budget
	stats   *requestStats
	actions *actionPoller
}

// New validates opts and builds a Client. It does not contact the API.
func New(opts Options) (*Client, error) {
	opts, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	base := opts.HTTPClient
	if base == nil {
		base = defaultHTTPClient()
	}
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := &Client{
		clock:  opts.Clock,
		opts:   opts,
		budget: newBudget(opts.Clock, opts.RateLimitReserve, opts.MaxRateLimitWait, opts.OnRateLimitWait),
		stats:  newRequestStats(),
	}
	httpClient := *base // copy: the caller's client stays untouched
	httpClient.Transport = &transport{
		next:       next,
		clock:      opts.Clock,
		budget:     c.budget,
		stats:      c.stats,
		maxRetries: opts.MaxRetries,
		debug:      &debugLog{w: opts.Debug},
	}
	name, version := splitUserAgent(opts.UserAgent)
	c.api = hcloud.NewClient(
		hcloud.WithEndpoint(opts.Endpoint),
		hcloud.WithToken(opts.Token),
		hcloud.WithHTTPClient(&httpClient),
		hcloud.WithApplication(name, version),
		// Callers wait for actions with Client.WaitForActions. Should
		// anything still use hcloud-go's own WaitFor, it polls at our
		// interval rather than hcloud-go's 500 ms.
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(opts.PollInterval)}),
		// hcloud-go would retry conflicts, timeouts and 429s on its own,
		// stacked on top of our retries and blind to what the request
		// was (a timed-out create may well have succeeded). The transport
		// owns 429s and Client.Retry owns everything else.
		hcloud.WithRetryOpts(hcloud.RetryOpts{BackoffFunc: hcloud.ConstantBackoff(opts.PollInterval), MaxRetries: 0}),
	)
	c.actions = newActionPoller(c.api, opts.Clock, opts.PollInterval, opts.MaxRetries)
	return c, nil
}

// API returns the hcloud-go client. Its requests go through this Client's
// budget and statistics.
func (c *Client) API() *hcloud.Client { return c.api }

// SetPhase sets the phase that requests without a WithPhase context are
// counted under.
func (c *Client) SetPhase(phase string) { c.stats.setPhase(phase) }

// Stats returns the request counts so far: phase → "METHOD /v1/path/{id}" →
// count. Every HTTP request counts, including retries after a 429.
func (c *Client) Stats() map[string]map[string]int { return c.stats.snapshot() }

// Total returns the number of HTTP requests sent so far.
func (c *Client) Total() int { return c.stats.sum() }

// Budget returns the last known rate-limit state.
func (c *Client) Budget() Budget { return c.budget.snapshot() }

// Close stops the action poller; waits still in progress fail with
// ErrClosed. It is safe to call more than once.
func (c *Client) Close() error {
	c.actions.close()
	return nil
}
