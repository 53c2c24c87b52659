package hcloudsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// serve runs one in-process request against the simulator.
func serve(b testing.TB, sim *hcloudsim.Server, method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer t")
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	if w.Code >= 400 {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String())
	}
	return w
}

func seedServers(b testing.TB, sim *hcloudsim.Server, n int) (serverIDs, actionIDs []int64) {
	for i := range n {
		body := fmt.Sprintf(`{"name":"node-%04d","server_type":"cx22","image":"debian-13","location":"fsn1","labels":{"pool":"p%d"}}`, i, i%10)
		w := serve(b, sim, http.MethodPost, "/v1/servers", body)
		var res schema.ServerCreateResponse
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			b.Fatal(err)
		}
		serverIDs = append(serverIDs, res.Server.ID)
		actionIDs = append(actionIDs, res.Action.ID)
	}
	return serverIDs, actionIDs
}

// BenchmarkRequestMix measures simulator throughput (in-process, no
// network) for a CLI-like mix: gets, label-selector lists, batched action
// polls and label updates.
func BenchmarkRequestMix(b *testing.B) {
	sim := hcloudsim.New(hcloudsim.Options{Token: "t", Speed: 1000, RateLimit: hcloudsim.RateLimitOptions{Disabled: true}})
	servers, actions := seedServers(b, sim, 100)
	var ids []string
	for _, id := range actions[:25] {
		ids = append(ids, fmt.Sprintf("id=%d", id))
	}
	actionsPath := "/v1/actions?" + strings.Join(ids, "&") + "&sort=status&sort=id"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := servers[i%len(servers)]
		switch i % 4 {
		case 0:
			serve(b, sim, http.MethodGet, fmt.Sprintf("/v1/servers/%d", id), "")
		case 1:
			serve(b, sim, http.MethodGet, "/v1/servers?label_selector=pool%3Dp3&per_page=50", "")
		case 2:
			serve(b, sim, http.MethodGet, actionsPath, "")
		case 3:
			serve(b, sim, http.MethodPut, fmt.Sprintf("/v1/servers/%d", id), fmt.Sprintf(`{"labels":{"pool":"p%d"}}`, i%10))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkClientGetServer measures a full hcloud-go round trip over loopback.
func BenchmarkClientGetServer(b *testing.B) {
	env := simtest.New(b, hcloudsim.Options{RateLimit: hcloudsim.RateLimitOptions{Disabled: true}})
	res, _, err := env.Client.Server.Create(context.Background(), hcloud.ServerCreateOpts{
		Name: "s", ServerType: &hcloud.ServerType{Name: "cx22"}, Image: &hcloud.Image{Name: "debian-13"},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := env.Client.Server.GetByID(context.Background(), res.Server.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkMemory1000Servers reports the heap held by a simulator with
// 1,000 servers (and their create/start actions).
func BenchmarkMemory1000Servers(b *testing.B) {
	var total uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		sim := hcloudsim.New(hcloudsim.Options{Token: "t", Speed: 1000, RateLimit: hcloudsim.RateLimitOptions{Disabled: true}})
		seedServers(b, sim, 1000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		runtime.KeepAlive(sim)
	}
	b.ReportMetric(float64(total)/float64(b.N), "heap-bytes/1000-servers")
}
