package hetzner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

const (
	// maxActionIDsPerPoll is the API's maximum page size: a chunk of this
	// many ids is answered with exactly one request.
	maxActionIDsPerPoll = 50
	// missingPollsBeforeFailure tolerates an action briefly absent from
	// GET /actions before declaring it lost (hcloud-go fails at once).
	missingPollsBeforeFailure = 3
)

// actionPoller is the single loop that polls every action anyone is waiting
// for. Polling per action at 500 ms, as naive code does, costs two requests
// per second per server (double the bucket's refill); batching costs one
// request per 50 running actions per interval, however many callers wait.
//
// The loop runs only while someone waits and is started again by the next
// waiter, so an idle client holds no goroutine.
type actionPoller struct {
	api        *hcloud.Client
	clock      Clock
	interval   time.Duration
	maxRetries int

	ctx    context.Context // canceled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	byID     map[int64][]*actionWait // running action → who waits for it
	missing  map[int64]int           // consecutive polls an action was absent
	failures int                     // consecutive failed polls
	running  bool
	closed   bool
}

// actionWait is one WaitForActions call.
type actionWait struct {
	pending map[int64]struct{}
	total   int
	settled int // actions that finished, for progress
	errs    []error
	notify  chan struct{} // progress changed (buffered, never blocks)
	done    chan struct{} // closed when pending is empty or the wait failed
}

func newActionPoller(api *hcloud.Client, clock Clock, interval time.Duration, maxRetries int) *actionPoller {
	ctx, cancel := context.WithCancel(context.Background())
	return &actionPoller{
		api: api, clock: clock, interval: interval, maxRetries: maxRetries,
		ctx: ctx, cancel: cancel,
		byID: map[int64][]*actionWait{}, missing: map[int64]int{},
	}
}

func (p *actionPoller) wait(ctx context.Context, progress func(done, total int), actions []*hcloud.Action) error {
	w, err := p.register(actions)
	if err != nil {
		return err
	}
	report := func() {
		if progress != nil {
			p.mu.Lock()
			done := w.settled
			p.mu.Unlock()
			progress(done, w.total)
		}
	}
	report()
	for {
		select {
		case <-w.done:
			report()
			// done is closed under p.mu after the last write to errs.
			return errors.Join(w.errs...)
		case <-w.notify:
			report()
		case <-ctx.Done():
			remaining, finished := p.deregister(w)
			if finished { // the last action ended just as ctx did
				return errors.Join(w.errs...)
			}
			return fmt.Errorf("waiting for actions %v: %w", remaining, ctx.Err())
		}
	}
}

// register adds a wait for the running actions among actions and makes sure
// the loop runs. Actions that already finished are settled right away.
func (p *actionPoller) register(actions []*hcloud.Action) (*actionWait, error) {
	w := &actionWait{
		pending: map[int64]struct{}{},
		notify:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	seen := map[int64]bool{}
	for _, a := range actions {
		if a == nil || seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		w.total++
		switch a.Status {
		case hcloud.ActionStatusRunning:
			w.pending[a.ID] = struct{}{}
			continue
		case hcloud.ActionStatusError:
			w.errs = append(w.errs, newActionError(a))
		}
		w.settled++
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if len(w.pending) == 0 {
		close(w.done)
		return w, nil
	}
	for id := range w.pending {
		p.byID[id] = append(p.byID[id], w)
	}
	if !p.running {
		p.running = true
		p.wg.Add(1)
		go p.loop()
	}
	return w, nil
}

// deregister removes a wait whose caller gave up. It returns the ids that
// were still running and whether the wait had completed in the meantime.
func (p *actionPoller) deregister(w *actionWait) (remaining []int64, finished bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-w.done:
		return nil, true
	default:
	}
	for id := range w.pending {
		waiters := slices.DeleteFunc(p.byID[id], func(x *actionWait) bool { return x == w })
		if len(waiters) == 0 {
			delete(p.byID, id)
			delete(p.missing, id)
		} else {
			p.byID[id] = waiters
		}
	}
	remaining = slices.Sorted(maps.Keys(w.pending))
	clear(w.pending)
	close(w.done)
	return remaining, false
}

func (p *actionPoller) loop() {
	defer p.wg.Done()
	for {
		if err := p.clock.Sleep(p.ctx, p.interval); err != nil {
			p.failAll(ErrClosed)
			return
		}
		p.mu.Lock()
		ids := slices.Sorted(maps.Keys(p.byID))
		if len(ids) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for chunk := range slices.Chunk(ids, maxActionIDsPerPoll) {
			actions, err := p.api.Action.AllWithOpts(p.ctx, hcloud.ActionListOpts{
				ListOpts: hcloud.ListOpts{PerPage: maxActionIDsPerPoll},
				ID:       chunk,
			})
			p.apply(chunk, actions, err)
		}
	}
}

// apply settles the outcome of one poll of the given ids.
func (p *actionPoller) apply(ids []int64, actions []*hcloud.Action, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.ctx.Err() != nil {
			return // closing; the loop fails everyone
		}
		p.failures++
		if retryable(Classify(err)) && p.failures <= p.maxRetries {
			return // try again next interval
		}
		for _, id := range ids {
			p.settleLocked(id, fmt.Errorf("poll action %d: %w", id, err))
		}
		return
	}
	p.failures = 0
	returned := make(map[int64]bool, len(actions))
	for _, a := range actions {
		returned[a.ID] = true
		delete(p.missing, a.ID)
		switch a.Status {
		case hcloud.ActionStatusRunning:
		case hcloud.ActionStatusError:
			p.settleLocked(a.ID, newActionError(a))
		default:
			p.settleLocked(a.ID, nil)
		}
	}
	for _, id := range ids {
		if returned[id] {
			continue
		}
		p.missing[id]++
		if p.missing[id] >= missingPollsBeforeFailure {
			p.settleLocked(id, fmt.Errorf("action %d: not found by the API", id))
		}
	}
}

// settleLocked marks action id finished for every wait on it.
func (p *actionPoller) settleLocked(id int64, err error) {
	for _, w := range p.byID[id] {
		if _, ok := w.pending[id]; !ok {
			continue
		}
		delete(w.pending, id)
		w.settled++
		if err != nil {
			w.errs = append(w.errs, err)
		}
		if len(w.pending) == 0 {
			close(w.done)
			continue
		}
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
	delete(p.byID, id)
	delete(p.missing, id)
}

func (p *actionPoller) failAll(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, waits := range p.byID {
		for _, w := range waits {
			if len(w.pending) == 0 {
				continue
			}
			clear(w.pending)
			w.errs = append(w.errs, err)
			close(w.done)
		}
		delete(p.byID, id)
	}
	clear(p.missing)
	p.running = false
}

// close stops the loop and fails every wait in progress.
func (p *actionPoller) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.failAll(ErrClosed) // waits registered between cancel and the loop's exit
}
