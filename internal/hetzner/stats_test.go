package hetzner

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestPathTemplate(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/v1/servers", "/v1/servers"},
		{"/v1/servers/42", "/v1/servers/{id}"},
		{"/v1/servers/42/actions/poweron", "/v1/servers/{id}/actions/poweron"},
		{"/v1/servers/42/actions/7", "/v1/servers/{id}/actions/{id}"},
		{"/v1/actions?id=1&id=2", "/v1/actions"},
		{"/v1/images/ubuntu-24.04", "/v1/images/ubuntu-24.04"},
		{"/v1/load_balancers/9/actions/add_target", "/v1/load_balancers/{id}/actions/add_target"},
		{"/v1/servers/4a2", "/v1/servers/4a2"},
		{"/", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := PathTemplate(tt.path); got != tt.want {
				t.Fatalf("PathTemplate(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestStatsCountByPhaseAndTemplate(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{}`)
	}))
	c := newTestClient(t, srv, Options{})
	ctx := context.Background()
	requests := []struct {
		ctx          context.Context
		phase        string // SetPhase before the request, if not empty
		method, path string
	}{
		{ctx: ctx, method: http.MethodGet, path: "/locations"},
		{ctx: ctx, phase: "infra", method: http.MethodGet, path: "/servers/42"},
		{ctx: ctx, method: http.MethodGet, path: "/servers/43"},
		{ctx: ctx, method: http.MethodPost, path: "/servers/42/actions/poweron"},
		{ctx: ctx, method: http.MethodGet, path: "/actions?id=1&id=2"},
		{ctx: WithPhase(ctx, "image"), method: http.MethodGet, path: "/images?type=snapshot"},
		{ctx: WithPhase(ctx, "image"), method: http.MethodDelete, path: "/servers/99"},
	}
	for _, r := range requests {
		if r.phase != "" {
			c.SetPhase(r.phase)
		}
		if err := doRaw(r.ctx, c, r.method, r.path, ""); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]map[string]int{
		DefaultPhase: {"GET /v1/locations": 1},
		"infra": {
			"GET /v1/servers/{id}":                  2,
			"POST /v1/servers/{id}/actions/poweron": 1,
			"GET /v1/actions":                       1,
		},
		"image": {
			"GET /v1/images":          1,
			"DELETE /v1/servers/{id}": 1,
		},
	}
	if got := c.Stats(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Stats() = %v\nwant       %v", got, want)
	}
	if got := c.Total(); got != len(requests) {
		t.Fatalf("Total() = %d, want %d", got, len(requests))
	}
	// Stats is a snapshot: changing it does not change the client's counts.
	c.Stats()["infra"]["GET /v1/servers/{id}"] = 100
	if c.Stats()["infra"]["GET /v1/servers/{id}"] != 2 {
		t.Fatal("Stats() returned shared maps")
	}
}

func TestDebugLogOmitsToken(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"unable to authenticate"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{}`)
	}))
	var buf bytes.Buffer
	c := newTestClient(t, srv, Options{Debug: &buf})
	if err := doRaw(context.Background(), c, http.MethodGet, "/servers/42?name=x", ""); err != nil {
		t.Fatal(err)
	}
	if err := doRaw(context.Background(), c, http.MethodPost, "/ssh_keys", `{"name":"demo"}`); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("debug output has %d lines, want one per request:\n%s", len(lines), out)
	}
	for i, prefix := range []string{"hetzner: GET /v1/servers/42 200 ", "hetzner: POST /v1/ssh_keys 200 "} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
	if strings.Contains(out, testToken) || strings.Contains(strings.ToLower(out), "authorization") {
		t.Fatalf("debug output leaks credentials:\n%s", out)
	}
}
