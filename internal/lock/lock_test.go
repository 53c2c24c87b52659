package lock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	simclock "github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testwait"
)

func setup(t *testing.T) (*simtest.Env, *hetzner.Client) {
	t.Helper()
	env := simtest.New(t, hcloudsim.Options{})
	client, err := hetzner.New(hetzner.Options{Token: env.Token, Endpoint: env.Endpoint, HTTPClient: simtest.LoopbackHTTPClient(t), PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return env, client
}

var epoch = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// A second run on the same cluster fails fast and says who holds the lock
// and since when; once released, the lock can be taken again.
func TestSecondHolderIsRefused(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	clk := simclock.NewManual(epoch)
	first, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Holder: "laptop.4711", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, client, Options{Cluster: "demo", Command: "destroy", Holder: "ci.42", Clock: clk})
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second acquire: %v", err)
	}
	want := "cluster demo is locked: laptop.4711 is running apply since 2026-12-03T12:00:00Z (the lock expires at 2026-12-03T12:15:00Z unless renewed)"
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "--break-lock") {
		t.Errorf("refusal:\n got %s\nwant %s…, mentioning --break-lock", err, want)
	}
	// Another cluster's lock is another lock.
	other, err := Acquire(ctx, client, Options{Cluster: "demo2", Command: "apply", Clock: clk})
	if err != nil {
		t.Fatalf("another cluster: %v", err)
	}
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "destroy", Clock: clk})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := again.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// A holder that crashed leaves its lock; once it has expired the next run
// takes it over. A holder that is alive renews it and keeps it.
func TestExpiredLockIsTakenOverAndLiveOnesAreRenewed(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	clk := simclock.NewManual(epoch)
	alive, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Holder: "alive.1", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	// An hour passes in 5-minute steps: the holder renews every 5 minutes.
	for range 12 {
		testwait.Eventually(t, 5*time.Second, "the renewal to wait on the clock", func() error {
			if clk.Waiters() == 0 {
				return errors.New("no waiter")
			}
			return nil
		})
		clk.Advance(TTL / 3)
	}
	_, err = Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Holder: "other.2", Clock: clk})
	var held *HeldError
	if !errors.As(err, &held) || held.Holder != "alive.1" || !held.Since.Equal(epoch) {
		t.Fatalf("a renewed lock was not held: %v", err)
	}
	// The holder crashes (stops renewing without releasing).
	close(alive.stop)
	<-alive.done
	clk.Advance(TTL + time.Second)
	taken, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Holder: "other.2", Clock: clk})
	if err != nil {
		t.Fatalf("expired lock not taken over: %v", err)
	}
	defer taken.Release(ctx)
}

// --break-lock takes a live lock; its holder notices at its next renewal.
func TestBreakLock(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	clk := simclock.NewManual(epoch)
	victim, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	breaker, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "destroy", Clock: clk, Break: true})
	if err != nil {
		t.Fatalf("break: %v", err)
	}
	defer breaker.Release(ctx)
	testwait.Eventually(t, 5*time.Second, "both renewals to wait on the clock", func() error {
		if clk.Waiters() < 2 {
			return errors.New("not yet")
		}
		return nil
	})
	clk.Advance(TTL / 3)
	testwait.Eventually(t, 5*time.Second, "the broken holder to notice", func() error {
		if victim.Lost() == nil {
			return errors.New("not lost")
		}
		return nil
	})
	if err := victim.Release(ctx); err != nil {
		t.Errorf("releasing a lost lock: %v", err)
	}
	if _, _, err := client.API().SSHKey.GetByName(ctx, Name("demo")); err != nil {
		t.Fatal(err)
	}
}

// A key that only looks like the lock is not deleted or taken over.
func TestForeignKeyIsNotALock(t *testing.T) {
	env, client := setup(t)
	ctx := context.Background()
	pub, err := freshPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Client.SSHKey.Create(ctx, hcloud.SSHKeyCreateOpts{Name: "demo-lock", PublicKey: pub}); err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Break: true})
	if err == nil || !strings.Contains(err.Error(), "is not hcloud-k8s's lock") {
		t.Fatalf("err = %v", err)
	}
	if k, _, _ := env.Client.SSHKey.GetByName(ctx, "demo-lock"); k == nil {
		t.Error("the foreign key was deleted")
	}
}

// A lock left by a process of this machine that no longer runs (kill -9) is
// taken over at once instead of being waited out.
func TestLockOfADeadLocalProcessIsTakenOver(t *testing.T) {
	_, client := setup(t)
	ctx := context.Background()
	clk := simclock.NewManual(epoch)
	dead := hostname() + ".999999999" // beyond any pid_max
	if _, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Holder: dead, Clock: clk}); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(ctx, client, Options{Cluster: "demo", Command: "apply", Clock: clk})
	if err != nil {
		t.Fatalf("the dead process's lock was not taken over: %v", err)
	}
	defer l.Release(ctx)
	// A live process of another machine keeps its lock.
	if _, err := Acquire(ctx, client, Options{Cluster: "demo2", Command: "apply", Holder: "elsewhere.1", Clock: clk}); err != nil {
		t.Fatal(err)
	}
	var held *HeldError
	if _, err := Acquire(ctx, client, Options{Cluster: "demo2", Command: "apply", Clock: clk}); !errors.As(err, &held) {
		t.Fatalf("another machine's lock was taken: %v", err)
	}
}
