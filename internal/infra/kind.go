package infra

import (
	"context"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// kindOps is everything infra knows about one kind of Hetzner resource. Each kind
// has a file of its own (network.go, server.go, ...) and one line in kinds below;
// the planner, the executor, destroy and plan output only ever look a kind up here,
// so adding a kind touches nothing else (docs/architecture.md, "resource kinds").
//
// What only some kinds can do is an optional interface below (finder, labeller,
// protector, ...): a kind that does not implement one simply cannot do that.
type kindOps interface {
	// about returns the kind's fixed facts.
	about() kindInfo
	// observe adds the resources of this kind that the cloud inventory holds to s.
	// Kinds are observed in plan order, so a kind sees those before it in s.
	observe(s *State, c *Cloud)
	// create makes d in Hetzner; a name that is taken is adopted (see run.adopt).
	create(ctx context.Context, r *run, d *Resource) error
	// remove sends the delete request for o; the action it returns (nil for none)
	// is waited for.
	remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error)
}

// kindInfo is what a kind is, as opposed to what it does.
type kindInfo struct {
	kind  Kind
	title string // as people write it: "SSH key", "load balancer"
	order int    // plans list and create kinds in this order, dependencies first
	// quiet kinds are not reported as unmanaged when they are neither desired
	// nor deletable: apply never deletes them, and saying so would be noise.
	quiet bool
	// destroyAfter are the kinds destroy deletes before this one (what uses it).
	destroyAfter []Kind
	// destroyLast puts the kind after every other one in a destroy.
	destroyLast bool
}

// comparer records what differs between the desired d and the observed o, beyond
// the labels every kind compares: the updates that fix it in place and the problems
// that cannot be fixed.
type comparer interface {
	compare(c *comparison, d, o *Resource)
}

// deleteReasoner says why a resource the plan deletes goes, when "no longer
// in the cluster file" is not all there is to say.
type deleteReasoner interface {
	deleteReason(p *Plan, o *Resource) string
}

// finder looks a resource up by name, for adopting one whose create found the name
// taken: it appends what it finds to c.
type finder interface {
	find(ctx context.Context, api *hcloud.Client, name string, c *Cloud) error
}

// labeller replaces a resource's labels.
type labeller interface {
	setLabels(ctx context.Context, api *hcloud.Client, id int64, labels map[string]string) error
}

// protector switches delete protection.
type protector interface {
	protect(ctx context.Context, api *hcloud.Client, id int64, on bool) (*hcloud.Action, error)
}

// pointerSetter sets the reverse DNS record of one of a resource's public addresses.
type pointerSetter interface {
	setPTR(ctx context.Context, api *hcloud.Client, id int64, ip, ptr string) (*hcloud.Action, error)
}

// preparer does what must happen before a resource can be deleted.
type preparer interface {
	beforeRemove(ctx context.Context, r *run, o *Resource) error
}

// referrer lists the resources r needs to exist: creates wait for them, and
// deletes of them wait for r.
type referrer interface {
	references(r *Resource) []Ref
}

// pruner says whether apply may delete an observed resource that is no longer
// desired; kinds that are not pruners are never deleted by apply.
type pruner interface {
	deletable(desired *State, o *Resource) bool
}

// destroySparer keeps resources destroy must leave even though they carry the
// cluster label.
type destroySparer interface {
	spareOnDestroy(s destroyScope, o *Resource) bool
}

// placer says what a create asks Hetzner to place ("cpx31 in fsn1"): what a
// capacity or limit failure is about.
type placer interface {
	placement(d *Resource) string
}

// describer writes a resource for people, when "<title> <name>" says too little.
type describer interface {
	describe(r *Resource) string
}

// reasoner explains why a create is planned, when "does not exist yet" says too
// little.
type reasoner interface {
	createReason(d *Resource) string
}

// attributer lists a resource's key attributes for plan output.
type attributer interface {
	attributes(r *Resource) map[string]any
}

// kinds is the registry: every kind infra handles, each with its table.
var kinds = registry(
	networkKind{}, subnetKind{}, firewallKind{}, sshKeyKind{}, placementGroupKind{},
	serverKind{}, loadBalancerKind{}, floatingIPKind{}, volumeKind{}, certificateKind{},
)

// kindRegistry holds the kinds by name and in plan order.
type kindRegistry struct {
	byKind  map[Kind]kindOps
	ordered []kindOps
}

func registry(ops ...kindOps) kindRegistry {
	reg := kindRegistry{byKind: map[Kind]kindOps{}}
	for _, k := range ops {
		info := k.about()
		if _, dup := reg.byKind[info.kind]; dup {
			panic(fmt.Sprintf("infra: kind %s registered twice", info.kind))
		}
		reg.byKind[info.kind] = k
		reg.ordered = append(reg.ordered, k)
	}
	for i := 1; i < len(reg.ordered); i++ {
		if reg.ordered[i-1].about().order >= reg.ordered[i].about().order {
			panic("infra: kinds must be registered in plan order")
		}
	}
	return reg
}

// ops returns the table of kind k, or nil for a kind infra does not know.
func (reg kindRegistry) ops(k Kind) kindOps { return reg.byKind[k] }

// info returns the facts of kind k; an unknown kind has none but its name and
// sorts last.
func (reg kindRegistry) info(k Kind) kindInfo {
	if ops := reg.ops(k); ops != nil {
		return ops.about()
	}
	return kindInfo{kind: k, title: string(k), order: len(reg.ordered) + 100}
}

// order ranks k among the kinds.
func (reg kindRegistry) order(k Kind) int { return reg.info(k).order }
