package layout

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// CIDRSubnet is Terraform's cidrsubnet(prefix, newbits, netnum): it extends
// base by newbits bits and returns subnet number netnum of that size.
//
// As in Terraform, host bits set in base are ignored (10.0.0.5/16 behaves as
// 10.0.0.0/16), IPv4 and IPv6 are both supported, and the overflow errors use
// Terraform's wording. Unlike Terraform, whose results for negative arguments
// are undefined, a negative newbits or netnum is an error.
func CIDRSubnet(base netip.Prefix, newbits int, netnum int64) (netip.Prefix, error) {
	return CIDRSubnetBig(base, newbits, big.NewInt(netnum))
}

// CIDRSubnetBig is CIDRSubnet with an arbitrarily large network number, for
// IPv6 prefixes extended by more than 63 bits.
func CIDRSubnetBig(base netip.Prefix, newbits int, netnum *big.Int) (netip.Prefix, error) {
	addrLen, err := cidrBits(base)
	if err != nil {
		return netip.Prefix{}, err
	}
	if netnum == nil {
		return netip.Prefix{}, errors.New("cidrsubnet: netnum is nil")
	}
	parentLen := base.Bits()
	if newbits < 0 {
		return netip.Prefix{}, fmt.Errorf("cidrsubnet: newbits must not be negative, got %d", newbits)
	}
	// Written as a subtraction so that a huge newbits cannot overflow.
	if newbits > addrLen-parentLen {
		return netip.Prefix{}, fmt.Errorf("insufficient address space to extend prefix of %d by %d", parentLen, newbits)
	}
	if netnum.Sign() < 0 {
		return netip.Prefix{}, fmt.Errorf("cidrsubnet: netnum must not be negative, got %s", netnum)
	}
	limit := new(big.Int).Lsh(big.NewInt(1), uint(newbits))
	if netnum.Cmp(limit) >= 0 {
		return netip.Prefix{}, fmt.Errorf("prefix extension of %d does not accommodate a subnet numbered %s", newbits, netnum)
	}
	newLen := parentLen + newbits
	n := addrToInt(base.Masked().Addr())
	n.Or(n, new(big.Int).Lsh(netnum, uint(addrLen-newLen)))
	return netip.PrefixFrom(intToAddr(n, base.Addr().Is4()), newLen), nil
}

// CIDRHost is Terraform's cidrhost(prefix, hostnum): host number hostnum
// within p. A negative hostnum counts back from the end of the range:
// -1 is the last (broadcast) address, -2 the one before it, and -2^k for a
// prefix with k host bits is the network address. Host bits set in p are
// ignored, as in Terraform.
func CIDRHost(p netip.Prefix, hostnum int64) (netip.Addr, error) {
	return CIDRHostBig(p, big.NewInt(hostnum))
}

// CIDRHostBig is CIDRHost with an arbitrarily large host number, for IPv6.
func CIDRHostBig(p netip.Prefix, hostnum *big.Int) (netip.Addr, error) {
	addrLen, err := cidrBits(p)
	if err != nil {
		return netip.Addr{}, err
	}
	if hostnum == nil {
		return netip.Addr{}, errors.New("cidrhost: hostnum is nil")
	}
	hostLen := addrLen - p.Bits()
	maxHost := new(big.Int).Lsh(big.NewInt(1), uint(hostLen))
	maxHost.Sub(maxHost, big.NewInt(1))

	num := new(big.Int).Set(hostnum)
	if num.Sign() < 0 {
		// Terraform (go-cidr HostBig): -n is host max-(n-1).
		back := new(big.Int).Neg(num)
		back.Sub(back, big.NewInt(1))
		if back.Cmp(maxHost) > 0 {
			return netip.Addr{}, fmt.Errorf("prefix of %d does not accommodate a host numbered %s", p.Bits(), hostnum)
		}
		num.Sub(maxHost, back)
	} else if num.Cmp(maxHost) > 0 {
		return netip.Addr{}, fmt.Errorf("prefix of %d does not accommodate a host numbered %s", p.Bits(), hostnum)
	}
	n := addrToInt(p.Masked().Addr())
	n.Or(n, num)
	return intToAddr(n, p.Addr().Is4()), nil
}

// cidrBits validates p for the CIDR functions and returns its address length
// in bits. IPv4-mapped IPv6 prefixes are rejected: Terraform mixes 32- and
// 128-bit arithmetic for them and produces malformed results.
func cidrBits(p netip.Prefix) (int, error) {
	if !p.IsValid() {
		return 0, fmt.Errorf("invalid CIDR prefix %s", p)
	}
	if p.Addr().Is4In6() {
		return 0, fmt.Errorf("IPv4-mapped IPv6 prefix %s is not supported; use the plain IPv4 form", p)
	}
	return p.Addr().BitLen(), nil
}

func addrToInt(a netip.Addr) *big.Int {
	return new(big.Int).SetBytes(a.AsSlice())
}

// intToAddr converts n, which the callers guarantee to fit, back to an
// address of the given family.
func intToAddr(n *big.Int, is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		n.FillBytes(b[:])
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	n.FillBytes(b[:])
	return netip.AddrFrom16(b)
}
