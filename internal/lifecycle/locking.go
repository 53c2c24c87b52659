package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
	"github.com/hcloud-k8s/hcloud-k8s/internal/lock"
)

// takeLock takes the cluster's lock for command (internal/lock): a second
// apply, destroy or upgrade of the same cluster, from any machine, stops
// here with who holds it.
func (d Deps) takeLock(ctx context.Context, c *config.Cluster, command string) (*lock.Lock, error) {
	l, err := lock.Acquire(ctx, d.Client, lock.Options{Cluster: c.Cluster.Name, Command: command, Clock: d.Clock, Break: d.BreakLock})
	if err != nil {
		return nil, err
	}
	if d.BreakLock {
		fmt.Fprintf(d.progress(), "--break-lock: took the lock of cluster %s\n", c.Cluster.Name)
	}
	return l, nil
}

// releaseLock gives l back after the procedure ended with err, and adds to
// err what went wrong with the lock. The release gets its own short context:
// an interrupted run (whose context is done) still gives the lock back.
func releaseLock(l *lock.Lock, err error) error {
	if l == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lost := l.Lost()
	if rerr := l.Release(ctx); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if lost != nil {
		err = errors.Join(err, fmt.Errorf("%w: another run may have worked on the cluster at the same time; run plan to see where it stands", lost))
	}
	return err
}
