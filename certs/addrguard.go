package certs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// The address guard. Whenever the service connects to an address it did not choose — the
// OCSP responders and CRL distribution points named in certificates — the IP address
// actually dialled (after DNS, for every redirect) must be a public unicast address
// (threats.md, "no SSRF"). This is the one place that decides what "public" means.

// nonPublic lists the ranges no fetch may reach, with what they are. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.
var nonPublic = []struct {
	prefix netip.Prefix
	what   string
}{
	// IPv4 (RFC 6890 and successors).
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (unspecified)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved and limited broadcast"},
	// IPv6 (RFC 6890, IANA special-purpose registry).
	{netip.MustParsePrefix("::/96"), "unspecified, loopback and IPv4-compatible"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 well-known prefix"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64 local use"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (ORCHID, AMT, benchmarking …)"},
	{netip.MustParsePrefix("2001::/32"), "Teredo (tunnels to any IPv4 address)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("2002::/16"), "6to4 (tunnels to any IPv4 address)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (SRv6) SIDs"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// PublicAddress reports whether the service may connect to addr on behalf of data it
// does not control: false for every range of nonPublic — loopback, private, shared
// address space, link-local, unique-local, site-local, multicast, broadcast, unspecified,
// documentation, benchmarking, NAT64 and the tunnelling prefixes — including their
// IPv4-mapped and IPv4-compatible forms, and for invalid addresses.
func PublicAddress(addr netip.Addr) bool { return nonPublicRange(addr) == "" }

// nonPublicRange names the range of nonPublic that addr falls in, "" for a public address.
func nonPublicRange(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid address"
	}
	addr = addr.WithZone("").Unmap()
	for _, r := range nonPublic {
		if r.prefix.Contains(addr) {
			return r.what
		}
	}
	return ""
}

// errRefused marks a connection the address guard refused.
var errRefused = errors.New("refusing to connect to a non-public address")

// guardDial is a net.Dialer's Control function: it sees the IP address actually dialled
// and refuses any that allowed rejects.
func guardDial(allowed func(netip.Addr) bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			host, _, serr := net.SplitHostPort(address)
			if serr != nil {
				return serr
			}
			return fmt.Errorf("%w (%s)", errRefused, host)
		}
		if !allowed(ap.Addr()) {
			return fmt.Errorf("%w (%s)", errRefused, ap.Addr())
		}
		return nil
	}
}
