// Package lock makes sure that only one apply, destroy or upgrade works on a
// cluster at a time, with no local state: the lock lives in the cluster's
// Hetzner project, so two people on two machines see the same lock.
//
// The lock is an SSH key named <cluster>-lock. Hetzner refuses a second key
// of the same name, which makes creating it an atomic test-and-set; its
// labels say who holds it, since when and until when. The holder renews the
// expiry while it works, so a crashed holder's lock runs out and the next
// run takes it over. The key carries no cluster=<name> label, so plan and
// destroy never see it as one of the cluster's resources.
package lock

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"golang.org/x/crypto/ssh"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
)

// Labels of the lock key.
const (
	LabelLock    = "hcloud-k8s.io/lock" // the cluster's name
	LabelHolder  = "holder"             // host and process of the holder
	LabelCommand = "command"            // apply, destroy, upgrade
	LabelSince   = "since"              // unix seconds
	LabelExpires = "expires"            // unix seconds
	// LabelNonce is random per acquisition: it tells this run's own key
	// (created by a request whose answer was lost and retried) from
	// another run's, even one of the same host and process.
	LabelNonce = "nonce"
)

// TTL is how long a lock lasts without renewal; the holder renews it every
// TTL/3, so only a holder that has been gone for a while loses it.
const TTL = 15 * time.Minute

// Name is the name of cluster's lock key.
func Name(cluster string) string { return cluster + "-lock" }

// HeldError says who holds the lock.
type HeldError struct {
	Cluster, Holder, Command string
	Since, Expires           time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("cluster %s is locked: %s is running %s since %s (the lock expires at %s unless renewed); wait for it to finish, or if it crashed, wait for the lock to expire or run again with --break-lock",
		e.Cluster, e.Holder, e.Command, e.Since.UTC().Format(time.RFC3339), e.Expires.UTC().Format(time.RFC3339))
}

// crashedHere reports whether the holder was a process of this machine that
// no longer runs (killed, crashed): its lock need not be waited out.
func (e *HeldError) crashedHere() bool {
	i := strings.LastIndexByte(e.Holder, '.')
	if i < 0 {
		return false
	}
	pid, err := strconv.Atoi(e.Holder[i+1:])
	return err == nil && e.Holder[:i] == labelValue(hostname()) && !processAlive(pid)
}

// Options says who takes the lock.
type Options struct {
	Cluster string
	Command string // apply, destroy, upgrade
	// Holder names this process in the lock ("<host>.<pid>" when empty).
	Holder string
	// Clock tells the time for since and expires (nil: the wall clock).
	Clock clock.Clock
	// Break deletes a lock someone else holds before taking it (--break-lock).
	Break bool

	nonce string
}

// Lock is a held lock.
type Lock struct {
	client *hetzner.Client
	opts   Options
	since  string // unix seconds, kept across renewals
	id     int64
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	// lost is set when a renewal found the lock gone or taken over.
	mu   sync.Mutex
	lost error
}

// Acquire takes cluster's lock, taking over one that has expired (or, with
// Options.Break, any), and renews it until Release.
func Acquire(ctx context.Context, client *hetzner.Client, opts Options) (*Lock, error) {
	opts.Clock = clock.OrReal(opts.Clock)
	if opts.Holder == "" {
		opts.Holder = defaultHolder()
	}
	since := strconv.FormatInt(opts.Clock.Now().Unix(), 10)
	opts.nonce = rand.Text()
	for attempt := 0; attempt < 3; attempt++ {
		id, err := create(ctx, client, opts, since)
		if err == nil {
			return holding(client, opts, since, id), nil
		}
		if hetzner.Classify(err) != hetzner.ClassUniqueness {
			return nil, fmt.Errorf("take the lock of cluster %s: %w", opts.Cluster, err)
		}
		held, key, err := read(ctx, client, opts.Cluster)
		if err != nil {
			return nil, err
		}
		if key == nil {
			continue // released meanwhile: try again
		}
		if key.Labels[LabelNonce] == opts.nonce {
			// Our own create, answered after a retry had been sent.
			return holding(client, opts, since, key.ID), nil
		}
		if !opts.Break && opts.Clock.Now().Before(held.Expires) && !held.crashedHere() {
			return nil, held
		}
		// Expired, left by a process of this machine that is gone, or broken
		// on purpose: delete exactly the key that was
		// read, so that a lock someone took over meanwhile survives.
		if err := remove(ctx, client, key.ID); err != nil {
			return nil, fmt.Errorf("take over the expired lock of cluster %s: %w", opts.Cluster, err)
		}
	}
	return nil, fmt.Errorf("take the lock of cluster %s: it kept changing hands; try again", opts.Cluster)
}

// holding is a held lock, renewing itself.
func holding(client *hetzner.Client, opts Options, since string, id int64) *Lock {
	lk := &Lock{client: client, opts: opts, since: since, id: id, stop: make(chan struct{}), done: make(chan struct{})}
	go lk.renew()
	return lk
}

// Release gives the lock back; it is safe to call more than once.
func (l *Lock) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		err = remove(ctx, l.client, l.id)
		if hetzner.Classify(err) == hetzner.ClassNotFound {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("release the lock of cluster %s (it expires by itself at most %s from now): %w", l.opts.Cluster, TTL, err)
		}
	})
	return err
}

// Lost says whether a renewal found the lock gone (broken by someone with
// --break-lock, or expired and taken over); nil while it is held.
func (l *Lock) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *Lock) renew() {
	defer close(l.done)
	for {
		select {
		case <-l.stop:
			return
		case <-l.opts.Clock.After(TTL / 3):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, _, err := l.client.API().SSHKey.Update(ctx, &hcloud.SSHKey{ID: l.id}, hcloud.SSHKeyUpdateOpts{Labels: labels(l.opts, l.since)})
		cancel()
		if hetzner.Classify(err) == hetzner.ClassNotFound {
			l.mu.Lock()
			l.lost = fmt.Errorf("the lock of cluster %s was broken or taken over while this run held it", l.opts.Cluster)
			l.mu.Unlock()
			return
		}
	}
}

func create(ctx context.Context, client *hetzner.Client, opts Options, since string) (int64, error) {
	pub, err := freshPublicKey()
	if err != nil {
		return 0, err
	}
	var id int64
	err = client.Retry(ctx, "create lock "+Name(opts.Cluster), func(ctx context.Context) error {
		key, _, err := client.API().SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: Name(opts.Cluster), PublicKey: pub, Labels: labels(opts, since)})
		if key != nil {
			id = key.ID
		}
		return err
	})
	return id, err
}

func read(ctx context.Context, client *hetzner.Client, cluster string) (*HeldError, *hcloud.SSHKey, error) {
	var key *hcloud.SSHKey
	err := client.Retry(ctx, "read lock "+Name(cluster), func(ctx context.Context) error {
		var err error
		key, _, err = client.API().SSHKey.GetByName(ctx, Name(cluster))
		return err
	})
	if err != nil || key == nil {
		return nil, nil, err
	}
	if key.Labels[LabelLock] != cluster {
		return nil, nil, fmt.Errorf("an SSH key named %s exists but is not hcloud-k8s's lock of cluster %s (no label %s=%s); rename or delete it", key.Name, cluster, LabelLock, cluster)
	}
	return &HeldError{
		Cluster: cluster, Holder: key.Labels[LabelHolder], Command: key.Labels[LabelCommand],
		Since: unix(key.Labels[LabelSince]), Expires: unix(key.Labels[LabelExpires]),
	}, key, nil
}

func remove(ctx context.Context, client *hetzner.Client, id int64) error {
	return client.Retry(ctx, "delete lock", func(ctx context.Context) error {
		_, err := client.API().SSHKey.Delete(ctx, &hcloud.SSHKey{ID: id})
		return err
	})
}

func labels(opts Options, since string) map[string]string {
	now := opts.Clock.Now()
	return map[string]string{
		LabelLock: opts.Cluster, LabelHolder: labelValue(opts.Holder), LabelCommand: labelValue(opts.Command),
		LabelSince: since, LabelExpires: strconv.FormatInt(now.Add(TTL).Unix(), 10), LabelNonce: labelValue(opts.nonce),
	}
}

func unix(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

var notLabelChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// labelValue fits s into a Hetzner label value: 63 characters of
// [A-Za-z0-9._-], starting and ending alphanumeric.
func labelValue(s string) string {
	s = strings.Trim(notLabelChars.ReplaceAllString(s, "-"), "-._")
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-._")
	}
	return s
}

func defaultHolder() string { return hostname() + "." + strconv.Itoa(os.Getpid()) }

func hostname() string {
	host, err := os.Hostname()
	if err != nil {
		return "unknown-host"
	}
	return host
}

func freshPublicKey() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("lock key: %w", err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("lock key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), nil
}
