package hetzner

import (
	"context"
	"errors"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// ErrClosed is returned by waits that were in progress when the Client was
// closed, and by waits started afterwards.
var ErrClosed = errors.New("hetzner: client closed")

// ActionError reports an action that finished with status "error". The HTTP
// call that started it succeeded; the work itself failed later.
type ActionError struct {
	ID        int64
	Command   string // e.g. "create_server"
	Code      string // e.g. "action_failed"
	Message   string
	Resources []*hcloud.ActionResource // what the action was about
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("action %d %s failed: %s (%s)", e.ID, e.Command, e.Message, e.Code)
}

func newActionError(a *hcloud.Action) *ActionError {
	code, msg := a.ErrorCode, a.ErrorMessage
	if code == "" {
		code = "unknown_error"
	}
	if msg == "" {
		msg = "no error message"
	}
	return &ActionError{ID: a.ID, Command: a.Command, Code: code, Message: msg, Resources: a.Resources}
}

// WaitForActions blocks until every action has finished. Nil actions are
// ignored, so the result of a create can be passed as is together with its
// next actions. It returns nil if all succeeded; otherwise it still waits
// for the rest (so the caller knows nothing is running anymore) and returns
// one *ActionError per failed action, joined.
//
// It is safe to call from many goroutines: all running actions of all
// callers are polled together by one poller, in GET /actions?id=… batches.
func (c *Client) WaitForActions(ctx context.Context, actions ...*hcloud.Action) error {
	return c.actions.wait(ctx, nil, actions)
}

// WaitForActionsWithProgress is WaitForActions with a progress hook that is
// called with the number of finished actions and the total: once at the
// start and after every change. It runs in the caller's goroutine, never
// concurrently with itself, so it may print directly.
func (c *Client) WaitForActionsWithProgress(ctx context.Context, progress func(done, total int), actions ...*hcloud.Action) error {
	return c.actions.wait(ctx, progress, actions)
}
