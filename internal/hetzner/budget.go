package hetzner

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// announceWaitsOver is the shortest wait for the rate limit that
// Options.OnRateLimitWait hears of: shorter ones pass before anyone wonders
// why nothing happens.
const announceWaitsOver = 3 * time.Second

// budget tracks the project's API token bucket as reported by the
// RateLimit-* headers and decides how long the next request has to wait.
//
// The in-cluster CCM, CSI driver and autoscaler draw from the same bucket as
// this CLI, so draining it breaks the cluster, not just the CLI. Above the
// reserve requests go out unhindered; below it they are spaced so that this
// client spends no faster than the bucket refills, and ever slower the
// emptier it gets. After a 429 everyone waits until the reported reset.
//
// Hetzner's bucket refills Limit requests per hour (1/s by default). The
// rate is read from the headers instead, so a simulator with another rate is
// paced right as long as Clock runs at the simulator's speed; RateLimit-Reset
// has whole seconds, so rates far above one request per second of that clock
// are only estimated coarsely. Clock need not agree with the server's clock:
// observe measures the reset against the response's Date.
type budget struct {
	clock   Clock
	reserve int // 0: derive from the limit; <0: never pace
	maxWait time.Duration
	onWait  func(RateLimitWait) // nil: long waits pass silently

	mu         sync.Mutex
	known      bool
	limit      int
	remaining  int
	reset      time.Time
	observedAt time.Time
	nextSlot   time.Time // no request may start before this
	inflight   int       // slots reserved whose response has not arrived
	waited     time.Duration
	announced  time.Time // end of the last wait passed to onWait
}

func newBudget(clock Clock, reserve int, maxWait time.Duration, onWait func(RateLimitWait)) *budget {
	return &budget{clock: clock, reserve: reserve, maxWait: maxWait, onWait: onWait}
}

// refillIntervalLocked is the time the bucket needs to regain one request. The
// headers say how many requests are missing and when the bucket will be full,
// which gives the rate without assuming Hetzner's defaults; when they cannot
// (full bucket, reset in the past) the documented Limit-per-hour applies.
func (b *budget) refillIntervalLocked() time.Duration {
	if missing := b.limit - b.remaining; missing > 0 && b.reset.After(b.observedAt) {
		return b.reset.Sub(b.observedAt) / time.Duration(missing)
	}
	if b.limit <= 0 {
		return time.Second
	}
	return time.Hour / time.Duration(b.limit)
}

// reserveFor returns the pacing threshold for a bucket of the given size.
func (b *budget) reserveFor(limit int) int {
	if b.reserve != 0 {
		return b.reserve
	}
	r := max(int(math.Ceil(float64(limit)*DefaultReserveFraction)), minDefaultReserve)
	return min(r, limit)
}

// observe records the RateLimit-* headers of a response. Responses without
// them (proxies, test servers) leave the last known state untouched.
//
// RateLimit-Reset is a time on the server's clock, and so is the response's
// Date: their difference is how far away the reset is, whatever the local
// clock says. Measured against a local clock that is minutes off, a reset
// seconds away would lie far in the future (every 429 waiting
// MaxRateLimitWait) or in the past. The reset is kept as the time on Clock
// that lies that far after now.
func (b *budget) observe(h http.Header, now time.Time) {
	limit, err1 := strconv.Atoi(h.Get("RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("RateLimit-Remaining"))
	if err1 != nil || err2 != nil || limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.known = true
	b.limit = limit
	b.remaining = max(remaining, 0)
	b.observedAt = now
	b.reset = time.Time{}
	if reset, err := strconv.ParseInt(h.Get("RateLimit-Reset"), 10, 64); err == nil {
		b.reset = now.Add(time.Unix(reset, 0).Sub(serverTime(h, now)))
	}
}

// serverTime is the time the server stamped on its response (Date), or now
// when there is no readable Date and the local clock has to stand in.
func serverTime(h http.Header, now time.Time) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return now
}

// estimatedRemainingLocked extrapolates the last observation by the refill
// that happened since, so a long pause is not mistaken for an empty bucket.
func (b *budget) estimatedRemainingLocked(now time.Time) int {
	elapsed := now.Sub(b.observedAt)
	if elapsed <= 0 {
		return b.remaining
	}
	refilled := int(elapsed / max(b.refillIntervalLocked(), time.Nanosecond))
	return min(b.limit, b.remaining+refilled)
}

// reserveSlot returns how long the caller must wait before sending its
// request, and books that slot so concurrent callers queue behind it. Every
// call must be paired with a release once the request is answered or given
// up.
func (b *budget) reserveSlot() time.Duration {
	wait, notice := b.bookSlot()
	b.announce(notice)
	return wait
}

// bookSlot is reserveSlot under the lock; it also returns the notice of a
// long wait, to be announced once the lock is released.
func (b *budget) bookSlot() (time.Duration, *RateLimitWait) {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	start := now
	if b.nextSlot.After(start) {
		start = b.nextSlot
	}
	// Requests still in flight are not reflected in any header yet;
	// counting them keeps concurrent senders from overdrawing.
	inflight := b.inflight
	b.inflight++
	remaining := b.remaining
	if b.known && b.reserve >= 0 {
		reserve := b.reserveFor(b.limit)
		remaining = b.estimatedRemainingLocked(now) - inflight
		if remaining < reserve {
			// Spacing grows as the bucket empties: at the reserve it
			// matches the refill rate, at half of it it is twice as
			// slow, near zero it is bounded by maxWait.
			gap := time.Duration(float64(b.refillIntervalLocked()) * float64(reserve) / float64(max(remaining, 1)))
			b.nextSlot = start.Add(min(gap, b.maxWait))
		}
	}
	wait := start.Sub(now)
	b.waited += wait
	return wait, b.noticeLocked(now, wait, remaining)
}

// release ends a request that reserveSlot admitted.
func (b *budget) release() {
	b.mu.Lock()
	b.inflight--
	b.mu.Unlock()
}

// backOffAfter429 computes how long to wait after a rate-limited response and
// blocks every other request for that long too: the bucket is shared, so
// nobody should hammer it meanwhile.
func (b *budget) backOffAfter429(now time.Time) time.Duration {
	wait, notice := b.bookBackOff(now)
	b.announce(notice)
	return wait
}

// bookBackOff is backOffAfter429 under the lock, like bookSlot.
func (b *budget) bookBackOff(now time.Time) (time.Duration, *RateLimitWait) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wait := b.refillIntervalLocked()
	if b.known && b.reset.After(now) {
		wait = max(wait, b.reset.Sub(now))
	}
	wait = min(wait, b.maxWait)
	if until := now.Add(wait); until.After(b.nextSlot) {
		b.nextSlot = until
	}
	b.waited += wait
	return wait, b.noticeLocked(now, wait, b.remaining)
}

// RateLimitWait is a long wait for the rate limit, as Options.OnRateLimitWait
// hears of it.
type RateLimitWait struct {
	Wait      time.Duration // how long the request is held back
	Remaining int           // requests left in the bucket, as far as known
	Limit     int           // RateLimit-Limit: the bucket's size, which Hetzner refills per hour
}

// String is the progress line for the wait.
func (w RateLimitWait) String() string {
	return fmt.Sprintf("Hetzner rate limit: waiting %ds, %d requests left of %d/h", int(w.Wait.Round(time.Second)/time.Second), w.Remaining, w.Limit)
}

// noticeLocked returns the notice of a wait that starts now, or nil when it
// is too short to mention or starts while an announced wait still runs:
// every request queued behind one 429 waits about as long, and one line says
// it for all of them.
func (b *budget) noticeLocked(now time.Time, wait time.Duration, remaining int) *RateLimitWait {
	if b.onWait == nil || wait <= announceWaitsOver || now.Before(b.announced) {
		return nil
	}
	b.announced = now.Add(wait)
	return &RateLimitWait{Wait: wait, Remaining: max(remaining, 0), Limit: b.limit}
}

// announce passes a notice to onWait. It runs outside the lock, so that a
// slow writer behind onWait holds up only the request that waits anyway.
func (b *budget) announce(n *RateLimitWait) {
	if n != nil {
		b.onWait(*n)
	}
}

// Budget is a snapshot of the rate-limit state, for --debug output.
type Budget struct {
	Known     bool          // headers have been seen
	Limit     int           // RateLimit-Limit
	Remaining int           // RateLimit-Remaining of the last response
	Reset     time.Time     // RateLimit-Reset of the last response, on Clock (see observe)
	Waited    time.Duration // total time requests were held back
}

func (b *budget) snapshot() Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Budget{Known: b.known, Limit: b.limit, Remaining: b.remaining, Reset: b.reset, Waited: b.waited}
}
