package outbound

import "net/netip"

// special is an address range a domain-owned URL may not reach, with the word
// the refusal uses for it.
type special struct {
	prefix netip.Prefix
	what   string
}

// specials are the ranges that are not (or not only) the public internet,
// from the IANA special-purpose registries (RFC 6890 and updates). The first
// match names the reason, so more specific ranges come first. IPv4 entries
// are matched against unmapped addresses only: the guard unmaps
// ::ffff:a.b.c.d before looking.
var specials = []special{
	// IPv4
	{mustPrefix("0.0.0.0/8"), "unspecified (0.0.0.0/8, \"this network\")"},
	{mustPrefix("127.0.0.0/8"), "loopback"},
	{mustPrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{mustPrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{mustPrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{mustPrefix("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"},
	{mustPrefix("169.254.0.0/16"), "link-local"},
	{mustPrefix("192.0.0.0/24"), "IETF protocol assignment (192.0.0.0/24)"},
	{mustPrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{mustPrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{mustPrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{mustPrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{mustPrefix("224.0.0.0/4"), "multicast"},
	{mustPrefix("255.255.255.255/32"), "broadcast"},
	{mustPrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},

	// IPv6
	{mustPrefix("::/128"), "unspecified"},
	{mustPrefix("::1/128"), "loopback"},
	{mustPrefix("fe80::/10"), "link-local"},
	{mustPrefix("fc00::/7"), "unique-local (fc00::/7)"},
	{mustPrefix("ff00::/8"), "multicast"},
	{mustPrefix("100::/64"), "discard-only (100::/64)"},
	{mustPrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	{mustPrefix("64:ff9b:1::/48"), "local-use NAT64 (64:ff9b:1::/48)"},
	{mustPrefix("fec0::/10"), "site-local (deprecated, fec0::/10)"},
}

// metadata are the cloud instance-metadata endpoints. They hand out
// credentials to whoever asks from inside the instance, which makes them the
// first target of SSRF, so a broad allow entry (169.254.0.0/16, fc00::/7)
// does not open them: only an entry for exactly the address does.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, DigitalOcean, …
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata and credentials
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer (a public address)
}

// Prefixes that carry an IPv4 address inside an IPv6 one, which a router
// then reaches over IPv4: 2002:AABB:CCDD::/48 is AA.BB.CC.DD by 6to4, and
// 64:ff9b::AABB:CCDD by the NAT64 well-known prefix (RFC 6052). An embedded
// 10.0.0.1 is as private as the plain one.
var (
	sixToFour = mustPrefix("2002::/16")
	nat64     = mustPrefix("64:ff9b::/96")
	v4Compat  = mustPrefix("::/96") // deprecated IPv4-compatible, ::a.b.c.d
)

// classify names why a (zone-less, unmapped) address is not public, or
// returns "" if it is. exact reports that only an allow entry for exactly
// the address lifts the refusal; via is the IPv4 address the reason was
// found in when a is an IPv6 address embedding it.
func classify(a netip.Addr) (what string, exact bool, via netip.Addr) {
	for _, m := range metadata {
		if a == m {
			return "cloud metadata", true, netip.Addr{}
		}
	}
	for _, s := range specials {
		if s.prefix.Contains(a) {
			return s.what, false, netip.Addr{}
		}
	}
	if v4, ok := embeddedV4(a); ok {
		if what, exact, _ := classify(v4); what != "" {
			return what, exact, v4
		}
	}
	return "", false, netip.Addr{}
}

// embeddedV4 extracts the IPv4 address carried by a 6to4, NAT64 or
// IPv4-compatible IPv6 address.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case nat64.Contains(a), v4Compat.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	}
	return netip.Addr{}, false
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
