package hcloudsim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/labelselector"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// listQuery holds the query parameters every list endpoint shares.
type listQuery struct {
	page     int
	perPage  int
	sorts    []string
	name     string
	hasName  bool
	selector labelselector.Selector
}

// parseList reads page, per_page, sort, name and label_selector. Like the
// real API it caps per_page at 50 and rejects malformed selectors.
func (s *Server) parseList(c *call) (listQuery, error) {
	q := listQuery{page: 1, perPage: s.defaultPerPage()}
	v := c.r.URL.Query()
	if raw := v.Get("page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return q, errInvalidField("page", "must be a positive integer")
		}
		q.page = n
	}
	if raw := v.Get("per_page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return q, errInvalidField("per_page", "must be a positive integer")
		}
		q.perPage = min(n, MaxPerPage)
	}
	q.sorts = v["sort"]
	q.name, q.hasName = v.Get("name"), v.Has("name")
	sel, err := labelselector.Parse(v.Get("label_selector"))
	if err != nil {
		return q, errInvalidField("label_selector", "%v", err)
	}
	q.selector = sel
	return q, nil
}

func (s *Server) defaultPerPage() int {
	if n := s.opts.DefaultPerPage; n > 0 {
		return min(n, MaxPerPage)
	}
	return DefaultPerPage
}

// selectPage filters items by name and label selector (plus keep), sorts
// them and cuts out the requested page.
func selectPage[T listable](q listQuery, items []T, keep func(T) bool) ([]T, schema.Meta) {
	out := make([]T, 0, len(items))
	for _, it := range items {
		b := it.base()
		if q.hasName && b.Name != q.name {
			continue
		}
		if !q.selector.Empty() && !q.selector.Matches(b.Labels) {
			continue
		}
		if keep != nil && !keep(it) {
			continue
		}
		out = append(out, it)
	}
	sortResources(out, q.sorts)
	return paginate(out, q.page, q.perPage)
}

// sortResources applies sort=field[:asc|:desc] keys (id, name, created);
// unknown keys are ignored, ties fall back to ID order.
func sortResources[T listable](items []T, sorts []string) {
	slices.SortStableFunc(items, func(a, b T) int {
		x, y := a.base(), b.base()
		for _, sk := range sorts {
			field, dir, _ := strings.Cut(sk, ":")
			var c int
			switch field {
			case "id":
				c = cmp.Compare(x.ID, y.ID)
			case "name":
				c = cmp.Compare(x.Name, y.Name)
			case "created":
				c = x.Created.Compare(y.Created)
			}
			if dir == "desc" {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(x.ID, y.ID)
	})
}

// paginate returns one page and the meta.pagination block. Empty previous
// or next pages are encoded as null by the caller's schema (0 = null).
func paginate[T any](items []T, page, perPage int) ([]T, schema.Meta) {
	total := len(items)
	last := max(1, (total+perPage-1)/perPage)
	p := &schema.MetaPagination{Page: page, PerPage: perPage, LastPage: last, TotalEntries: total}
	if page > 1 {
		p.PreviousPage = min(page-1, last)
	}
	if page < last {
		p.NextPage = page + 1
	}
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	return items[start:end], schema.Meta{Pagination: p}
}

// pagination is the wire form of meta.pagination with real nulls.
type pagination struct {
	Page         int  `json:"page"`
	PerPage      int  `json:"per_page"`
	PreviousPage *int `json:"previous_page"`
	NextPage     *int `json:"next_page"`
	LastPage     *int `json:"last_page"`
	TotalEntries *int `json:"total_entries"`
}

// listBody builds {"<key>": items, "meta": {"pagination": …}}.
func listBody(key string, items any, meta schema.Meta) map[string]any {
	p := meta.Pagination
	wire := pagination{Page: p.Page, PerPage: p.PerPage, LastPage: &p.LastPage, TotalEntries: &p.TotalEntries}
	if p.PreviousPage > 0 {
		wire.PreviousPage = &p.PreviousPage
	}
	if p.NextPage > 0 {
		wire.NextPage = &p.NextPage
	}
	return map[string]any{key: items, "meta": map[string]any{"pagination": wire}}
}

// sortedValues returns the map's values in ID order.
func sortedValues[T listable](m map[int64]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.base().ID, b.base().ID) })
	return out
}

// renderAll maps items through render.
func renderAll[T, R any](items []T, render func(T) R) []R {
	out := make([]R, 0, len(items))
	for _, it := range items {
		out = append(out, render(it))
	}
	return out
}
