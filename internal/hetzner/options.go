package hetzner

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Defaults for Options. They are tuned for the real API; tests shrink
// PollInterval so that everything scaled from it runs fast.
const (
	DefaultPollInterval     = time.Second
	DefaultMaxRetries       = 8
	DefaultMaxRateLimitWait = time.Minute
	DefaultUserAgent        = "hcloud-k8s"
	// DefaultReserveFraction is the share of the rate limit left to the
	// in-cluster controllers when RateLimitReserve is zero.
	DefaultReserveFraction = 0.10
	// minDefaultReserve keeps a meaningful reserve for small limits.
	minDefaultReserve = 50
)

// Options configures New. Only Token is required.
type Options struct {
	// Token is the Hetzner Cloud API token (usually from HCLOUD_TOKEN).
	Token string
	// Endpoint is the API base URL including /v1; default hcloud.Endpoint.
	Endpoint string
	// HTTPClient is the client whose transport carries the requests; it is
	// copied, never modified. Note that an http.Client.Timeout also bounds
	// the time the budget spends waiting for the rate limit.
	HTTPClient *http.Client
	// PollInterval is the interval of the action poller and the base delay
	// of Retry's backoff (default 1s).
	PollInterval time.Duration
	// MaxRetries bounds every retry loop of the package: Retry makes at most
	// MaxRetries+1 attempts, the budget retries a 429 at most MaxRetries
	// times, and the action poller retries a failed poll at most
	// MaxRetries times in a row. Zero means DefaultMaxRetries; negative means no retries.
	MaxRetries int
	// Debug receives one line per HTTP request (method, path, status,
	// duration). Headers are never written, so the token cannot leak.
	Debug io.Writer
	// UserAgent is "name" or "name/version"; hcloud-go appends its own.
	UserAgent string
	// RateLimitReserve is the number of remaining requests below which the
	// budget starts pacing. Zero means max(10% of the limit, 50) (capped
	// at the limit); negative disables pacing (429s are still waited out).
	RateLimitReserve int
	// MaxRateLimitWait bounds a single wait for the rate limit to reset
	// after a 429, and the spacing between paced requests (default 1 min).
	// RateLimit-Reset is the time the bucket is full again, which can be an
	// hour away; one request needs far less.
	MaxRateLimitWait time.Duration
	// OnRateLimitWait hears of every wait for the rate limit (pacing or
	// after a 429) longer than 3 s, before it starts, so that a long pause
	// can be explained: RateLimitWait.String is the progress line. Waits
	// that start while an announced one still runs are not announced again.
	// It is called from the goroutines that send requests; nil announces
	// nothing.
	OnRateLimitWait func(RateLimitWait)
	// Clock is the time source; default the wall clock.
	Clock Clock
}

// resolved returns a copy with defaults filled in, or an error naming the
// invalid field.
func (o Options) resolved() (Options, error) {
	if strings.TrimSpace(o.Token) == "" {
		return o, errors.New("hetzner: no API token: set HCLOUD_TOKEN to a read & write token of your Hetzner Cloud project")
	}
	if strings.ContainsFunc(o.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// The token itself is never echoed: it is a secret.
		return o, errors.New("hetzner: API token contains whitespace or control characters: check HCLOUD_TOKEN")
	}
	if o.Endpoint == "" {
		o.Endpoint = hcloud.Endpoint
	}
	if err := validateEndpoint(o.Endpoint); err != nil {
		return o, err
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.MaxRateLimitWait <= 0 {
		o.MaxRateLimitWait = DefaultMaxRateLimitWait
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	return o, nil
}

func validateEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("hetzner: invalid API endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("hetzner: invalid API endpoint %q: scheme must be http or https", endpoint)
	}
	if u.Host == "" {
		return fmt.Errorf("hetzner: invalid API endpoint %q: missing host", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("hetzner: invalid API endpoint %q: must not contain a query or fragment", endpoint)
	}
	return nil
}

// splitUserAgent turns "name/version" into hcloud.WithApplication's arguments.
func splitUserAgent(ua string) (name, version string) {
	name, version, _ = strings.Cut(ua, "/")
	return name, version
}

// defaultHTTPClient bounds each phase of a request, but not the request as a
// whole: an overall http.Client.Timeout would also cut short the budget's
// legitimate waits for the rate limit, which happen inside the transport.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	return &http.Client{Transport: t}
}
