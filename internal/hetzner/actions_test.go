package hetzner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"

	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

// fakeActionAPI serves GET /v1/actions?id=… like the real API. An action
// finishes once it has been polled finishAfter(id) times (0: never), with
// status error when fails(id); omitted ids are missing from every answer.
type fakeActionAPI struct {
	t           *testing.T
	finishAfter func(id int64) int
	fails       func(id int64) bool
	omitted     func(id int64) bool

	mu       sync.Mutex
	polls    map[int64]int
	requests int
}

func (f *fakeActionAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/actions" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if len(q["id"]) == 0 || len(q["id"]) > maxActionIDsPerPoll {
		f.t.Errorf("GET /v1/actions with %d ids, want 1..%d", len(q["id"]), maxActionIDsPerPoll)
	}
	if q.Get("per_page") != strconv.Itoa(maxActionIDsPerPoll) {
		f.t.Errorf("GET /v1/actions with per_page=%q; the API default of 25 would paginate", q.Get("per_page"))
	}
	f.mu.Lock()
	f.requests++
	resp := schema.ActionListResponse{Actions: []schema.Action{}}
	started := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, s := range q["id"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f.t.Errorf("bad id %q", s)
			continue
		}
		if f.omitted != nil && f.omitted(id) {
			continue
		}
		f.polls[id]++
		a := schema.Action{ID: id, Command: "create_server", Status: "running", Started: started,
			Resources: []schema.ActionResourceReference{{ID: id + 1000, Type: "server"}}}
		if n := f.finishAfter(id); n > 0 && f.polls[id] >= n {
			finished := started.Add(time.Minute)
			a.Finished, a.Status, a.Progress = &finished, "success", 100
			if f.fails != nil && f.fails(id) {
				a.Status = "error"
				a.Error = &schema.ActionError{Code: "action_failed", Message: fmt.Sprintf("server %d could not be created", id+1000)}
			}
		}
		resp.Actions = append(resp.Actions, a)
	}
	f.mu.Unlock()
	body, _ := json.Marshal(struct {
		schema.ActionListResponse
		Meta schema.Meta `json:"meta"`
	}{resp, schema.Meta{Pagination: &schema.MetaPagination{Page: 1, PerPage: maxActionIDsPerPoll, LastPage: 1, TotalEntries: len(resp.Actions)}}})
	writeJSON(w, http.StatusOK, string(body))
}

func (f *fakeActionAPI) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func newFakeActionAPI(t *testing.T, finishAfter func(int64) int) *fakeActionAPI {
	return &fakeActionAPI{t: t, finishAfter: finishAfter, polls: map[int64]int{}}
}

func running(ids ...int64) []*hcloud.Action {
	out := make([]*hcloud.Action, len(ids))
	for i, id := range ids {
		out[i] = &hcloud.Action{ID: id, Status: hcloud.ActionStatusRunning, Command: "create_server"}
	}
	return out
}

// waitIdle fails the test unless the poller goroutine has exited within a
// second and the poller says so: nobody is registered and it is not running.
func waitIdle(t *testing.T, c *Client) {
	t.Helper()
	exited := loopExited(c, time.Second)
	c.actions.mu.Lock()
	idle := !c.actions.running && len(c.actions.byID) == 0
	c.actions.mu.Unlock()
	if !exited || !idle {
		t.Fatal("action poller still running with nobody waiting")
	}
}

// loopExited reports whether the poller's loop goroutine has ended, waiting
// at most within. The loop marks its end on the poller's WaitGroup (the one
// Close waits on) from inside the goroutine, so this observes the goroutine
// itself: a loop started without Add would panic on Done, not pass unseen.
func loopExited(c *Client, within time.Duration) bool {
	done := make(chan struct{})
	go func() {
		c.actions.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(within):
		return false
	}
}

func TestWaitForActionsBatchesConcurrentCallers(t *testing.T) {
	const (
		callers   = 20
		perCaller = 5
		polls     = 3 // every action needs three polls to finish
	)
	api := newFakeActionAPI(t, func(int64) int { return polls })
	api.fails = func(id int64) bool { return id%10 == 0 }
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: 20 * time.Millisecond})

	errs := make([]error, callers)
	var wg sync.WaitGroup
	for g := range callers {
		ids := make([]int64, perCaller)
		for i := range ids {
			ids[i] = int64(g*perCaller + i + 1)
		}
		wg.Go(func() { errs[g] = c.WaitForActions(context.Background(), running(ids...)...) })
	}
	wg.Wait()

	for g, err := range errs {
		failing := int64((g + 1) * perCaller) // the caller's last id
		if failing%10 != 0 {
			if err != nil {
				t.Errorf("caller %d: %v", g, err)
			}
			continue
		}
		var actErr *ActionError
		if !errors.As(err, &actErr) {
			t.Errorf("caller %d: err = %v, want an *ActionError", g, err)
			continue
		}
		if actErr.ID != failing || actErr.Command != "create_server" || actErr.Code != "action_failed" ||
			!strings.Contains(actErr.Message, "could not be created") || len(actErr.Resources) != 1 {
			t.Errorf("caller %d: ActionError = %+v", g, actErr)
		}
		if !strings.Contains(err.Error(), "create_server") || !strings.Contains(err.Error(), "action_failed") {
			t.Errorf("caller %d: message %q lacks command or code", g, err)
		}
	}

	// Polling per action would cost actions × polls = 300 requests. One
	// batched poller needs two requests (100 ids in chunks of 50) per tick
	// and about `polls` ticks; the bound leaves room for callers that
	// joined a tick late on a slow machine.
	got := c.Stats()[DefaultPhase]["GET /v1/actions"]
	if got != api.requestCount() {
		t.Errorf("Stats counted %d polls, server saw %d", got, api.requestCount())
	}
	if limit := 2 * (polls + 6); got > limit {
		t.Fatalf("%d GET /v1/actions for %d actions, want at most %d", got, callers*perCaller, limit)
	}
	t.Logf("%d actions from %d goroutines took %d GET /v1/actions", callers*perCaller, callers, got)
	waitIdle(t, c)
}

func TestWaitForActionsProgress(t *testing.T) {
	api := newFakeActionAPI(t, func(id int64) int { return int(id) }) // action n needs n polls
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: 2 * time.Millisecond})
	var calls [][2]int
	actions := append(running(1, 2, 3, 4), nil, &hcloud.Action{ID: 9, Status: hcloud.ActionStatusSuccess})
	err := c.WaitForActionsWithProgress(context.Background(), func(done, total int) {
		calls = append(calls, [2]int{done, total})
	}, actions...)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || calls[0] != [2]int{1, 5} || calls[len(calls)-1] != [2]int{5, 5} {
		t.Fatalf("progress calls %v, want from [1 5] (one already done) to [5 5]", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Fatalf("progress went backwards: %v", calls)
		}
	}
}

func TestWaitForActionsSharedAction(t *testing.T) {
	api := newFakeActionAPI(t, func(int64) int { return 2 })
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: 2 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = c.WaitForActions(context.Background(), running(7, 7, 8)...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, c)
}

func TestWaitForActionsWithoutRunningActionsSendsNothing(t *testing.T) {
	api := newFakeActionAPI(t, func(int64) int { return 1 })
	c := newTestClient(t, newTestServer(t, api), Options{})
	failed := &hcloud.Action{ID: 3, Status: hcloud.ActionStatusError, Command: "start_server", ErrorCode: "server_error", ErrorMessage: "boom"}
	if err := c.WaitForActions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForActions(context.Background(), nil, &hcloud.Action{ID: 1, Status: hcloud.ActionStatusSuccess}); err != nil {
		t.Fatal(err)
	}
	var actErr *ActionError
	if err := c.WaitForActions(context.Background(), failed); !errors.As(err, &actErr) || actErr.Command != "start_server" {
		t.Fatalf("err = %v, want the failed action's error", err)
	}
	if c.Total() != 0 {
		t.Fatalf("sent %d requests for finished actions", c.Total())
	}
}

func TestWaitForActionsContextCancel(t *testing.T) {
	api := newFakeActionAPI(t, func(id int64) int {
		if id == 2 {
			return 0 // never finishes
		}
		return 1
	})
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: 2 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	done := &hcloud.Action{ID: 1, Status: hcloud.ActionStatusSuccess}
	err := c.WaitForActions(ctx, append(running(2), done)...)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "[2]") {
		t.Fatalf("err = %v, want a deadline error naming action 2", err)
	}
	waitIdle(t, c)
}

func TestWaitForActionsMissingAction(t *testing.T) {
	api := newFakeActionAPI(t, func(int64) int { return 0 })
	api.omitted = func(id int64) bool { return id == 5 }
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: time.Millisecond})
	err := c.WaitForActions(context.Background(), running(5)...)
	if err == nil || !strings.Contains(err.Error(), "action 5: not found") {
		t.Fatalf("err = %v, want action 5 not found", err)
	}
	if n := api.requestCount(); n != missingPollsBeforeFailure {
		t.Fatalf("polled %d times, want %d", n, missingPollsBeforeFailure)
	}
}

func TestWaitForActionsPollErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantClass Class
		wantPolls int
	}{
		{"unauthorized fails at once", http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"unable to authenticate"}}`, ClassAuth, 1},
		{"service errors fail after MaxRetries", http.StatusServiceUnavailable, `{"error":{"code":"service_error","message":"try later"}}`, ClassTransient, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			polls := 0
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				polls++
				mu.Unlock()
				writeJSON(w, tt.status, tt.body)
			}))
			c := newTestClient(t, srv, Options{PollInterval: time.Millisecond, MaxRetries: 2})
			err := c.WaitForActions(context.Background(), running(1, 2)...)
			if Classify(err) != tt.wantClass {
				t.Fatalf("err = %v (class %v), want class %v", err, Classify(err), tt.wantClass)
			}
			mu.Lock()
			defer mu.Unlock()
			if polls != tt.wantPolls {
				t.Fatalf("polled %d times, want %d", polls, tt.wantPolls)
			}
		})
	}
}

func TestCloseStopsPollerAndFailsWaits(t *testing.T) {
	api := newFakeActionAPI(t, func(int64) int { return 0 }) // never finish
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- c.WaitForActions(context.Background(), running(1, 2, 3)...) }()
	// Let the poller run a few ticks before closing.
	testwait.Eventually(t, 5*time.Second, "poller polls twice", func() error {
		if n := api.requestCount(); n < 2 {
			return fmt.Errorf("%d polls", n)
		}
		return nil
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not end after Close")
	}
	c.actions.mu.Lock()
	stillRunning := c.actions.running
	c.actions.mu.Unlock()
	if stillRunning || !loopExited(c, time.Second) {
		t.Fatal("poller still running after Close")
	}
	if err := c.WaitForActions(context.Background(), running(4)...); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestActionErrorsAreJoined(t *testing.T) {
	api := newFakeActionAPI(t, func(int64) int { return 1 })
	api.fails = func(id int64) bool { return id != 2 }
	c := newTestClient(t, newTestServer(t, api), Options{PollInterval: time.Millisecond})
	err := c.WaitForActions(context.Background(), running(1, 2, 3)...)
	var ids []int64
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("err = %v, want joined action errors", err)
	}
	for _, e := range joined.Unwrap() {
		var actErr *ActionError
		if errors.As(e, &actErr) {
			ids = append(ids, actErr.ID)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{1, 3}) {
		t.Fatalf("failed actions %v, want [1 3]", ids)
	}
}
