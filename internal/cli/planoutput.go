package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/infra"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lifecycle"
)

// planDoc is the -o json form of a plan: stable field names for scripts. The
// attribute names inside (attributes, updates) come from each kind's table in infra.
type planDoc struct {
	Cluster     string         `json:"cluster"`
	Initialized bool           `json:"initialized"`
	Summary     map[string]int `json:"summary"`
	Problems    []string       `json:"problems"`
	Notes       []string       `json:"notes"`
	Unmanaged   []string       `json:"unmanaged"`
	Snapshots   []snapshotDoc  `json:"snapshots"`
	Resources   []resourceDoc  `json:"resources"`
}

type snapshotDoc struct {
	Arch     string `json:"arch"`
	ID       int64  `json:"id"`
	Selector string `json:"selector"`
}

type resourceDoc struct {
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Action     string            `json:"action"`
	Reason     string            `json:"reason"`
	ID         int64             `json:"id,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Attributes map[string]any    `json:"attributes,omitempty"`
	Updates    []infra.Update    `json:"updates,omitempty"`
	DependsOn  []string          `json:"dependsOn,omitempty"`
}

func planJSON(res *lifecycle.PlanResult) planDoc {
	p := res.Plan
	c, u, d := p.Counts()
	doc := planDoc{
		Cluster: p.Cluster, Initialized: p.Initialized,
		Summary:  map[string]int{"create": c, "update": u, "delete": d},
		Problems: orEmpty(p.Problems), Notes: orEmpty(p.Notes), Unmanaged: orEmpty(p.Unmanaged), Snapshots: []snapshotDoc{}, Resources: []resourceDoc{},
	}
	for _, s := range res.Snapshots {
		doc.Snapshots = append(doc.Snapshots, snapshotDoc{Arch: s.Arch, ID: s.ID, Selector: s.Selector})
	}
	for _, ch := range p.Changes {
		r := ch.Desired
		if r == nil {
			r = ch.Observed
		}
		rd := resourceDoc{Kind: string(ch.Ref.Kind), Name: ch.Ref.Name, Action: string(ch.Action), Reason: ch.Reason, Labels: r.Labels, Attributes: r.Attributes(), Updates: ch.Updates}
		if ch.Observed != nil {
			rd.ID = ch.Observed.ID
		}
		for _, dep := range ch.DependsOn {
			rd.DependsOn = append(rd.DependsOn, dep.String())
		}
		doc.Resources = append(doc.Resources, rd)
	}
	return doc
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var actionSymbol = map[infra.Action]string{
	infra.ActionCreate: "+", infra.ActionUpdate: "~", infra.ActionAdopt: "~", infra.ActionDelete: "-", infra.ActionNoop: " ",
}

// printPlan writes the plan grouped by resource kind, with a reason per change.
func printPlan(w io.Writer, res *lifecycle.PlanResult) error {
	p := res.Plan
	fmt.Fprintf(w, "Plan for cluster %s", p.Cluster)
	if p.Initialized {
		fmt.Fprint(w, " (bootstrapped)")
	}
	fmt.Fprintln(w)
	for _, s := range res.Snapshots {
		if s.ID != 0 {
			fmt.Fprintf(w, "  Talos snapshot %s: %s (ID %d)\n", s.Arch, s.Name, s.ID)
		} else {
			fmt.Fprintf(w, "  Talos snapshot %s: none matches %s; apply builds it (unless images.%s.buildEnabled is false)\n", s.Arch, s.Selector, s.Arch)
		}
	}
	byKind := map[infra.Kind][]infra.Change{}
	for _, ch := range p.Changes {
		byKind[ch.Ref.Kind] = append(byKind[ch.Ref.Kind], ch)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var unchanged []string
	for _, k := range infra.Kinds() {
		changes := byKind[k]
		if len(changes) == 0 {
			continue
		}
		if !slices.ContainsFunc(changes, func(c infra.Change) bool { return c.Action != infra.ActionNoop }) {
			unchanged = append(unchanged, fmt.Sprintf("%d %s", len(changes), k.Title()))
			continue
		}
		fmt.Fprintf(tw, "\n%s\n", kindHeading(k, changes))
		for _, ch := range changes {
			if ch.Action == infra.ActionNoop {
				continue
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", actionSymbol[ch.Action], ch.Ref.Name, ch.Action, ch.Reason)
			for _, u := range ch.Updates {
				fmt.Fprintf(tw, "      %s:\t%s → %s\n", u.Field, shorten(u.From), shorten(u.To))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(unchanged) > 0 {
		fmt.Fprintf(w, "\nUp to date: %s.\n", strings.Join(unchanged, ", "))
	}
	for _, u := range p.Unmanaged {
		fmt.Fprintf(w, "\nLeft alone: %s carries the cluster label but was not made by hcloud-k8s.\n", u)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "\nNote: %s.\n", n)
	}
	if len(p.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems (apply will refuse to run until they are resolved):")
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "  ! %s\n", pr)
		}
	}
	c, u, d := p.Counts()
	if c+u+d == 0 {
		fmt.Fprintln(w, "\nNo changes: the infrastructure matches the cluster file.")
		return nil
	}
	fmt.Fprintf(w, "\nPlan: %d to create, %d to update, %d to delete.\n", c, u, d)
	return nil
}

func kindHeading(k infra.Kind, changes []infra.Change) string {
	counts := map[infra.Action]int{}
	for _, c := range changes {
		counts[c.Action]++
	}
	var parts []string
	for _, a := range []infra.Action{infra.ActionCreate, infra.ActionUpdate, infra.ActionAdopt, infra.ActionDelete, infra.ActionNoop} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	return fmt.Sprintf("%s (%s)", k.Title(), strings.Join(parts, ", "))
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// printStats writes the request counts per phase (--debug).
func printStats(w io.Writer, c *hetzner.Client) {
	stats := c.Stats()
	fmt.Fprintf(w, "Hetzner API requests: %d\n", c.Total())
	for _, phase := range slices.Sorted(maps.Keys(stats)) {
		n := 0
		for _, v := range stats[phase] {
			n += v
		}
		fmt.Fprintf(w, "  %s: %d\n", phase, n)
	}
}
