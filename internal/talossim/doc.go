// Package talossim fakes Talos nodes for tests and the local demo: each Node
// serves the Talos machine API (apid + machined) on "<ip>:50000" the way a
// booted Hetzner server running Talos does, and the real Talos client
// (github.com/siderolabs/talos/pkg/machinery/client) talks to it unchanged.
// Production code never imports it.
//
// # TLS and roles like apid
//
// Without a configuration the node is in maintenance mode: a self-signed
// certificate, no client certificate asked for, every caller treated as
// os:reader, and ApplyConfiguration additionally allowed. Once configured it
// serves a certificate issued by the config's OS CA (machine.ca; workers get
// theirs signed with the CA key a control plane of the same Cluster knows,
// as trustd would) with the node's IPs and machine.certSANs, requires client
// certificates from machine.ca/acceptedCAs and authorises by the certificate's
// Organization (os:admin, os:operator, os:reader, os:etcd:backup), answering
// PermissionDenied "not authorized" otherwise.
//
// # Lifecycle
//
//	off --Start--> booting --(Timings.Boot)--> maintenance | running
//	maintenance --ApplyConfiguration--> installing --(Install+Reboot, Boot)--> running
//	running --Reboot/REBOOT apply--> rebooting --(Reboot, Boot)--> running
//	running --Upgrade--> upgrading --(Upgrade+Reboot, Boot)--> running (new version)
//	running --Reset--> resetting --> booting (reboot) | off (OnPowerOff)
//	any --Stop--> off
//
// The API is only reachable in maintenance and running; in every other state
// the listener is closed. Durations are simulated time on the node's Clock
// (an internal/clock.Clock): the Hetzner simulator's clock.Manual for
// step-by-step tests, the simulator's own clock to share its time, the wall
// clock otherwise.
//
// # Cluster
//
// A Cluster is shared by the nodes of one Talos cluster. It owns the etcd
// membership (bootstrap once, members in join order, leader, quorum) and the
// hooks an integration uses (OnBootstrap to start the kube-apiserver,
// OnMemberJoin/Leave, OnConfigApplied, OnStateChange).
//
// # Wiring to the Hetzner simulator
//
// Create one Node per server with Addr = "<public IPv4>:50000", Hostname =
// server name, UserData returning the server's user_data, the cluster's
// Cluster and the simulator's clock (sim.Clock()). Call Start when the
// server powers on (create with start_after_create, poweron, reboot after
// Stop), Stop when it powers off/resets/is deleted, Wipe on rebuild, and
// power the server off in the simulator from OnPowerOff.
package talossim
