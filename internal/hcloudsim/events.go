package hcloudsim

import (
	"container/heap"
	"time"
)

// event is a state transition due at a simulated time: an action finishing,
// a server reaching "off" after ACPI shutdown, a health check settling.
type event struct {
	at  time.Time
	seq uint64
	fn  func(at time.Time)
}

// eventQueue is a min-heap ordered by (at, seq) so simultaneous events run in
// the order they were scheduled – the simulation is deterministic.
type eventQueue struct {
	items []*event
	seq   uint64
}

func (q *eventQueue) Len() int { return len(q.items) }
func (q *eventQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.at.Equal(b.at) {
		return a.seq < b.seq
	}
	return a.at.Before(b.at)
}
func (q *eventQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *eventQueue) Push(x any)    { q.items = append(q.items, x.(*event)) }
func (q *eventQueue) Pop() any {
	n := len(q.items)
	it := q.items[n-1]
	q.items[n-1] = nil
	q.items = q.items[:n-1]
	return it
}

func (q *eventQueue) schedule(at time.Time, fn func(at time.Time)) {
	q.seq++
	heap.Push(q, &event{at: at, seq: q.seq, fn: fn})
}

// settle runs every event due by now. The simulation is lazy: nothing moves
// between requests, but every request first catches the world up to the
// current simulated time, so observers always see a consistent state.
func (s *Server) settle() {
	now := s.clock.Now()
	q := &s.st.events
	for q.Len() > 0 && !q.items[0].at.After(now) {
		ev := heap.Pop(q).(*event)
		ev.fn(ev.at)
	}
}

// jitter spreads d by ±Jitter using the seeded random source.
func (s *Server) jitter(d time.Duration) time.Duration {
	j := s.latency.Jitter
	if j <= 0 || d <= 0 {
		return d
	}
	f := 1 + j*(2*s.rng.Float64()-1)
	return time.Duration(float64(d) * f)
}
