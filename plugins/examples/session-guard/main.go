// Command session-guard is a hookd plugin that terminates ISL Light
// sessions opened from blocked networks. See README.md.
package main

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/plugins/pdk"
)

// addressFields are the event fields that may carry the client's address,
// in the order they are checked. ISL Light sends reasonAddress; the others
// are accepted for proxies and relays that use them.
var addressFields = []string{"reasonAddress", "clientAddress", "CLIENT_ADDR"}

// config is the plugin's config table.
type config struct {
	// Block lists the networks to refuse, as CIDR prefixes ("10.0.0.0/8")
	// or single addresses ("192.0.2.7").
	Block []string `json:"block"`
	// Secret is the proxy's XMLMSG database secret.
	Secret string `json:"secret"`
}

// guard is the parsed config.
type guard struct {
	block  []netip.Prefix
	secret string
}

// The config is parsed on the first event and kept for the life of the
// instance (a new config means new instances).
var (
	loaded   *guard
	loadErr  error
	loadDone bool
)

func init() { pdk.Handle(handle) }

func main() {}

func handle(ev *pdk.Event) pdk.Reply {
	if ev.Name() != "NEWSESSION" {
		return pdk.NoMessage()
	}
	g, err := load()
	if err != nil {
		return pdk.FailPermanently(err)
	}
	for _, field := range addressFields {
		value, ok := ev.Lookup(field)
		if !ok || value == "" {
			continue
		}
		addr, ok := parseAddr(value)
		if !ok {
			pdk.Log(pdk.LevelWarn, field+" "+strconv.Quote(value)+" is not an IP address; not checked")
			continue
		}
		prefix, blocked := g.blocked(addr)
		if !blocked {
			continue
		}
		why := "client " + addr.String() + " (" + field + ") is in blocked " + prefix.String()
		session := ev.Get("SESSIONID")
		if session == "" {
			pdk.Log(pdk.LevelWarn, why+", but the event has no SESSIONID to drop")
			return pdk.NoMessage()
		}
		pdk.Log(pdk.LevelInfo, "dropping session "+session+": "+why)
		return pdk.Commands(g.secret, pdk.Drop(session))
	}
	return pdk.NoMessage()
}

// load parses the config once.
func load() (*guard, error) {
	if !loadDone {
		loaded, loadErr = parseConfig()
		loadDone = true
	}
	return loaded, loadErr
}

func parseConfig() (*guard, error) {
	var c config
	if err := pdk.Config(&c); err != nil {
		return nil, errors.New("session-guard: invalid config: " + err.Error())
	}
	g := &guard{secret: c.Secret}
	if strings.TrimSpace(c.Secret) == "" {
		return nil, errors.New(`session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`)
	}
	for i, s := range c.Block {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, errors.New("session-guard: invalid config: block[" + strconv.Itoa(i) + "] " + strconv.Quote(s) +
				" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: " + err.Error())
		}
		g.block = append(g.block, p)
	}
	return g, nil
}

// parsePrefix reads "10.0.0.0/8" or "192.0.2.7"; it refuses prefixes
// with host bits set ("10.0.0.1/8"), which are most likely a mistake.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Masked() != p {
		return netip.Prefix{}, errors.New("host bits set")
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped prefix shorter than /96")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// parseAddr reads an address, with or without a port ("10.0.0.1:5000",
// "[2001:db8::1]:443"); IPv4-mapped IPv6 addresses are read as IPv4.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// blocked returns the first blocked prefix that contains a.
func (g *guard) blocked(a netip.Addr) (netip.Prefix, bool) {
	for _, p := range g.block {
		if p.Contains(a) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
