package hcloudsim

import (
	"context"
	"net/http"
	"slices"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// iso is a public ISO of the read-only catalogue. Servers cannot mount them
// (attach_iso is not simulated); clients only look them up.
type iso struct {
	resource
	s schema.ISO
}

// seedISOs adds a few public ISOs: one per architecture and one without an
// architecture, which the API lists under its architecture wildcard.
func seedISOs(st *state) {
	for _, i := range []struct {
		id                int64
		name, description string
		arch              *string
	}{
		{101, "debian-13.1.0-amd64-netinst.iso", "Debian 13.1.0 (amd64/netinst)", ptr("x86")},
		{102, "debian-13.1.0-arm64-netinst.iso", "Debian 13.1.0 (arm64/netinst)", ptr("arm")},
		{103, "virtio-win-0.1.271.iso", "virtio-win-0.1.271", nil},
	} {
		st.isos = append(st.isos, &iso{
			resource: resource{ID: i.id, Name: i.name},
			s:        schema.ISO{ID: i.id, Name: i.name, Description: i.description, Type: "public", Architecture: i.arch},
		})
	}
}

// listISOs serves GET /isos with its name, architecture and
// include_architecture_wildcard filters (the wildcard only counts together
// with an architecture filter, as documented).
func (s *Server) listISOs(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	archs := c.queryAll("architecture")
	for _, a := range archs {
		if a != "x86" && a != "arm" {
			return 0, nil, errInvalidField("architecture", "must be x86 or arm")
		}
	}
	wildcard := c.query("include_architecture_wildcard") == "true"
	page, meta := selectPage(q, slices.Clone(s.st.isos), func(i *iso) bool {
		switch {
		case len(archs) == 0:
			return true
		case i.s.Architecture == nil:
			return wildcard
		}
		return slices.Contains(archs, *i.s.Architecture)
	})
	return http.StatusOK, listBody("isos", renderAll(page, func(i *iso) schema.ISO { return i.s }), meta), nil
}

func (s *Server) getISO(_ context.Context, c *call) (int, any, error) {
	i, err := catalogGet(c, s.st.isos, "iso")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.ISOGetResponse{ISO: i.s}, nil
}
