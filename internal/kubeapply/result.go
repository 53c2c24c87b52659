package kubeapply

import "github.com/fluxcd/pkg/ssa"

// Result says what one Apply or Delete did to each object.
type Result struct {
	Addon      string
	Created    []Ref
	Configured []Ref
	Unchanged  []Ref
	Pruned     []Ref
	// SkippedHooks are hooks that did not run: test hooks, hooks of phases
	// Apply never runs, and hooks of the other phase (install or upgrade).
	SkippedHooks []Ref
}

// Changed reports whether the Apply wrote any object.
func (r Result) Changed() bool {
	return len(r.Created)+len(r.Configured)+len(r.Pruned) > 0
}

// Applied lists the objects the set now consists of in the cluster, for
// Wait.
func (r Result) Applied() []Ref {
	return append(append(append([]Ref{}, r.Created...), r.Configured...), r.Unchanged...)
}

func (r *Result) record(cs *ssa.ChangeSet) {
	if cs == nil {
		return
	}
	for _, e := range cs.Entries {
		r.recordEntry(e)
	}
}

func (r *Result) recordEntry(e ssa.ChangeSetEntry) {
	ref := Ref{
		Group:     e.ObjMetadata.GroupKind.Group,
		Kind:      e.ObjMetadata.GroupKind.Kind,
		Namespace: e.ObjMetadata.Namespace,
		Name:      e.ObjMetadata.Name,
	}
	switch e.Action {
	case ssa.CreatedAction:
		r.Created = append(r.Created, ref)
	case ssa.ConfiguredAction:
		r.Configured = append(r.Configured, ref)
	case ssa.UnchangedAction:
		r.Unchanged = append(r.Unchanged, ref)
	case ssa.DeletedAction:
		r.Pruned = append(r.Pruned, ref)
	}
}
