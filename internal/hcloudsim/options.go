package hcloudsim

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
)

// Options configures a simulator. The zero value is usable: a random token,
// real-time speed, seed 1, the default latency model and the real rate limit.
type Options struct {
	// Listen is the loopback address Start listens on (default
	// "127.0.0.1:0", a random free port). Non-loopback addresses are refused.
	Listen string
	// Token is the bearer token clients must send; random when empty.
	Token string
	// Speed makes simulated time run Speed times faster than real time
	// (default 1). Ignored when Clock is set.
	Speed float64
	// Clock overrides the time source, e.g. a *clock.Manual in tests.
	Clock clock.Clock
	// Epoch is the simulated start time (default: the real time at New).
	Epoch time.Time
	// Seed seeds every random decision (jitter, IPs, passwords, faults).
	Seed uint64
	// Latency sets how long actions take in simulated time; zero fields
	// fall back to DefaultLatency.
	Latency LatencyModel
	// RateLimit configures the API token bucket.
	RateLimit RateLimitOptions
	// Faults configures fault injection; it can be changed later with
	// SetFaults or PUT /_sim/faults.
	Faults Faults
	// DefaultPerPage overrides the API's default page size (25); a small
	// value makes multi-page bugs surface. Capped at MaxPerPage.
	DefaultPerPage int
	// ServerLimit is the project's server quota; 0 means unlimited.
	ServerLimit int
	// NetworkDeleteRequiresDetach makes DELETE /networks/{id} fail with
	// resource_in_use while servers or load balancers are attached. The
	// API documentation says attached resources are detached automatically,
	// which is the default.
	NetworkDeleteRequiresDetach bool
	// IgnoreACPIShutdown models a guest OS that ignores ACPI: the shutdown
	// action succeeds but the server keeps running.
	IgnoreACPIShutdown bool
	// Log receives one line per request when set.
	Log io.Writer
	// PublicIPv4Start is the address before the first public IPv4 handed out
	// (default 127.0.1.0). It must lie in 127.0.0.0/8. Simulators that run at the
	// same time on one machine (parallel test processes) need different ranges,
	// because fake nodes listen on these addresses.
	PublicIPv4Start netip.Addr
}

func (o Options) publicV4Start() netip.Addr {
	if o.PublicIPv4Start.Is4() && o.PublicIPv4Start.As4()[0] == 127 {
		return o.PublicIPv4Start
	}
	return netip.MustParseAddr("127.0.1.0")
}

// RateLimitOptions configures the token bucket every /v1 request draws from.
type RateLimitOptions struct {
	// Disabled turns rate limiting (and its 429s) off; headers are still sent.
	Disabled bool
	// Limit is the bucket capacity (default 3600 requests).
	Limit int
	// RefillPerSecond is the number of requests regained per simulated
	// second (default 1).
	RefillPerSecond float64
}

// LatencyModel lists how long operations take in simulated time. Defaults
// follow public observations (server from a stock image ~20 s to running,
// snapshots 1–3 min depending on disk size).
type LatencyModel struct {
	ServerCreate             time.Duration // create_server from a system image, status initializing
	ServerCreateFromSnapshot time.Duration // extra base time when the image is a snapshot
	SnapshotRestorePerGB     time.Duration // extra time per GB of snapshot image size
	ServerBoot               time.Duration // start_server: starting → running
	ServerPowerOff           time.Duration // stop_server (hard)
	ServerShutdown           time.Duration // shutdown_server action (ACPI signal)
	ServerACPIOff            time.Duration // after shutdown_server until status off
	ServerReboot             time.Duration // reboot_server / reset_server
	ServerDelete             time.Duration // delete_server
	ServerRebuild            time.Duration // rebuild_server
	ServerChangeType         time.Duration // change_server_type
	Rescue                   time.Duration // enable_rescue / disable_rescue
	SnapshotBase             time.Duration // create_image fixed part
	SnapshotPerGB            time.Duration // create_image per GB of server disk
	NetworkAttach            time.Duration // attach/detach_from_network
	NetworkChange            time.Duration // subnet/route/ip range changes
	SubnetRelease            time.Duration // delete_subnet keeps failing this long after the last detach
	PrivateIPQuarantine      time.Duration // a released private IP is not reusable this long
	FirewallApply            time.Duration // apply_firewall / remove_firewall / set_firewall_rules
	LoadBalancerCreate       time.Duration // create_load_balancer
	LoadBalancerChange       time.Duration // LB targets, services, network, type, algorithm
	FloatingIPAssign         time.Duration // assign/unassign
	VolumeCreate             time.Duration // create_volume
	VolumeAttach             time.Duration // attach/detach_volume
	VolumeResize             time.Duration // resize_volume
	Quick                    time.Duration // metadata changes: protection, dns ptr, placement group, algorithm
	// Jitter is the relative spread applied to every duration (0.1 = ±10%),
	// drawn from the seeded random source.
	Jitter float64
}

// DefaultLatency returns realistic durations for every operation.
func DefaultLatency() LatencyModel {
	return LatencyModel{
		ServerCreate:             12 * time.Second,
		ServerCreateFromSnapshot: 20 * time.Second,
		SnapshotRestorePerGB:     2 * time.Second,
		ServerBoot:               8 * time.Second,
		ServerPowerOff:           3 * time.Second,
		ServerShutdown:           2 * time.Second,
		ServerACPIOff:            8 * time.Second,
		ServerReboot:             10 * time.Second,
		ServerDelete:             5 * time.Second,
		ServerRebuild:            40 * time.Second,
		ServerChangeType:         60 * time.Second,
		Rescue:                   3 * time.Second,
		SnapshotBase:             45 * time.Second,
		SnapshotPerGB:            750 * time.Millisecond,
		NetworkAttach:            4 * time.Second,
		NetworkChange:            2 * time.Second,
		SubnetRelease:            10 * time.Second,
		PrivateIPQuarantine:      60 * time.Second,
		FirewallApply:            3 * time.Second,
		LoadBalancerCreate:       15 * time.Second,
		LoadBalancerChange:       3 * time.Second,
		FloatingIPAssign:         3 * time.Second,
		VolumeCreate:             5 * time.Second,
		VolumeAttach:             4 * time.Second,
		VolumeResize:             5 * time.Second,
		Quick:                    1 * time.Second,
		Jitter:                   0.1,
	}
}

// withDefaults fills zero durations from DefaultLatency; a negative duration
// means "instant" so callers can switch single delays off.
func (l LatencyModel) withDefaults() LatencyModel {
	d := DefaultLatency()
	fill := func(v *time.Duration, def time.Duration) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	fill(&l.ServerCreate, d.ServerCreate)
	fill(&l.ServerCreateFromSnapshot, d.ServerCreateFromSnapshot)
	fill(&l.SnapshotRestorePerGB, d.SnapshotRestorePerGB)
	fill(&l.ServerBoot, d.ServerBoot)
	fill(&l.ServerPowerOff, d.ServerPowerOff)
	fill(&l.ServerShutdown, d.ServerShutdown)
	fill(&l.ServerACPIOff, d.ServerACPIOff)
	fill(&l.ServerReboot, d.ServerReboot)
	fill(&l.ServerDelete, d.ServerDelete)
	fill(&l.ServerRebuild, d.ServerRebuild)
	fill(&l.ServerChangeType, d.ServerChangeType)
	fill(&l.Rescue, d.Rescue)
	fill(&l.SnapshotBase, d.SnapshotBase)
	fill(&l.SnapshotPerGB, d.SnapshotPerGB)
	fill(&l.NetworkAttach, d.NetworkAttach)
	fill(&l.NetworkChange, d.NetworkChange)
	fill(&l.SubnetRelease, d.SubnetRelease)
	fill(&l.PrivateIPQuarantine, d.PrivateIPQuarantine)
	fill(&l.FirewallApply, d.FirewallApply)
	fill(&l.LoadBalancerCreate, d.LoadBalancerCreate)
	fill(&l.LoadBalancerChange, d.LoadBalancerChange)
	fill(&l.FloatingIPAssign, d.FloatingIPAssign)
	fill(&l.VolumeCreate, d.VolumeCreate)
	fill(&l.VolumeAttach, d.VolumeAttach)
	fill(&l.VolumeResize, d.VolumeResize)
	fill(&l.Quick, d.Quick)
	if l.Jitter < 0 {
		l.Jitter = 0
	}
	return l
}

// Faults configures deterministic, seeded fault injection. Rates are
// probabilities in [0,1] drawn per request (or per action) from the seeded
// random source. Faults never apply to /_sim endpoints.
type Faults struct {
	// Routes restricts the per-request faults (service error, rate limit,
	// locked, slow) to these route templates, e.g. "POST /v1/servers" or
	// "GET /v1/actions"; empty means every /v1 route.
	Routes []string `json:"routes,omitempty"`
	// ServiceErrorRate answers a /v1 request with 503 service_error.
	ServiceErrorRate float64 `json:"service_error_rate"`
	// RateLimitRate answers a /v1 request with 429 rate_limit_exceeded.
	RateLimitRate float64 `json:"rate_limit_rate"`
	// LockedRate answers a mutating /v1 request with 423 locked.
	LockedRate float64 `json:"locked_rate"`
	// ActionErrorRate makes a newly started action end with status error.
	ActionErrorRate float64 `json:"action_error_rate"`
	// FailCommands makes the next N actions of a command fail, e.g.
	// {"create_server": 1}; counts are consumed.
	FailCommands map[string]int `json:"fail_commands,omitempty"`
	// SlowRate delays a /v1 response by SlowLatency of real time.
	SlowRate float64 `json:"slow_rate"`
	// SlowLatency is the real-time delay of a slow response.
	SlowLatency Duration `json:"slow_latency"`
	// UnavailableServerTypes are sold out: "cx22" everywhere, "cx22@fsn1"
	// in one location. Create fails with resource_unavailable and the
	// catalogue reports available=false.
	UnavailableServerTypes []string `json:"unavailable_server_types,omitempty"`
	// UnavailableLocations cannot provision any server.
	UnavailableLocations []string `json:"unavailable_locations,omitempty"`
	// SoldOutUnannounced ("cx22", "cx22@fsn1") fail create with
	// resource_unavailable while the catalogue still says available: stock
	// that ran out between a plan's look at the catalogue and the create,
	// which a pre-flight check cannot see coming.
	SoldOutUnannounced []string `json:"sold_out_unannounced,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("250ms") so /_sim/faults is easy to use with curl.
type Duration time.Duration

// MarshalJSON encodes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON accepts a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("duration %s: %w", s, err)
	}
	*d = Duration(n)
	return nil
}
