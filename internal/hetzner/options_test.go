package hetzner

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; empty means success
	}{
		{name: "minimal", opts: Options{Token: "abc"}},
		{name: "empty token", opts: Options{}, wantErr: "HCLOUD_TOKEN"},
		{name: "blank token", opts: Options{Token: "  "}, wantErr: "HCLOUD_TOKEN"},
		{name: "token with newline", opts: Options{Token: "abc\n"}, wantErr: "HCLOUD_TOKEN"},
		{name: "simulator endpoint", opts: Options{Token: "abc", Endpoint: "http://127.0.0.1:8080/v1"}},
		{name: "unparsable endpoint", opts: Options{Token: "abc", Endpoint: "http://[::1"}, wantErr: "invalid API endpoint"},
		{name: "endpoint without scheme", opts: Options{Token: "abc", Endpoint: "api.hetzner.cloud/v1"}, wantErr: "scheme must be http or https"},
		{name: "endpoint without host", opts: Options{Token: "abc", Endpoint: "https:///v1"}, wantErr: "missing host"},
		{name: "endpoint with query", opts: Options{Token: "abc", Endpoint: "https://x/v1?a=b"}, wantErr: "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				_ = c.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tt.wantErr)
			}
			if tt.opts.Token != "" && strings.TrimSpace(tt.opts.Token) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.opts.Token)) {
				t.Fatalf("error %q echoes the token", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{Token: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.opts.PollInterval != DefaultPollInterval || c.opts.MaxRetries != DefaultMaxRetries ||
		c.opts.MaxRateLimitWait != DefaultMaxRateLimitWait || c.opts.Endpoint != "https://api.hetzner.cloud/v1" {
		t.Fatalf("defaults not applied: %+v", c.opts)
	}
	noRetries, err := New(Options{Token: "abc", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer noRetries.Close()
	if noRetries.opts.MaxRetries != 0 {
		t.Fatalf("MaxRetries -1 resolved to %d, want 0", noRetries.opts.MaxRetries)
	}
}

func TestClientSendsTokenAndUserAgent(t *testing.T) {
	var gotAuth, gotUA string
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotUA = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		writeJSON(w, http.StatusOK, `{}`)
	}))
	c := newTestClient(t, srv, Options{UserAgent: "hcloud-k8s/1.2.3"})
	if err := doRaw(context.Background(), c, http.MethodGet, "/servers", ""); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer "+testToken {
		t.Errorf("Authorization = %q", gotAuth)
	}
	if !strings.HasPrefix(gotUA, "hcloud-k8s/1.2.3 hcloud-go/") {
		t.Errorf("User-Agent = %q, want hcloud-k8s/1.2.3 hcloud-go/…", gotUA)
	}
}

func TestNewLeavesCallersHTTPClientAlone(t *testing.T) {
	transport := &http.Transport{}
	hc := &http.Client{Transport: transport, Timeout: time.Minute}
	c, err := New(Options{Token: "abc", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if hc.Transport != transport {
		t.Fatal("New replaced the transport of the caller's http.Client")
	}
}
