// Package authguard slows down the guessing of a token: the API's bearer
// token and the admin page's login share one policy, kept here.
//
// Every address gets a few wrong tokens free (typos); after that it must
// wait before its next token is even checked, the wait doubling with each
// further wrong token up to a cap. A right token clears the address. While
// an address must wait, callers answer 429 with Retry-After instead of
// holding the request: a sleeping handler would tie up a goroutine and a
// connection per guess.
//
// Addresses are the peer's IP (IPv6 by /64, which one host usually owns
// whole). Behind a reverse proxy every request has the proxy's address, so
// its wrong tokens slow everyone behind it; X-Forwarded-For is not used
// because a guesser could name a fresh address in each request.
package authguard

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Defaults of [Options].
const (
	DefaultFree    = 5
	DefaultBase    = time.Second
	DefaultMax     = time.Minute
	DefaultEntries = 10000
)

// Options tune a [Guard]. The zero value gives the defaults.
type Options struct {
	// Free is how many wrong tokens in a row an address may send before
	// it must wait. Defaults to DefaultFree.
	Free int
	// Base is the first wait; each further wrong token doubles it.
	// Defaults to DefaultBase.
	Base time.Duration
	// Max caps the wait; an address is forgotten Max after its last wrong
	// token. Defaults to DefaultMax.
	Max time.Duration
	// Entries bounds how many addresses are remembered; when full, the
	// forgotten ones are dropped, then the one whose wait ended first.
	// Defaults to DefaultEntries.
	Entries int
	// Now is the clock; tests set it. Defaults to time.Now.
	Now func() time.Time
}

// Guard remembers wrong tokens by address. It is safe for concurrent use.
type Guard struct {
	o  Options
	mu sync.Mutex
	m  map[netip.Prefix]*entry
}

type entry struct {
	wrong int       // wrong tokens in a row
	until time.Time // no token is checked before this
	last  time.Time // the last wrong token
}

// New returns a Guard with o's settings.
func New(o Options) *Guard {
	if o.Free <= 0 {
		o.Free = DefaultFree
	}
	if o.Base <= 0 {
		o.Base = DefaultBase
	}
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	if o.Entries <= 0 {
		o.Entries = DefaultEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Guard{o: o, m: map[netip.Prefix]*entry{}}
}

// Wait reports how long the request's address must still wait before a
// token from it is checked; 0 means check it now.
func (g *Guard) Wait(r *http.Request) time.Duration {
	k, ok := key(r)
	if !ok {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[k]
	if e == nil {
		return 0
	}
	return max(0, e.until.Sub(g.o.Now()))
}

// Wrong records a wrong token from the request's address and returns how
// long it must now wait before its next one is checked (0 while free).
func (g *Guard) Wrong(r *http.Request) time.Duration {
	k, ok := key(r)
	if !ok {
		return 0
	}
	now := g.o.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[k]
	if e != nil && now.Sub(e.last) > g.o.Max {
		e = nil // forgotten: a fresh start
	}
	if e == nil {
		if len(g.m) >= g.o.Entries {
			g.evictLocked(now)
		}
		e = &entry{}
		g.m[k] = e
	}
	e.wrong++
	e.last = now
	if e.wrong <= g.o.Free {
		return 0
	}
	wait := g.o.Max
	if n := e.wrong - g.o.Free - 1; n < 30 {
		wait = min(g.o.Max, g.o.Base<<n)
	}
	e.until = now.Add(wait)
	return wait
}

// Right clears the request's address after a right token.
func (g *Guard) Right(r *http.Request) {
	k, ok := key(r)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, k)
}

// evictLocked makes room for one more address: it drops the forgotten
// ones, and if none was, the one whose wait ended (or ends) first.
func (g *Guard) evictLocked(now time.Time) {
	var first netip.Prefix
	var firstUntil time.Time
	for k, e := range g.m {
		if now.Sub(e.last) > g.o.Max {
			delete(g.m, k)
			continue
		}
		if firstUntil.IsZero() || e.until.Before(firstUntil) {
			first, firstUntil = k, e.until
		}
	}
	if len(g.m) >= g.o.Entries {
		delete(g.m, first)
	}
}

// RetryAfter is wait in whole seconds, rounded up, for a Retry-After
// header (at least 1).
func RetryAfter(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// key is the request's peer address: the IP, or for IPv6 its /64.
func key(r *http.Request) (netip.Prefix, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// Len is how many addresses are remembered.
func (g *Guard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}
