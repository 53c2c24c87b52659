package hcloudsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func faultsFailing(command string) hcloudsim.Faults {
	return hcloudsim.Faults{FailCommands: map[string]int{command: 1}}
}

func TestRequestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults hcloudsim.Faults
		code   hcloud.ErrorCode
	}{
		{"service error", hcloudsim.Faults{ServiceErrorRate: 1}, hcloud.ErrorCodeServiceError},
		{"rate limit", hcloudsim.Faults{RateLimitRate: 1}, hcloud.ErrorCodeRateLimitExceeded},
		{"locked", hcloudsim.Faults{LockedRate: 1}, hcloud.ErrorCodeLocked},
		{"server type sold out", hcloudsim.Faults{UnavailableServerTypes: []string{"cx22"}}, hcloud.ErrorCodeResourceUnavailable},
		{"location sold out", hcloudsim.Faults{UnavailableLocations: []string{"fsn1"}}, hcloud.ErrorCodeResourceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := simtest.New(t, hcloudsim.Options{Faults: tt.faults})
			_, _, err := env.Client.Server.Create(testCtx(t), hcloud.ServerCreateOpts{
				Name: "s", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: "fsn1"},
			})
			wantCode(t, err, tt.code)
			// /_sim is never subject to faults.
			resp, err := http.Get(env.Sim.URL() + "/_sim/stats")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("/_sim/stats under faults: %v %v", err, resp)
			}
			resp.Body.Close()
		})
	}
	t.Run("sold out shows in catalogue", func(t *testing.T) {
		env := simtest.New(t, hcloudsim.Options{Faults: hcloudsim.Faults{UnavailableServerTypes: []string{"cx22"}}})
		st := must[*hcloud.ServerType](t)(env.Client.ServerType.GetByName(testCtx(t), "cx22"))
		for _, l := range st.Locations {
			if l.Available {
				t.Fatalf("cx22 available in %s despite fault", l.Location.Name)
			}
		}
	})
}

func TestSlowResponses(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{Faults: hcloudsim.Faults{SlowRate: 1, SlowLatency: hcloudsim.Duration(20 * time.Millisecond)}})
	start := time.Now()
	must[[]*hcloud.Location](t)(env.Client.Location.List(testCtx(t), hcloud.LocationListOpts{}))
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("request took %v, want >= 20ms", d)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	env := newEnv(t)
	body := `{"service_error_rate":1,"slow_latency":"5ms","unavailable_locations":["hel1"]}`
	req, _ := http.NewRequest(http.MethodPut, env.Sim.URL()+"/_sim/faults", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT /_sim/faults: %d %s", resp.StatusCode, b)
	}
	f := env.Sim.Faults()
	if f.ServiceErrorRate != 1 || time.Duration(f.SlowLatency) != 5*time.Millisecond || f.UnavailableLocations[0] != "hel1" {
		t.Fatalf("faults = %+v", f)
	}
	_, _, err = env.Client.Location.List(testCtx(t), hcloud.LocationListOpts{})
	wantCode(t, err, hcloud.ErrorCodeServiceError)

	var got hcloudsim.Faults
	resp2, err := http.Get(env.Sim.URL() + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if err := json.NewDecoder(resp2.Body).Decode(&got); err != nil || got.ServiceErrorRate != 1 {
		t.Fatalf("GET /_sim/faults: %v %+v", err, got)
	}
	bad, _ := http.NewRequest(http.MethodPut, env.Sim.URL()+"/_sim/faults", bytes.NewReader([]byte(`{"nope":1}`)))
	resp3, err := http.DefaultClient.Do(bad)
	if err != nil {
		t.Fatal(err)
	}
	resp3.Body.Close()
	if resp3.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field accepted: %d", resp3.StatusCode)
	}
}

// TestDeterminism runs the same scenario twice with the same seed and
// expects identical observable results (passwords, IPs, action jitter).
func TestDeterminism(t *testing.T) {
	start := simtest.AddressRange(t)
	run := func() []string {
		// Same seed, same address range: the runs must match to the letter.
		env := simtest.New(t, hcloudsim.Options{Seed: 42, Faults: hcloudsim.Faults{ActionErrorRate: 0.5}, PublicIPv4Start: start})
		var out []string
		for _, name := range []string{"a", "b", "c", "d"} {
			res := startServer(t, env, serverSpec{name: name})
			out = append(out, res.RootPassword, res.Server.PublicNet.IPv4.IP.String())
			err := env.Client.Action.WaitFor(testCtx(t), res.Action)
			out = append(out, errString(err))
		}
		return out
	}
	a, b := run(), run()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("runs differ:\n%v\n%v", a, b)
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	var ae hcloud.ActionError
	if errorsAs(err, &ae) {
		return ae.Code
	}
	return err.Error()
}

// TestSoldOutInOneLocation lets a client fall back to another location.
func TestSoldOutInOneLocation(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{Faults: hcloudsim.Faults{UnavailableServerTypes: []string{"cpx31@fsn1"}}})
	ctx := testCtx(t)
	opts := hcloud.ServerCreateOpts{Name: "s", ServerType: &hcloud.ServerType{Name: "cpx31"}, Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{Name: "fsn1"}}
	_, _, err := env.Client.Server.Create(ctx, opts)
	wantCode(t, err, hcloud.ErrorCodeResourceUnavailable)
	opts.Location = &hcloud.Location{Name: "nbg1"}
	if _, _, err := env.Client.Server.Create(ctx, opts); err != nil {
		t.Fatalf("fallback location: %v", err)
	}
	opts.Name, opts.Location = "t", nil
	res := must[hcloud.ServerCreateResult](t)(env.Client.Server.Create(ctx, opts))
	if res.Server.Location.Name == "fsn1" {
		t.Fatal("default placement chose the sold-out location")
	}
}

func TestFaultsLimitedToRoutes(t *testing.T) {
	env := simtest.New(t, hcloudsim.Options{Faults: hcloudsim.Faults{ServiceErrorRate: 1, Routes: []string{"POST /v1/servers"}}})
	ctx := testCtx(t)
	if _, _, err := env.Client.Location.List(ctx, hcloud.LocationListOpts{}); err != nil {
		t.Fatalf("unfaulted route failed: %v", err)
	}
	_, _, err := env.Client.Server.Create(ctx, hcloud.ServerCreateOpts{Name: "s", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"}})
	wantCode(t, err, hcloud.ErrorCodeServiceError)
}
