// Package hcloudsim is a stateful, in-process simulator of the Hetzner Cloud
// API (https://api.hetzner.cloud/v1) for testing hcloud-k8s without Hetzner.
//
// It speaks the real wire format – request and response bodies are
// hcloud-go's hcloud/schema structs (v2.52.0) – so hcloud-go, the official
// hcloud CLI and hcloud-k8s talk to it unmodified via
// HCLOUD_ENDPOINT=http://127.0.0.1:PORT/v1 and HCLOUD_TOKEN. Start it with
// New + Start (listening on Options.Listen, 127.0.0.1:0 by default; it
// refuses non-loopback addresses) or run cmd/hcloud-sim; in tests use the
// simtest package, whose Env.Clock can be paused to observe running actions.
//
// # What is simulated
//
//   - Servers (create from system image by name/ID – names resolve per
//     architecture – or snapshot; power actions; shutdown via ACPI; rescue at
//     next boot; create_image; rebuild; change_type; networks; placement
//     groups; DNS PTR; protection; delete via delete_server action),
//     networks (subnets, routes, ip range, protection; conflict while a
//     change runs; delete_subnet refused while used and for SubnetRelease
//     after the last detach; delete auto-detaches as documented, or fails
//     with resource_in_use under Options.NetworkDeleteRequiresDetach),
//     firewalls (rules, server and label-selector targets, set_rules,
//     apply/remove, resource_in_use, pending→applied per server),
//     load balancers (services with health checks that really probe the
//     targets – see Health checks –, server/label_selector/ip targets,
//     use_private_ip, network, public interface, algorithm, type, DNS PTR,
//     protection, metrics, delete returning an action as of 2026-10-05),
//     placement groups (spread, at most 10 servers), floating IPs, primary
//     IPs (every server's public addresses are auto_delete primary IPs;
//     standalone ones can be created, assigned to off servers, used in
//     POST /servers public_net, and must be unassigned to delete), SSH keys
//     (unique name and fingerprint; public_key returned exactly as sent),
//     images (seeded system images, snapshots with labels), certificates
//     (uploaded, validated with crypto/x509; managed ones "issue" via an
//     action), volumes (resize only grows, up to 10240 GB), and the
//     read-only catalogue: locations, datacenters, server types with
//     per-location stock and one deprecated type, load balancer types,
//     pricing, a few public ISOs (GET /isos with name and architecture
//     filters).
//   - Server extras: enable_backup/disable_backup (backup_window set and
//     cleared; disabling deletes the server's backups), request_console
//     (a wss_url on 127.0.0.1:9 where nothing serves, and a password),
//     reset_password (root_password; the action fails unless the server
//     runs), change_alias_ips (inside the subnet of the server's IP, not
//     taken; replaces the set), and GET /servers/{id}/metrics and
//     /load_balancers/{id}/metrics: the documented series per type, step
//     widened to at most 200 samples by default and 500 when given, values
//     made up from the seed (deterministic) for the resource's lifetime.
//   - Everything that names a location, datacenter, server type, image or
//     load balancer type takes an ID or a name, also as a decimal string
//     ("location":"1", as hcloud-go sends an ID); the deprecated datacenter
//     of POST /servers and POST /primary_ips is accepted too.
//   - Actions: every mutation returns running actions that finish after a
//     simulated duration (LatencyModel, with seeded jitter), report linear
//     progress, carry simulated started/finished timestamps, lock their
//     resources (HTTP 423 locked) and stay queryable forever via GET
//     /actions?id=…&id=…, GET /actions/{id} and the per-resource lists.
//     next_actions (start_server, apply_firewall, attach_volume) chain
//     behind their parent and fail with it.
//   - Errors in the real envelope with the real codes; invalid_input carries
//     details.fields; unknown IDs are not_found so hcloud-go's GetByID
//     returns nil.
//   - Pagination (25 default, 50 max, meta.pagination with nulls), sort,
//     name and full label-selector filters (package labelselector).
//   - Rate limit: token bucket (default 3600, refill 1/s of simulated time)
//     with RateLimit-Limit/-Remaining/-Reset on every /v1 response and 429
//     rate_limit_exceeded when empty. Date tells the same simulated time the
//     reset is measured on.
//   - Addresses: public IPv4 upward from Options.PublicIPv4Start (127.0.1.1
//     by default; hcloud-sim and simtest start in a range they claimed with
//     the loopback package), never 127.0.0.1, so a client can dial a
//     simulated server; IPv6 /64s from 2001:db8::/32;
//     private IPs allocated inside subnets (explicit IPs must be in a subnet
//     and free; released IPs are quarantined for PrivateIPQuarantine).
//
// # Time
//
// The simulation is lazy and deterministic: every request first runs all
// events due by the current simulated time, in (time, sequence) order.
// Options.Speed scales simulated time against real time; Options.Clock
// accepts any clock.Clock, e.g. clock.Manual for step-by-step tests. The
// simulator's clock is also an internal/clock.Clock, so clients under test
// wait in simulated time; another process follows it through GET /_sim/clock
// (clock.FetchReplica).
// Randomness (jitter, IPs, passwords, faults) comes from a math/rand/v2 PCG
// seeded with Options.Seed.
//
// # Health checks
//
// Once Start has run, every load balancer service's health check (tcp, or
// http/https with path, domain, status codes and response) probes every
// target on the simulator's clock: due every interval of simulated time,
// a TCP connect or HTTP request with the check's timeout (scaled to real
// time, at least 250 ms). Each target server – each server a label
// selector matches, too – has its own status per listen port: unknown
// until `retries` results in a row agree, then healthy or unhealthy.
// Nothing but loopback is ever dialed: a server is probed on its public
// IPv4 (127.0.0.0/8), also for use_private_ip targets, whose private 10.x
// address is never dialed; servers without public IPv4 and IP targets
// outside loopback stay unknown; a server that is not running fails
// without a dial. A round of probes runs at most every 50 ms of real time;
// under a fast clock one probe answers for all checks due since the last.
// A test that wants a healthy target listens on the server's public IPv4.
//
// # Control endpoints (no token, never rate limited or faulted)
//
//	GET  /_sim/stats        request counts by "METHOD /v1/path/{template}"
//	POST /_sim/stats/reset  zero the counters
//	GET  /_sim/clock        simulated now, host time, speed, paused, start, elapsed seconds
//	GET  /_sim/faults       current Faults
//	PUT  /_sim/faults       replace Faults (JSON, durations as "250ms")
//
// The same is available in Go: Stats, ResetStats, Now, Elapsed, Faults,
// SetFaults, and ServerStates for fake nodes.
//
// # Faults
//
// Faults (Options.Faults, SetFaults, PUT /_sim/faults) inject 503
// service_error, 429 rate_limit_exceeded and 423 locked per request with a
// probability (optionally only on some route templates), slow responses
// (real-time delay), failed actions (by rate or the next N actions of a
// command; chained next_actions fail with their parent) and sold-out
// server types ("cx22", or "cx22@fsn1" for one location) or locations
// (create fails with resource_unavailable; the catalogue shows
// available=false).
//
// # Known gaps
//
//   - Not implemented (404 not_found): attach_iso/detach_iso, certificate
//     retry, and DNS zones beyond an empty project (GET /zones lists none,
//     GET /zones/{id} is not_found, nothing can be created). Backups are
//     never taken automatically; the console URL serves nothing.
//   - Disabled public IPv4/IPv6 render as empty objects instead of null.
//   - Firewall rules are stored, never enforced; load balancers do not
//     proxy traffic (their health checks do dial, see Health checks).
//     Metrics are invented, not measured. A simulator used only as an
//     http.Handler (New without Start) runs no health checks: statuses
//     stay unknown.
//   - Limits not enforced: 5 firewalls per server, 50 per project, 100
//     servers per network, per-project quotas other than ServerLimit
//     (which answers resource_limit_exceeded; the API has no documented
//     "server_limit_exceeded" code).
//   - Behaviour the references leave unverified is modelled on the strict
//     side: deleting a placement group with members or an attached volume
//     fails; change_protection requires delete == rebuild for servers;
//     the placement_error status code is 412.
//   - /datacenters is still served although the real endpoint is deprecated.
//   - Requests are serialised behind one mutex; list rendering is O(n) in
//     related objects, fine for thousands of resources, not for millions.
package hcloudsim
