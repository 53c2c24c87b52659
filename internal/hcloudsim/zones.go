package hcloudsim

import (
	"context"
	"net/http"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// DNS zones (the Hetzner DNS API inside the Cloud API) are not simulated
// beyond an empty project: GET /zones lists none, so clients that look a
// zone up (hcloud-go's Zone client, the CCM) see "no such zone" instead of
// an unknown route.

func (s *Server) listZones(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	if m := c.query("mode"); m != "" && m != "primary" && m != "secondary" {
		return 0, nil, errInvalidField("mode", "must be primary or secondary")
	}
	_, meta := paginate([]schema.Zone{}, q.page, q.perPage)
	return http.StatusOK, listBody("zones", []schema.Zone{}, meta), nil
}

// getZone answers not_found for every ID or name: the project has no zones.
func (s *Server) getZone(_ context.Context, c *call) (int, any, error) {
	return 0, nil, errNotFound("zone", c.r.PathValue("id"))
}
