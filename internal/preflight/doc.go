// Package preflight checks a plan against what Hetzner can deliver before
// apply writes anything: whether each new server's type exists, is not
// deprecated and is in stock where it is to be created, whether its
// architecture matches the Talos snapshot it boots, whether load balancer
// types and locations exist, and whether the limits the API is known to
// enforce leave room (docs/preflight.md).
//
// Without these checks a sold-out or misspelled server type fails apply after
// the network, firewall, placement groups and the first servers exist: paid
// resources left behind by a refusal that plan could have given.
//
// It also places the new servers of pools that name fallbackLocations: the
// first location, in the pool's order, where the type is in stock.
package preflight
