// Package membership reads and changes the etcd membership of a Talos
// cluster's control planes through the Talos API: which members there are and
// whether each is healthy (a survey), a control plane leaving etcd in the
// order a careful operator would do it, and the removal by ID of a member
// whose machine is gone. It knows nothing of Hetzner: callers name the control
// planes and the address their Talos API answers on.
//
// docs/scale-down.md describes the procedure apply builds on it.
package membership

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hcloud-k8s/hcloud-k8s/internal/clock"
)

// Node is a control plane as the caller knows it: its name (the Talos
// hostname, which is the server's name) and the address its Talos API
// answers on. Addr is empty for a control plane whose machine is gone.
type Node struct {
	Name string
	Addr string
}

// Health is what a survey found out about one etcd member.
type Health string

const (
	// Healthy: the member's node answers and its etcd has a leader.
	Healthy Health = "healthy"
	// Unhealthy: the node answers, but its etcd does not run or reports errors.
	Unhealthy Health = "unhealthy"
	// Unreachable: the node's Talos API does not answer.
	Unreachable Health = "unreachable"
	// NoMachine: no control plane of that name exists any more.
	NoMachine Health = "no machine"
)

// Member is one etcd member and its health.
type Member struct {
	ID      uint64 `json:"-"`
	IDHex   string `json:"id"`
	Name    string `json:"name"`
	Learner bool   `json:"learner,omitempty"`
	Leader  bool   `json:"leader,omitempty"`
	Health  Health `json:"health"`
	// Why says what was wrong when the member is not healthy.
	Why string `json:"why,omitempty"`
}

// Survey is the membership as one control plane reported it, with every
// member's health.
type Survey struct {
	Members []Member `json:"members"`
	// From is the control plane that listed the members.
	From string `json:"from"`
}

// Member returns the member named name.
func (s *Survey) Member(name string) (Member, bool) {
	i := slices.IndexFunc(s.Members, func(m Member) bool { return m.Name == name })
	if i < 0 {
		return Member{}, false
	}
	return s.Members[i], true
}

// Healthy counts the healthy members.
func (s *Survey) Healthy() int {
	n := 0
	for _, m := range s.Members {
		if m.Health == Healthy {
			n++
		}
	}
	return n
}

// Client talks to control planes with the cluster's talosconfig.
type Client struct {
	cfg *clientconfig.Config
	// Clock paces the waits; nil is the wall clock.
	Clock clock.Clock
	// Poll is how often a wait looks again (default 2s); Timeout bounds it
	// (default 5 minutes).
	Poll    time.Duration
	Timeout time.Duration
	// CallTimeout bounds one Talos call (default 10s, on the wall clock: it
	// guards against a machine that accepts connections and never answers).
	CallTimeout time.Duration
}

// New reads a talosconfig.
func New(talosconfig []byte) (*Client, error) {
	cfg, err := clientconfig.FromBytes(talosconfig)
	if err != nil {
		return nil, fmt.Errorf("talosconfig: %w", err)
	}
	if _, ok := cfg.Contexts[cfg.Context]; !ok {
		return nil, fmt.Errorf("talosconfig: no context %q", cfg.Context)
	}
	return &Client{cfg: cfg}, nil
}

func (c *Client) clock() clock.Clock { return clock.OrReal(c.Clock) }

func (c *Client) callTimeout() time.Duration {
	if c.CallTimeout > 0 {
		return c.CallTimeout
	}
	return 10 * time.Second
}

// call runs fn with a client of n's Talos API.
func (c *Client) call(ctx context.Context, n Node, fn func(context.Context, *client.Client) error) error {
	if n.Addr == "" {
		return fmt.Errorf("%s has no address", n.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, c.callTimeout())
	defer cancel()
	tc, err := client.New(ctx, client.WithConfig(c.cfg), client.WithEndpoints(n.Addr))
	if err != nil {
		return err
	}
	defer tc.Close()
	return fn(ctx, tc)
}

// List asks the control planes in turn for the member list and returns it
// with the one that answered.
func (c *Client) List(ctx context.Context, cps []Node) ([]Member, string, error) {
	var errs []error
	for _, n := range cps {
		if n.Addr == "" {
			continue
		}
		var out []Member
		err := c.call(ctx, n, func(ctx context.Context, tc *client.Client) error {
			resp, err := tc.EtcdMemberList(ctx, &machine.EtcdMemberListRequest{})
			if err != nil {
				return err
			}
			seen := map[uint64]bool{}
			for _, msg := range resp.GetMessages() {
				for _, m := range msg.GetMembers() {
					if !seen[m.GetId()] {
						seen[m.GetId()] = true
						out = append(out, Member{ID: m.GetId(), IDHex: fmt.Sprintf("%x", m.GetId()), Name: m.GetHostname(), Learner: m.GetIsLearner()})
					}
				}
			}
			return nil
		})
		if err == nil {
			slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
			return out, n.Name, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name, shortErr(err)))
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, "", errors.New("no control plane with an address to ask")
	}
	return nil, "", fmt.Errorf("no control plane listed the etcd members: %w", errors.Join(errs...))
}

// Survey lists the members and asks each member's own node for its etcd
// status. cps are every control plane the caller knows of, including the
// ones about to go; a member whose name is not among them has no machine.
func (c *Client) Survey(ctx context.Context, cps []Node) (*Survey, error) {
	members, from, err := c.List(ctx, cps)
	if err != nil {
		return nil, err
	}
	byName := map[string]Node{}
	for _, n := range cps {
		byName[n.Name] = n
	}
	for i := range members {
		m := &members[i]
		n, ok := byName[m.Name]
		if !ok {
			m.Health, m.Why = NoMachine, "no control plane of that name exists"
			continue
		}
		if n.Addr == "" {
			m.Health, m.Why = Unreachable, "its machine is not running"
			continue
		}
		m.Health, m.Why, m.Leader = c.status(ctx, n, m.ID)
	}
	return &Survey{Members: members, From: from}, nil
}

// status is one member's health, from its own node's EtcdStatus.
func (c *Client) status(ctx context.Context, n Node, id uint64) (h Health, why string, leader bool) {
	var st *machine.EtcdMemberStatus
	err := c.call(ctx, n, func(ctx context.Context, tc *client.Client) error {
		resp, err := tc.EtcdStatus(ctx)
		if err != nil {
			return err
		}
		for _, msg := range resp.GetMessages() {
			st = msg.GetMemberStatus()
		}
		return nil
	})
	switch {
	case err != nil && isUnreachable(err):
		return Unreachable, "Talos API does not answer: " + shortErr(err).Error(), false
	case err != nil:
		return Unhealthy, shortErr(err).Error(), false
	case st == nil:
		return Unhealthy, "etcd reported no status", false
	case len(st.GetErrors()) > 0:
		return Unhealthy, strings.Join(st.GetErrors(), "; "), false
	case st.GetMemberId() != id:
		return Unhealthy, fmt.Sprintf("the node runs etcd member %x, not %x", st.GetMemberId(), id), false
	case st.GetLeader() == 0:
		return Unhealthy, "etcd has no leader", false
	}
	return Healthy, "", st.GetLeader() == id
}

// Leave takes the control plane n out of etcd: it hands etcd leadership
// away, leaves the cluster, and waits until another control plane (one of
// witnesses) no longer lists it. A member that already left is not an error,
// so that a run stopped halfway continues.
func (c *Client) Leave(ctx context.Context, n Node, witnesses []Node) error {
	members, _, err := c.List(ctx, witnesses)
	if err != nil {
		return fmt.Errorf("before %s leaves etcd: %w", n.Name, err)
	}
	if !slices.ContainsFunc(members, func(m Member) bool { return m.Name == n.Name }) {
		return nil
	}
	if err := c.call(ctx, n, func(ctx context.Context, tc *client.Client) error {
		_, err := tc.EtcdForfeitLeadership(ctx, &machine.EtcdForfeitLeadershipRequest{})
		return err
	}); err != nil {
		return fmt.Errorf("%s: hand etcd leadership away: %w", n.Name, shortErr(err))
	}
	if err := c.call(ctx, n, func(ctx context.Context, tc *client.Client) error {
		return tc.EtcdLeaveCluster(ctx, &machine.EtcdLeaveClusterRequest{})
	}); err != nil {
		return fmt.Errorf("%s: leave etcd: %w", n.Name, shortErr(err))
	}
	return c.waitGone(ctx, n.Name, witnesses)
}

// RemoveByID removes the member id (named name) through one of via: for a
// control plane whose machine is gone or does not answer, so cannot leave by
// itself. A member already gone is not an error.
func (c *Client) RemoveByID(ctx context.Context, name string, id uint64, via []Node) error {
	var errs []error
	for _, n := range via {
		err := c.call(ctx, n, func(ctx context.Context, tc *client.Client) error {
			return tc.EtcdRemoveMemberByID(ctx, &machine.EtcdRemoveMemberByIDRequest{MemberId: id})
		})
		if err == nil || status.Code(err) == codes.NotFound {
			return c.waitGone(ctx, name, via)
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name, shortErr(err)))
		if !isUnreachable(err) || ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("remove etcd member %s (%x): %w", name, id, errors.Join(errs...))
}

// waitGone waits until a witness lists the members without name.
func (c *Client) waitGone(ctx context.Context, name string, witnesses []Node) error {
	clk := c.clock()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	poll := c.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	deadline := clk.Now().Add(timeout)
	for {
		members, _, err := c.List(ctx, witnesses)
		if err == nil && !slices.ContainsFunc(members, func(m Member) bool { return m.Name == name }) {
			return nil
		}
		if clk.Now().After(deadline) {
			if err == nil {
				err = errors.New("it is still listed")
			}
			return fmt.Errorf("etcd member %s did not go within %s: %w", name, timeout, err)
		}
		if err := clk.Sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// isUnreachable reports whether err means the node's API did not answer at
// all (as opposed to answering with an error).
func isUnreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}

// shortErr strips the gRPC wrapping from err, keeping its message.
func shortErr(err error) error {
	if s, ok := status.FromError(err); ok && s.Message() != "" {
		return errors.New(s.Message())
	}
	return err
}
