package kubeapply

import (
	"fmt"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the server-side apply field manager every object is
// applied with unless Options says otherwise.
const FieldManager = "hcloud-k8s"

// Options configures an Applier. The zero value is usable.
type Options struct {
	// FieldManager owns the applied fields. Default FieldManager.
	FieldManager string
	// InventoryNamespace holds the inventory ConfigMaps. Default kube-system,
	// which exists from the API server's first start.
	InventoryNamespace string
	// EstablishTimeout bounds the wait for the set's CRDs to be Established.
	// Default 1 minute.
	EstablishTimeout time.Duration
	// HookTimeout bounds the wait for one Job or Pod hook to finish, as
	// Helm's --timeout does. Default 5 minutes.
	HookTimeout time.Duration
	// PollInterval is how often readiness is checked. Default 1 second.
	PollInterval time.Duration
	// Concurrency is how many dry-run applies run at once. Default 4.
	Concurrency int
}

func (o Options) withDefaults() Options {
	if o.FieldManager == "" {
		o.FieldManager = FieldManager
	}
	if o.InventoryNamespace == "" {
		o.InventoryNamespace = "kube-system"
	}
	if o.EstablishTimeout <= 0 {
		o.EstablishTimeout = time.Minute
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = 5 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	return o
}

// Applier applies Sets to one cluster. It is safe for use by one caller at
// a time per addon: two concurrent applies of the same addon would race on
// its inventory (the CLI's cluster lock, internal/lock, prevents that).
type Applier struct {
	opts   Options
	client client.Client
	mapper meta.RESTMapper
	ssa    *ssa.ResourceManager
}

// The client's rate limit unless the caller's configuration sets one.
const (
	clientQPS   = 100
	clientBurst = 200
)

// New returns an Applier talking to the API server cfg points at.
func New(cfg *rest.Config, opts Options) (*Applier, error) {
	opts = opts.withDefaults()
	// controller-runtime's default RESTMapper is lazy and re-reads discovery
	// when it meets an unknown kind, which is what lets a custom resource be
	// applied right after the CRD this same Apply created.
	rc := rest.CopyConfig(cfg)
	if rc.QPS == 0 && rc.RateLimiter == nil {
		// client-go's default of 5 requests a second would make an addon of
		// a few hundred objects (Cilium), each dry-run then applied, take
		// minutes; the API server's own priority and fairness protects it.
		rc.QPS, rc.Burst = clientQPS, clientBurst
	}
	c, err := client.New(rc, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("kubeapply: client for %s: %w", cfg.Host, err)
	}
	rm := ssa.NewResourceManager(c, nil, ssa.Owner{Field: opts.FieldManager, Group: labelDomain})
	rm.SetConcurrency(opts.Concurrency)
	return &Applier{opts: opts, client: c, mapper: c.RESTMapper(), ssa: rm}, nil
}
