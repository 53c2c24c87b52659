package hcloudsim

import (
	"fmt"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// Action statuses of the API.
const (
	actionRunning = "running"
	actionSuccess = "success"
	actionError   = "error"
)

// action is one asynchronous operation. It runs from started to finishAt in
// simulated time, locks its lock set meanwhile and then applies its effect.
type action struct {
	id        int64
	command   string
	status    string
	started   time.Time
	finishAt  time.Time
	finished  time.Time
	resources []schema.ActionResourceReference
	locks     []resKey
	after     *action // a parent whose failure fails this action too
	fail      *schema.ActionError
	err       *schema.ActionError
	onSuccess func(at time.Time)
	onError   func(at time.Time)
}

// actionSpec describes an action to start.
type actionSpec struct {
	command   string
	duration  time.Duration
	resources []resKey // reported in action.resources
	locks     []resKey // locked (HTTP 423) while running
	// after chains the action behind a parent: it is created running now
	// but finishes duration after the parent does (next_actions).
	after     *action
	onSuccess func(at time.Time)
	onError   func(at time.Time)
}

// startAction registers a running action, takes its locks and schedules its
// completion. Fault injection decides here, deterministically, whether it
// will end with status error.
func (s *Server) startAction(spec actionSpec) *action {
	now := s.clock.Now()
	a := &action{
		id:        s.st.nextID("action"),
		command:   spec.command,
		status:    actionRunning,
		started:   now,
		locks:     spec.locks,
		after:     spec.after,
		onSuccess: spec.onSuccess,
		onError:   spec.onError,
	}
	base := now
	if spec.after != nil && spec.after.finishAt.After(base) {
		base = spec.after.finishAt
	}
	a.finishAt = base.Add(s.jitter(spec.duration))
	for _, r := range spec.resources {
		a.resources = append(a.resources, schema.ActionResourceReference{ID: r.id, Type: r.typ})
	}
	a.fail = s.injectActionFault(spec.command)
	for _, k := range a.locks {
		s.st.locks[k]++
	}
	s.st.actions[a.id] = a
	s.st.events.schedule(a.finishAt, func(at time.Time) { s.finishAction(a, at) })
	return a
}

// finishAction releases the locks and applies the success or error effect.
func (s *Server) finishAction(a *action, at time.Time) {
	if a.status != actionRunning {
		return
	}
	a.finished = at
	s.releaseLocks(a)
	switch {
	case a.fail != nil:
		a.err = a.fail
	case a.after != nil && a.after.status == actionError:
		a.err = &schema.ActionError{Code: a.after.err.Code, Message: fmt.Sprintf("%s was not executed: %s failed", a.command, a.after.command)}
	}
	if a.err != nil {
		a.status = actionError
		if a.onError != nil {
			a.onError(at)
		}
		return
	}
	a.status = actionSuccess
	if a.onSuccess != nil {
		a.onSuccess(at)
	}
}

func (s *Server) releaseLocks(a *action) {
	for _, k := range a.locks {
		if s.st.locks[k]--; s.st.locks[k] <= 0 {
			delete(s.st.locks, k)
		}
	}
	a.locks = nil
}

// abortActionsOf ends the running actions that lock a resource that is going
// away (e.g. a deleted server), so locks never leak.
func (s *Server) abortActionsOf(k resKey, at time.Time) {
	for _, a := range s.st.actions {
		if a.status != actionRunning {
			continue
		}
		for _, l := range a.locks {
			if l == k {
				a.fail = &schema.ActionError{Code: "action_failed", Message: "resource was deleted"}
				s.finishAction(a, at)
				break
			}
		}
	}
}

// renderAction converts to the wire format; progress ramps linearly.
func (s *Server) renderAction(a *action) schema.Action {
	out := schema.Action{
		ID:        a.id,
		Command:   a.command,
		Status:    a.status,
		Started:   a.started,
		Resources: a.resources,
		Error:     a.err,
	}
	if out.Resources == nil {
		out.Resources = []schema.ActionResourceReference{}
	}
	switch a.status {
	case actionRunning:
		total := a.finishAt.Sub(a.started)
		if total > 0 {
			out.Progress = min(99, max(0, int(100*s.clock.Now().Sub(a.started)/total)))
		}
	default:
		f := a.finished
		out.Finished = &f
		out.Progress = 100
	}
	return out
}

func (s *Server) renderActions(as []*action) []schema.Action {
	out := make([]schema.Action, 0, len(as))
	for _, a := range as {
		if a != nil {
			out = append(out, s.renderAction(a))
		}
	}
	return out
}

func key(typ string, id int64) resKey { return resKey{typ: typ, id: id} }
