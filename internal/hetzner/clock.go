package hetzner

import "github.com/hcloud-k8s/hcloud-k8s/internal/clock"

// Clock is the time source of the request budget, the action poller and
// Retry: the project's one clock type, so that the simulator's accelerated
// clock paces the client exactly like the wall clock paces it in production.
// It stays an alias so that callers naming hetzner.Clock keep compiling.
type Clock = clock.Clock
