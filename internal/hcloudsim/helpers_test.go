package hcloudsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newEnv(t *testing.T) *simtest.Env {
	t.Helper()
	return simtest.New(t, hcloudsim.Options{})
}

// wait waits for actions through hcloud-go's batched poller.
func wait(t *testing.T, env *simtest.Env, actions ...*hcloud.Action) {
	t.Helper()
	if err := env.Client.Action.WaitFor(testCtx(t), actions...); err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
}

func must[T any](t *testing.T) func(v T, _ *hcloud.Response, err error) T {
	return func(v T, _ *hcloud.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantCode asserts err is an hcloud.Error with the given code.
func wantCode(t *testing.T, err error, code hcloud.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %s, got success", code)
	}
	if !hcloud.IsError(err, code) {
		var he hcloud.Error
		errors.As(err, &he)
		t.Fatalf("expected error code %s, got %v (code %q)", code, err, he.Code)
	}
}

type serverSpec struct {
	name      string
	labels    map[string]string
	typ       string
	location  string
	image     string
	networks  []*hcloud.Network
	firewalls []*hcloud.Firewall
	pg        *hcloud.PlacementGroup
	noStart   bool
}

// createServer creates a server and waits for it (and its next actions).
func createServer(t *testing.T, env *simtest.Env, spec serverSpec) *hcloud.Server {
	t.Helper()
	res := startServer(t, env, spec)
	wait(t, env, append([]*hcloud.Action{res.Action}, res.NextActions...)...)
	return must[*hcloud.Server](t)(env.Client.Server.GetByID(testCtx(t), res.Server.ID))
}

func startServer(t *testing.T, env *simtest.Env, spec serverSpec) hcloud.ServerCreateResult {
	t.Helper()
	if spec.typ == "" {
		spec.typ = "cx22"
	}
	if spec.location == "" {
		spec.location = "fsn1"
	}
	if spec.image == "" {
		spec.image = "debian-13"
	}
	opts := hcloud.ServerCreateOpts{
		Name:           spec.name,
		ServerType:     &hcloud.ServerType{Name: spec.typ},
		Image:          &hcloud.Image{Name: spec.image},
		Location:       &hcloud.Location{Name: spec.location},
		Labels:         spec.labels,
		Networks:       spec.networks,
		PlacementGroup: spec.pg,
	}
	for _, fw := range spec.firewalls {
		opts.Firewalls = append(opts.Firewalls, &hcloud.ServerCreateFirewall{Firewall: *fw})
	}
	if spec.noStart {
		opts.StartAfterCreate = hcloud.Ptr(false)
	}
	return must[hcloud.ServerCreateResult](t)(env.Client.Server.Create(testCtx(t), opts))
}

// apiCall sends a raw JSON request, for wire forms hcloud-go does not
// produce (an ID where it sends a name, deprecated fields, bad query
// parameters), and returns the status and body.
func apiCall(t *testing.T, env *simtest.Env, method, path, body string) (int, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(testCtx(t), method, env.Endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+env.Token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := simtest.LoopbackHTTPClient(t).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// apiDecode is apiCall for a request that must succeed with status want;
// the body is decoded into out.
func apiDecode(t *testing.T, env *simtest.Env, method, path, body string, want int, out any) {
	t.Helper()
	status, got := apiCall(t, env, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, got)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(got), out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, got, err)
		}
	}
}

// wantAPIError asserts a raw response is the error envelope with code and,
// for invalid_input, names field in details.fields.
func wantAPIError(t *testing.T, status int, body string, code, field string) {
	t.Helper()
	var e schema.ErrorResponse
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != code {
		t.Fatalf("status %d body %s: want error code %s", status, body, code)
	}
	if field == "" {
		return
	}
	var d struct {
		Fields []struct{ Name string } `json:"fields"`
	}
	if err := json.Unmarshal(e.Error.DetailsRaw, &d); err != nil || len(d.Fields) != 1 || d.Fields[0].Name != field {
		t.Fatalf("body %s: want details.fields naming %q", body, field)
	}
}

// newCloudNetwork creates network name 10.0.0.0/16 with the cloud subnet
// 10.0.1.0/24 in eu-central, where servers of fsn1 get their private IPs.
func newCloudNetwork(t *testing.T, env *simtest.Env, name string) *hcloud.Network {
	t.Helper()
	return must[*hcloud.Network](t)(env.Client.Network.Create(testCtx(t), hcloud.NetworkCreateOpts{
		Name: name, IPRange: mustCIDR("10.0.0.0/16"),
		Subnets: []hcloud.NetworkSubnet{{Type: "cloud", IPRange: mustCIDR("10.0.1.0/24"), NetworkZone: "eu-central"}},
	}))
}
