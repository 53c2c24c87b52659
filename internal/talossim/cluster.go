package talossim

import (
	"fmt"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"hash/fnv"
	"slices"
	"sync"
)

// EtcdMember is one member of a simulated cluster's etcd.
type EtcdMember struct {
	ID         uint64
	Hostname   string
	PeerURLs   []string
	ClientURLs []string
	node       *Node
}

// Node returns the fake node that runs this member (nil after the node was
// forgotten by the cluster).
func (m EtcdMember) Node() *Node { return m.node }

// ClusterHooks are callbacks for the integration around the fake nodes. They
// are called without locks held, from the goroutine that caused the event; a
// hook that needs long (starting a kube-apiserver) should start its own
// goroutine.
type ClusterHooks struct {
	// OnBootstrap runs after a control plane was bootstrapped successfully
	// (the place to start the cluster's kube-apiserver).
	OnBootstrap func(n *Node)
	// OnMemberJoin runs when a node's etcd member joined (including the
	// bootstrap member).
	OnMemberJoin func(n *Node, m EtcdMember)
	// OnMemberLeave runs when a member was removed (EtcdLeaveCluster,
	// EtcdRemoveMemberByID, graceful reset). n is nil when the member's node
	// is unknown.
	OnMemberLeave func(n *Node, m EtcdMember)
	// OnConfigApplied runs when a node accepted a configuration (any mode but
	// dry run) with the mode actually chosen.
	OnConfigApplied func(n *Node, mode string)
	// OnStateChange runs after every lifecycle state change of a node.
	OnStateChange func(n *Node, s State)
}

// Cluster models what is shared between the nodes of one Talos cluster: the
// etcd membership (bootstrap once, members, leader). Create one per simulated
// cluster and pass it to every node of that cluster.
type Cluster struct {
	Name string

	mu           sync.Mutex
	hooks        ClusterHooks
	bootstrapped bool
	bootstrapper *Node
	members      []*EtcdMember // in join order
	leader       uint64
	nodes        []*Node
	seq          uint64
	osCAKeys     map[string][]byte // OS CA certificate PEM -> key PEM (trustd's knowledge)
}

// NewCluster returns an empty, not bootstrapped cluster.
func NewCluster(name string) *Cluster { return &Cluster{Name: name} }

// SetHooks replaces the cluster's hooks.
func (c *Cluster) SetHooks(h ClusterHooks) {
	c.mu.Lock()
	c.hooks = h
	c.mu.Unlock()
}

func (c *Cluster) getHooks() ClusterHooks {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hooks
}

// Bootstrapped reports whether Bootstrap succeeded on one of the nodes.
func (c *Cluster) Bootstrapped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bootstrapped
}

// Bootstrapper returns the node Bootstrap succeeded on (nil before).
func (c *Cluster) Bootstrapper() *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bootstrapper
}

// Members returns a copy of the etcd members in join order.
func (c *Cluster) Members() []EtcdMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]EtcdMember, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, *m)
	}
	return out
}

// Leader returns the ID of the etcd leader (0 when there are no members).
func (c *Cluster) Leader() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// Nodes returns the nodes registered with the cluster.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

func (c *Cluster) register(n *Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.nodes, n) {
		c.nodes = append(c.nodes, n)
	}
}

func (c *Cluster) memberOf(n *Node) *EtcdMember {
	for _, m := range c.members {
		if m.node == n {
			return m
		}
	}
	return nil
}

// MemberOf returns the etcd member run by n.
func (c *Cluster) MemberOf(n *Node) (EtcdMember, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.memberOf(n); m != nil {
		return *m, true
	}
	return EtcdMember{}, false
}

func (c *Cluster) newMemberLocked(n *Node) *EtcdMember {
	c.seq++
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", c.Name, n.Hostname(), c.seq)
	id := h.Sum64()
	if id == 0 {
		id = 1
	}
	ip := n.IP()
	return &EtcdMember{
		ID:         id,
		Hostname:   n.Hostname(),
		PeerURLs:   []string{fmt.Sprintf("https://%s:2380", ip)},
		ClientURLs: []string{fmt.Sprintf("https://%s:2379", ip)},
		node:       n,
	}
}

// bootstrap makes n the first etcd member. ok is false when the cluster was
// already bootstrapped.
func (c *Cluster) bootstrap(n *Node) (m EtcdMember, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bootstrapped {
		return EtcdMember{}, false
	}
	c.bootstrapped = true
	c.bootstrapper = n
	mem := c.newMemberLocked(n)
	c.members = append(c.members, mem)
	c.leader = mem.ID
	return *mem, true
}

// join adds n as a member if the cluster is bootstrapped and n is not one.
func (c *Cluster) join(n *Node) (EtcdMember, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.bootstrapped || c.memberOf(n) != nil {
		return EtcdMember{}, false
	}
	mem := c.newMemberLocked(n)
	c.members = append(c.members, mem)
	if c.leader == 0 {
		c.leader = mem.ID
	}
	return *mem, true
}

// healthyLocked reports whether the member's node runs etcd.
func healthy(m *EtcdMember) bool {
	return m.node != nil && m.node.etcdRunning()
}

// quorumLocked reports whether a majority of members is healthy.
func (c *Cluster) quorumLocked() bool {
	if len(c.members) == 0 {
		return false
	}
	up := 0
	for _, m := range c.members {
		if healthy(m) {
			up++
		}
	}
	return up >= len(c.members)/2+1
}

// readyToRemoveLocked mirrors etcd's strict reconfiguration check
// (IsReadyToRemoveVotingMember): the remaining members must keep quorum.
func (c *Cluster) readyToRemoveLocked(id uint64) bool {
	n, started := 0, 0
	for _, m := range c.members {
		if m.ID == id {
			continue
		}
		n++
		if healthy(m) {
			started++
		}
	}
	return started >= n/2+1
}

var (
	errMemberNotFound       = fmt.Errorf("etcdserver: member not found")
	errNotEnoughStarted     = fmt.Errorf("etcdserver: re-configuration failed due to not enough started members")
	errNoLeader             = fmt.Errorf("etcdserver: no leader")
	errOnlyOneMemberForfeit = fmt.Errorf("cannot forfeit leadership, only one member")
)

// remove removes the member id, like etcd's MemberRemove.
func (c *Cluster) remove(id uint64) (EtcdMember, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := slices.IndexFunc(c.members, func(m *EtcdMember) bool { return m.ID == id })
	if idx < 0 {
		return EtcdMember{}, errMemberNotFound
	}
	if !c.readyToRemoveLocked(id) {
		return EtcdMember{}, errNotEnoughStarted
	}
	m := *c.members[idx]
	c.members = slices.Delete(c.members, idx, idx+1)
	if c.leader == id {
		c.leader = 0
		for _, o := range c.members {
			if healthy(o) {
				c.leader = o.ID
				break
			}
		}
		if c.leader == 0 && len(c.members) > 0 {
			c.leader = c.members[0].ID
		}
	}
	return m, nil
}

// forfeit moves leadership away from n's member; it returns the new leader's
// name, or "" when n was not the leader.
func (c *Cluster) forfeit(n *Node) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	me := c.memberOf(n)
	if len(c.members) == 1 {
		return "", errOnlyOneMemberForfeit
	}
	if me == nil {
		return "", fmt.Errorf("failed to find %q in list of etcd members", n.Hostname())
	}
	if c.leader != me.ID {
		return "", nil
	}
	for _, m := range c.members {
		if m.ID != me.ID && healthy(m) {
			c.leader = m.ID
			return m.Hostname, nil
		}
	}
	return "", errNoLeader
}

// learnCA records the OS CA key of a control plane configuration, so that
// workers (whose configs carry only the CA certificate) can get their apid
// certificate signed, as trustd does for them.
func (c *Cluster) learnCA(cfg config.Provider) {
	if cfg == nil || !cfg.Machine().Type().IsControlPlane() {
		return
	}
	ca := cfg.Machine().Security().IssuingCA()
	if ca == nil || len(ca.Crt) == 0 || len(ca.Key) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.osCAKeys == nil {
		c.osCAKeys = map[string][]byte{}
	}
	c.osCAKeys[string(ca.Crt)] = ca.Key
}

func (c *Cluster) caKey(crt []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.osCAKeys[string(crt)]
}
