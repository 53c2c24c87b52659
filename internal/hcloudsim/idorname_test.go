package hcloudsim_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// TestCreateTakesIDOrName: the API takes a location (datacenter, type,
// image) as an ID or a name everywhere. hcloud-go sends the ID as a string
// ("location":"1") once the hcloud CLI has resolved a name, so
// `hcloud server create --location fsn1` must not fail with "location '1'
// not found".
func TestCreateTakesIDOrName(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)

	t.Run("server location by ID through hcloud-go", func(t *testing.T) {
		res := must[hcloud.ServerCreateResult](t)(c.Server.Create(ctx, hcloud.ServerCreateOpts{
			Name: "by-id", ServerType: &hcloud.ServerType{ID: 104}, Image: &hcloud.Image{Name: "debian-13"}, Location: &hcloud.Location{ID: 2},
		}))
		if res.Server.Location.Name != "nbg1" || res.Server.ServerType.Name != "cx22" {
			t.Fatalf("server in %s with type %s, want nbg1/cx22", res.Server.Location.Name, res.Server.ServerType.Name)
		}
	})
	debian := must[*hcloud.Image](t)(c.Image.GetForArchitecture(ctx, "debian-13", hcloud.ArchitectureX86))
	accepted := []struct {
		name, path, body, wantLoc string
	}{
		{"server location name", "/servers", `{"name":"s1","server_type":"cx22","image":"debian-13","location":"hel1"}`, "hel1"},
		{"server location ID string", "/servers", `{"name":"s2","server_type":"cx22","image":"debian-13","location":"1"}`, "fsn1"},
		{"server type and image by ID strings", "/servers", `{"name":"s3","server_type":"104","image":"` + strconv.FormatInt(debian.ID, 10) + `","location":"fsn1"}`, "fsn1"},
		{"server datacenter name", "/servers", `{"name":"s4","server_type":"cx22","image":"debian-13","datacenter":"nbg1-dc3"}`, "nbg1"},
		{"server datacenter ID", "/servers", `{"name":"s5","server_type":"cx22","image":"debian-13","datacenter":"3"}`, "hel1"},
		{"load balancer location and type by ID", "/load_balancers", `{"name":"lb","load_balancer_type":"2","location":"3"}`, "hel1"},
		{"primary IP location ID", "/primary_ips", `{"name":"p1","type":"ipv4","assignee_type":"server","location":"2"}`, "nbg1"},
		{"primary IP datacenter name", "/primary_ips", `{"name":"p2","type":"ipv4","assignee_type":"server","datacenter":"hel1-dc2"}`, "hel1"},
		{"primary IP datacenter ID", "/primary_ips", `{"name":"p3","type":"ipv6","assignee_type":"server","datacenter":"4"}`, "fsn1"},
		{"floating IP home location ID", "/floating_ips", `{"type":"ipv4","home_location":"3"}`, "hel1"},
		{"volume location ID", "/volumes", `{"name":"v","size":10,"location":"2"}`, "nbg1"},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			var res createdIn
			apiDecode(t, env, http.MethodPost, tt.path, tt.body, http.StatusCreated, &res)
			if got := res.location(); got != tt.wantLoc {
				t.Fatalf("created in %q, want %s", got, tt.wantLoc)
			}
		})
	}
	if lb := must[*hcloud.LoadBalancer](t)(c.LoadBalancer.GetByName(ctx, "lb")); lb.LoadBalancerType.Name != "lb21" {
		t.Fatalf("load_balancer_type \"2\" gave %s, want lb21", lb.LoadBalancerType.Name)
	}
	refused := []struct {
		name, path, body, field string
	}{
		{"server location unknown ID", "/servers", `{"name":"x1","server_type":"cx22","image":"debian-13","location":"99"}`, "location"},
		{"server datacenter unknown", "/servers", `{"name":"x2","server_type":"cx22","image":"debian-13","datacenter":"fsn1-dc99"}`, "datacenter"},
		{"server location and datacenter", "/servers", `{"name":"x3","server_type":"cx22","image":"debian-13","location":"fsn1","datacenter":"fsn1-dc14"}`, "datacenter"},
		{"load balancer location unknown ID", "/load_balancers", `{"name":"x4","load_balancer_type":"lb11","location":"99"}`, "location"},
		{"primary IP datacenter unknown", "/primary_ips", `{"name":"x5","type":"ipv4","assignee_type":"server","datacenter":"99"}`, "datacenter"},
		{"floating IP home location unknown ID", "/floating_ips", `{"type":"ipv4","home_location":"99"}`, "home_location"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			status, body := apiCall(t, env, http.MethodPost, tt.path, tt.body)
			wantAPIError(t, status, body, "invalid_input", tt.field)
		})
	}
}

// createdIn decodes the location of whatever a create call returned.
type createdIn struct {
	Server       *struct{ Location schema.Location } `json:"server"`
	LoadBalancer *struct{ Location schema.Location } `json:"load_balancer"`
	PrimaryIP    *struct{ Location schema.Location } `json:"primary_ip"`
	Volume       *struct{ Location schema.Location } `json:"volume"`
	FloatingIP   *struct {
		HomeLocation schema.Location `json:"home_location"`
	} `json:"floating_ip"`
}

func (r createdIn) location() string {
	switch {
	case r.Server != nil:
		return r.Server.Location.Name
	case r.LoadBalancer != nil:
		return r.LoadBalancer.Location.Name
	case r.PrimaryIP != nil:
		return r.PrimaryIP.Location.Name
	case r.Volume != nil:
		return r.Volume.Location.Name
	case r.FloatingIP != nil:
		return r.FloatingIP.HomeLocation.Name
	}
	return ""
}
