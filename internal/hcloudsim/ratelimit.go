package hcloudsim

import (
	"math"
	"time"
)

// tokenBucket models the per-project API rate limit: a bucket of Limit
// requests that refills RefillPerSecond per simulated second. Simulated time
// is used so that accelerated tests see the same budget a real run would.
type tokenBucket struct {
	disabled bool
	limit    float64
	refill   float64
	tokens   float64
	last     time.Time
}

func newTokenBucket(o RateLimitOptions, now time.Time) tokenBucket {
	b := tokenBucket{disabled: o.Disabled, limit: float64(o.Limit), refill: o.RefillPerSecond, last: now}
	if b.limit <= 0 {
		b.limit = 3600
	}
	if b.refill <= 0 {
		b.refill = 1
	}
	b.tokens = b.limit
	return b
}

func (b *tokenBucket) advance(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.limit, b.tokens+dt*b.refill)
		b.last = now
	}
}

// take consumes one request; it reports false when the bucket is empty. A
// disabled bucket always allows and never drains.
func (b *tokenBucket) take(now time.Time) bool {
	if b.disabled {
		return true
	}
	b.advance(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// peek returns the header values: limit, remaining and the time the bucket
// will be full again.
func (b *tokenBucket) peek(now time.Time) (limit, remaining int, reset time.Time) {
	b.advance(now)
	missing := b.limit - b.tokens
	reset = now.Add(time.Duration(math.Ceil(missing/b.refill)) * time.Second)
	return int(b.limit), int(math.Floor(b.tokens)), reset
}
