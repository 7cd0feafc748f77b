package authguard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/authguard"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

func from(addr string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = addr
	return r
}

// TestBackoff: the free wrong tokens cost nothing, then each one doubles
// the wait up to the cap; another address is not affected; a right token
// clears the address; an address is forgotten a cap after its last try.
func TestBackoff(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	g := authguard.New(authguard.Options{Free: 3, Base: time.Second, Max: 8 * time.Second, Now: c.now})
	a := from("192.0.2.1:5000")
	for i := range 3 {
		if w := g.Wrong(a); w != 0 {
			t.Fatalf("wrong token %d: wait %v, want 0 (free)", i+1, w)
		}
	}
	for _, want := range []time.Duration{1, 2, 4, 8, 8} {
		if w := g.Wrong(a); w != want*time.Second {
			t.Fatalf("wait = %v, want %v", w, want*time.Second)
		}
		if w := g.Wait(a); w != want*time.Second {
			t.Fatalf("Wait = %v, want %v", w, want*time.Second)
		}
	}
	if w := g.Wait(from("192.0.2.1:6000")); w == 0 {
		t.Error("another port of the same address must wait too")
	}
	if w := g.Wait(from("192.0.2.2:5000")); w != 0 {
		t.Errorf("another address waits %v, want 0", w)
	}
	c.add(3 * time.Second)
	if w := g.Wait(a); w != 5*time.Second {
		t.Errorf("after 3 s: Wait = %v, want 5s", w)
	}
	c.add(5 * time.Second)
	if w := g.Wait(a); w != 0 {
		t.Errorf("after the wait: Wait = %v, want 0", w)
	}
	g.Right(a)
	for range 3 {
		if w := g.Wrong(a); w != 0 {
			t.Fatalf("after a right token the free tries start again; wait %v", w)
		}
	}
	c.add(9 * time.Second) // forgotten
	if w := g.Wrong(a); w != 0 {
		t.Errorf("an address forgotten after Max starts free again; wait %v", w)
	}
}

// TestIPv6ByPrefix: the addresses of one /64 share their wait.
func TestIPv6ByPrefix(t *testing.T) {
	g := authguard.New(authguard.Options{Free: 1})
	g.Wrong(from("[2001:db8::1]:1"))
	g.Wrong(from("[2001:db8::2]:1"))
	if g.Wait(from("[2001:db8::ffff]:1")) == 0 {
		t.Error("an address of the same /64 does not wait")
	}
	if g.Wait(from("[2001:db8:0:1::1]:1")) != 0 {
		t.Error("an address of another /64 waits")
	}
}

// TestBounded: memory stays bounded however many addresses guess.
func TestBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	g := authguard.New(authguard.Options{Free: 1, Entries: 100, Now: c.now})
	for i := range 10_000 {
		r := from(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
		g.Wrong(r)
		g.Wrong(r)
		c.add(time.Millisecond)
	}
	if n := g.Len(); n > 100 {
		t.Errorf("%d addresses remembered, want at most 100", n)
	}
	last := from("10.0.39.15:1") // the 9999th
	if g.Wait(last) == 0 {
		t.Error("the newest address was dropped")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Minute, 60}} {
		if got := authguard.RetryAfter(c.in); got != c.want {
			t.Errorf("RetryAfter(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}
