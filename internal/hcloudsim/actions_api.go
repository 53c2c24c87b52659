package hcloudsim

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// listActions serves GET /actions: ids are mandatory since 2025-01-30, and
// every requested id that exists is returned – hcloud-go's WaitFor fails
// with "actions not found" otherwise.
func (s *Server) listActions(_ context.Context, c *call) (int, any, error) {
	if len(c.queryAll("id")) == 0 {
		return 0, nil, errInvalidField("id", "at least one id is required")
	}
	return s.actionList(c, func(*action) bool { return true })
}

// resourceActions builds the handler of GET /{kind}/actions (every action
// touching that resource type) and GET /{kind}/{id}/actions.
func (s *Server) resourceActions(typ string, perResource bool) func(context.Context, *call) (int, any, error) {
	return func(_ context.Context, c *call) (int, any, error) {
		var id int64
		if perResource {
			var err error
			if id, err = s.resourceExists(c, typ); err != nil {
				return 0, nil, err
			}
		}
		return s.actionList(c, func(a *action) bool {
			return slices.ContainsFunc(a.resources, func(r schema.ActionResourceReference) bool {
				return r.Type == typ && (!perResource || r.ID == id)
			})
		})
	}
}

// resourceAction serves GET /{kind}/{id}/actions/{action_id} and the
// type-level GET /{kind}/actions/{action_id} (registered as
// /{kind}/{id}/{action_id} because Go's mux cannot hold both shapes).
func (s *Server) resourceAction(typ string) func(context.Context, *call) (int, any, error) {
	return func(_ context.Context, c *call) (int, any, error) {
		a, err := s.actionFromPath(c, "action_id")
		if err != nil {
			return 0, nil, err
		}
		if c.r.PathValue("id") != "actions" {
			id, err := s.resourceExists(c, typ)
			if err != nil {
				return 0, nil, err
			}
			if !slices.ContainsFunc(a.resources, func(r schema.ActionResourceReference) bool { return r.Type == typ && r.ID == id }) {
				return 0, nil, errNotFound("action", a.id)
			}
		}
		return http.StatusOK, schema.ActionGetResponse{Action: s.renderAction(a)}, nil
	}
}

func (s *Server) getAction(_ context.Context, c *call) (int, any, error) {
	a, err := s.actionFromPath(c, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.ActionGetResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) actionFromPath(c *call, param string) (*action, error) {
	id, err := c.pathID(param, "action")
	if err != nil {
		return nil, err
	}
	a, ok := s.st.actions[id]
	if !ok {
		return nil, errNotFound("action", id)
	}
	return a, nil
}

// resourceExists checks the {id} of a per-resource actions path.
func (s *Server) resourceExists(c *call, typ string) (int64, error) {
	id, err := c.pathID("id", typ)
	if err != nil {
		return 0, err
	}
	var ok bool
	switch typ {
	case "server":
		_, ok = s.st.servers[id]
	case "network":
		_, ok = s.st.networks[id]
	case "firewall":
		_, ok = s.st.firewalls[id]
	case "load_balancer":
		_, ok = s.st.loadBalancers[id]
	case "floating_ip":
		_, ok = s.st.floatingIPs[id]
	case "image":
		_, ok = s.st.images[id]
	case "certificate":
		_, ok = s.st.certificates[id]
	case "volume":
		_, ok = s.st.volumes[id]
	case "primary_ip":
		_, ok = s.st.primaryIPs[id]
	}
	if !ok {
		return 0, errNotFound(typ, id)
	}
	return id, nil
}

// actionList filters by id and status, sorts and paginates actions.
func (s *Server) actionList(c *call, keep func(*action) bool) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	var ids []int64
	for _, raw := range c.queryAll("id") {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return 0, nil, errInvalidField("id", "%q is not a valid ID", raw)
		}
		ids = append(ids, id)
	}
	statuses := c.queryAll("status")
	var out []*action
	if len(ids) > 0 {
		for _, id := range ids {
			if a, ok := s.st.actions[id]; ok && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	} else {
		for _, a := range s.st.actions {
			out = append(out, a)
		}
	}
	out = slices.DeleteFunc(out, func(a *action) bool {
		return !keep(a) || (len(statuses) > 0 && !slices.Contains(statuses, a.status))
	})
	sortActions(out, q.sorts)
	page, meta := paginate(out, q.page, q.perPage)
	return http.StatusOK, listBody("actions", s.renderActions(page), meta), nil
}

func sortActions(as []*action, sorts []string) {
	slices.SortStableFunc(as, func(a, b *action) int {
		for _, sk := range sorts {
			field, dir, _ := strings.Cut(sk, ":")
			var c int
			switch field {
			case "id":
				c = cmp.Compare(a.id, b.id)
			case "command":
				c = cmp.Compare(a.command, b.command)
			case "status":
				c = cmp.Compare(a.status, b.status)
			case "started":
				c = a.started.Compare(b.started)
			case "finished":
				c = a.finished.Compare(b.finished)
			}
			if dir == "desc" {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.id, b.id)
	})
}
