package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by every refusal of a [Guard], so callers can tell a
// blocked address from a receiver that is down:
//
//	if errors.Is(err, outbound.ErrRefused) { … }
var ErrRefused = errors.New("address refused by the SSRF guard")

// Guard refuses connections to addresses that are not on the public internet
// (loopback, private, link-local, cloud metadata, …), unless an allow prefix
// contains them. It protects the operator's network from URLs that domain
// owners configure.
//
//	g := outbound.NewGuard(allow)
//	c := outbound.New(outbound.Options{Guard: g})
//
// # Notes
//
//   - The check runs in [net.Dialer]'s Control hook, on the IP address being
//     dialled after DNS resolution, for every address tried. Checking the
//     URL's host name, or resolving it beforehand, would leave a window in
//     which the name can resolve differently (DNS rebinding).
//   - IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged as the IPv4
//     address they map, and so are the IPv4 addresses embedded by 6to4
//     (2002::/16) and NAT64 (64:ff9b::/96).
//   - Cloud metadata addresses (169.254.169.254, fd00:ec2::254, …) are
//     allowed only by an allow entry for exactly that address, never by a
//     wider prefix such as 169.254.0.0/16 or 0.0.0.0/0.
//   - A nil *Guard allows everything.
//   - A Guard is immutable and safe for concurrent use.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a Guard that refuses non-public addresses except those
// inside one of the allow prefixes (see [ParsePrefixes]; nil allows none).
func NewGuard(allow []netip.Prefix) *Guard {
	return &Guard{allow: slices.Clone(allow)}
}

// Check returns nil if ip may be dialled, or an error wrapping [ErrRefused]
// that says why not:
//
//	address 10.1.2.3 is private (RFC 1918); refused for domain-owned URLs (allow it with allow_private)
func (g *Guard) Check(ip netip.Addr) error {
	return g.check(ip, ip.String())
}

// Control is a [net.Dialer] ControlContext function: it checks the address
// about to be dialled ("ip:port") and refuses it as [Guard.Check] does.
// [New] installs it when [Options.Guard] is set.
func (g *Guard) Control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// The dialler always passes an IP literal; anything else is a bug,
		// and refusing is the only safe answer.
		return fmt.Errorf("%w: cannot check dialled address %q: %w", ErrRefused, address, err)
	}
	return g.check(ap.Addr(), address)
}

// check does the work of Check and Control; shown is the address as the
// error displays it (with the port, when dialling).
func (g *Guard) check(ip netip.Addr, shown string) error {
	if g == nil {
		return nil
	}
	if !ip.IsValid() {
		return fmt.Errorf("%w: no valid IP address to check", ErrRefused)
	}
	ip = ip.WithZone("") // a zoned address matches no prefix
	un := ip.Unmap()
	what, exact, via := classify(un)
	if what == "" || g.allows(exact, ip, un, via) {
		return nil
	}
	return &refusedError{addr: shown, what: what, exact: exact, via: via}
}

// allows reports whether an allow prefix contains one of the forms of the
// address; with exact, only a single-address prefix counts.
func (g *Guard) allows(exact bool, forms ...netip.Addr) bool {
	for _, p := range g.allow {
		if exact && !p.IsSingleIP() {
			continue
		}
		for _, a := range forms {
			if a.IsValid() && p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// refusedError is the Guard's refusal of one address.
type refusedError struct {
	addr  string     // as dialled: "ip:port", or "ip" from Check
	what  string     // "loopback", "private (RFC 1918)", …
	exact bool       // only an exact allow entry lifts it
	via   netip.Addr // the embedded IPv4 address, if that is what was refused
}

func (e *refusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "address %s is %s", e.addr, e.what)
	if e.via.IsValid() {
		fmt.Fprintf(&b, " (it embeds %s)", e.via)
	}
	b.WriteString("; refused for domain-owned URLs ")
	if e.exact {
		b.WriteString("(allow it with an allow_private entry for exactly this address)")
	} else {
		b.WriteString("(allow it with allow_private)")
	}
	return b.String()
}

func (e *refusedError) Is(target error) bool { return target == ErrRefused }

// ParsePrefixes parses the allow list of a [Guard]: CIDR prefixes
// ("10.0.0.0/8", "fd00::/8") or single addresses ("192.168.1.5" is taken as
// 192.168.1.5/32, "::1" as ::1/128).
//
// # Notes
//
//   - Host bits are cleared: "10.1.2.3/8" is 10.0.0.0/8.
//   - IPv4-mapped forms are converted: "::ffff:10.0.0.0/104" is 10.0.0.0/8.
//   - Zones ("fe80::1%eth0") are refused: a prefix cannot hold one.
//   - The error names the entry by its position and text.
func ParsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for i, s := range cidrs {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%q) is not an IP address or CIDR prefix like 10.0.0.0/8 or 192.168.1.5: %w", i+1, s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, err
		}
		if a.Zone() != "" {
			return p, errors.New("an address with a zone cannot be allowed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
