package infra

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// comparison collects what a kind's compare finds between one desired and one
// observed resource: updates, each of which knows how to make itself, and problems.
type comparison struct {
	desired  *State // for what reverse DNS templates need: cluster name and domain
	d, o     *Resource
	ops      kindOps
	updates  []Update
	problems []string
}

// update records one in-place change. from and to are for people; apply makes it.
func (c *comparison) update(field string, from, to any, apply applyFunc) {
	c.updates = append(c.updates, Update{Field: field, From: fmt.Sprint(from), To: fmt.Sprint(to), apply: apply})
}

// updateBecause is update with a reason of its own for plan output.
func (c *comparison) updateBecause(why, field string, from, to any, apply applyFunc) {
	c.update(field, from, to, apply)
	c.updates[len(c.updates)-1].why = why
}

// problem records a difference that cannot be fixed in place.
func (c *comparison) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf("%s: ", c.d)+fmt.Sprintf(format, args...))
}

// protection records switching delete protection to want, if it differs.
func (c *comparison) protection(want bool) {
	if want == c.o.Protected {
		return
	}
	p, _ := c.ops.(protector)
	c.update("protection", c.o.Protected, want, acting("change protection of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
		if p == nil {
			return nil, fmt.Errorf("a %s has no protection", c.d.Kind)
		}
		return p.protect(ctx, t.api(), t.id, want)
	}))
}

// ptr checks the reverse DNS of one public address. A template set in the file must
// be rendered; none set means the record is left as Hetzner made it.
func (c *comparison) ptr(tmpl string, addr netip.Addr, ptrs map[netip.Addr]string, pool, role string) {
	if tmpl == "" || !addr.IsValid() {
		return
	}
	want := layout.RenderRDNS(tmpl, layout.RDNSVars{ClusterDomain: c.desired.Domain, ClusterName: c.desired.Cluster, Hostname: c.d.Name, ID: c.o.ID, IP: addr, Pool: pool, Role: role})
	if ptrs[addr] == want {
		return
	}
	p, _ := c.ops.(pointerSetter)
	ip := addr.String()
	c.update("dnsPtr "+ip, ptrs[addr], want, acting("set reverse DNS of", func(ctx context.Context, t *target) (*hcloud.Action, error) {
		if p == nil {
			return nil, fmt.Errorf("reverse DNS of a %s is not supported", c.d.Kind)
		}
		return p.setPTR(ctx, t.api(), t.id, ip, want)
	}))
}

// compare produces the change for a resource that exists: labels the same way for
// every kind, the rest as the kind's table says.
func compare(desired *State, d, o *Resource, p *Plan) Change {
	ch := Change{Action: ActionNoop, Ref: d.Ref(), Desired: d, Observed: o}
	c := &comparison{desired: desired, d: d, o: o, ops: kinds.ops(d.Kind)}
	missing := missingLabels(d.Labels, o.Labels)
	if len(missing) > 0 || !maps.Equal(d.Labels, o.Labels) {
		c.update("labels", labelString(o.Labels), labelString(d.Labels), setLabels(d))
	}
	if cmp, ok := c.ops.(comparer); ok {
		cmp.compare(c, d, o)
	}
	p.Problems = append(p.Problems, c.problems...)
	ch.Updates = c.updates
	if len(ch.Updates) == 0 {
		ch.Reason = "up to date"
		return ch
	}
	ch.Action = ActionUpdate
	var whys, fields []string
	for _, u := range ch.Updates {
		if u.why != "" {
			whys = append(whys, u.why)
		} else {
			fields = append(fields, u.Field)
		}
	}
	if len(fields) > 0 {
		whys = append(whys, strings.Join(fields, ", ")+" differ")
	}
	ch.Reason = strings.Join(whys, "; ")
	if len(missing) > 0 {
		ch.Action = ActionAdopt
		ch.Reason = "adopting: labels " + strings.Join(missing, ", ") + " are missing; " + ch.Reason
	}
	return ch
}

// setLabels is the labels update: the same for every kind that has labels.
func setLabels(d *Resource) applyFunc {
	return func(ctx context.Context, t *target) error {
		l, ok := kinds.ops(d.Kind).(labeller)
		if !ok {
			return fmt.Errorf("cannot update labels of a %s", d.Kind)
		}
		return t.call(ctx, "update labels of", func(ctx context.Context) error {
			return l.setLabels(ctx, t.api(), t.id, d.Labels)
		})
	}
}

func missingLabels(want, have map[string]string) []string {
	var out []string
	for _, k := range []string{layout.LabelCluster, layout.LabelRole, layout.LabelNodepool, layout.LabelPool} {
		if _, ok := want[k]; ok {
			if _, ok := have[k]; !ok {
				out = append(out, k)
			}
		}
	}
	return out
}

func labelString(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}
