package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// dbState is the durable store on a test's clock.
type dbState struct {
	db  *store.DB
	clk *clock
}

func (s dbState) Get(ctx context.Context, domain, key string) ([]byte, error) {
	return s.db.GetState(ctx, domain, key, s.clk.Now())
}

func (s dbState) Set(ctx context.Context, domain, key string, v []byte, ttl time.Duration, lim hook.StateLimits) error {
	return s.db.SetState(ctx, domain, key, v, ttl, lim, s.clk.Now())
}

func (s dbState) Incr(ctx context.Context, domain, key string, d int64, ttl time.Duration, lim hook.StateLimits) (int64, error) {
	return s.db.IncrState(ctx, domain, key, d, ttl, lim, s.clk.Now())
}

func (s dbState) Delete(ctx context.Context, domain, key string) error {
	return s.db.DeleteState(ctx, domain, key, s.clk.Now())
}

// stateCase is one implementation of hook.StateStore to hold to the
// contract: the durable store on each database, and the one in memory that
// `hookd plugin run` uses, which must behave the same.
type stateCase struct {
	name string
	open func(t *testing.T, clk *clock) (hook.StateStore, *store.DB) // db nil for memory
}

func stateCases() []stateCase {
	cases := []stateCase{{"memory", func(_ *testing.T, clk *clock) (hook.StateStore, *store.DB) {
		return store.NewMemoryStateAt(clk.Now), nil
	}}}
	for _, c := range storetest.All() {
		cases = append(cases, stateCase{c.Name, func(t *testing.T, clk *clock) (hook.StateStore, *store.DB) {
			db := storetest.Open(t, c.Store(t))
			return dbState{db, clk}, db
		}})
	}
	return cases
}

// runState runs fn once per implementation, each on a fresh store and a
// clock at a fixed time.
func runState(t *testing.T, fn func(t *testing.T, s hook.StateStore, db *store.DB, clk *clock)) {
	for _, c := range stateCases() {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			s, db := c.open(t, clk)
			fn(t, s, db, clk)
		})
	}
}

var roomy = hook.StateLimits{MaxValue: 1 << 10, MaxKeys: 100, MaxBytes: 1 << 20}

// want checks that key holds value ("" with absent: not found).
func want(t *testing.T, s hook.StateStore, domain, key, value string, absent bool) {
	t.Helper()
	got, err := s.Get(context.Background(), domain, key)
	switch {
	case absent && !errors.Is(err, hook.ErrNotFound):
		t.Errorf("Get(%s, %s) = %q, %v; want not found", domain, key, got, err)
	case !absent && (err != nil || string(got) != value):
		t.Errorf("Get(%s, %s) = %q, %v; want %q", domain, key, got, err, value)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPluginStateValues: values round-trip byte for byte (empty, binary),
// a set replaces value and expiry, an expired key is absent, domains do
// not see each other's keys.
func TestPluginStateValues(t *testing.T) {
	runState(t, func(t *testing.T, s hook.StateStore, _ *store.DB, clk *clock) {
		ctx := context.Background()
		want(t, s, "a", "k", "", true)
		if err := s.Delete(ctx, "a", "k"); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("Delete of an absent key: %v", err)
		}
		binary := string([]byte{0, 1, 0xff, 0xfe, '\n', 0})
		must(t, s.Set(ctx, "a", "k", []byte(binary), 0, roomy))
		want(t, s, "a", "k", binary, false)
		must(t, s.Set(ctx, "a", "empty", nil, 0, roomy))
		want(t, s, "a", "empty", "", false)
		want(t, s, "b", "k", "", true) // another domain

		// An expiry: there until it passes, then absent; a set replaces
		// it (here by none).
		must(t, s.Set(ctx, "a", "ttl", []byte("x"), time.Second, roomy))
		clk.Add(999 * time.Millisecond)
		want(t, s, "a", "ttl", "x", false)
		clk.Add(time.Millisecond)
		want(t, s, "a", "ttl", "", true)
		if err := s.Delete(ctx, "a", "ttl"); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("Delete of an expired key: %v", err)
		}
		must(t, s.Set(ctx, "a", "ttl", []byte("y"), time.Second, roomy))
		must(t, s.Set(ctx, "a", "ttl", []byte("z"), 0, roomy))
		clk.Add(time.Hour)
		want(t, s, "a", "ttl", "z", false)

		must(t, s.Delete(ctx, "a", "k"))
		want(t, s, "a", "k", "", true)
		// The value returned is the caller's.
		v, err := s.Get(ctx, "a", "ttl")
		must(t, err)
		v[0] = 'Q'
		want(t, s, "a", "ttl", "z", false)
	})
}

// TestPluginStateIncr: incr counts from 0, keeps decimal text, sets the
// expiry only when it creates the key, and refuses values that are not
// integers and sums that overflow, leaving the value as it was.
func TestPluginStateIncr(t *testing.T) {
	runState(t, func(t *testing.T, s hook.StateStore, _ *store.DB, clk *clock) {
		ctx := context.Background()
		incr := func(key string, d int64, ttl time.Duration, want int64) {
			t.Helper()
			got, err := s.Incr(ctx, "a", key, d, ttl, roomy)
			if err != nil || got != want {
				t.Fatalf("Incr(%s, %d) = %d, %v; want %d", key, d, got, err, want)
			}
		}
		incr("n", 5, 0, 5)
		incr("n", -7, 0, -2)
		want(t, s, "a", "n", "-2", false)

		incr("w", 1, time.Second, 1)
		clk.Add(500 * time.Millisecond)
		incr("w", 1, time.Hour, 2) // the key exists: its expiry stays
		clk.Add(500 * time.Millisecond)
		want(t, s, "a", "w", "", true)
		incr("w", 1, time.Hour, 1) // a new window
		clk.Add(30 * time.Minute)
		incr("w", 1, time.Second, 2)

		must(t, s.Set(ctx, "a", "plus", []byte("+41"), 0, roomy))
		incr("plus", 1, 0, 42)
		for _, v := range []string{"", " 1", "1.5", "0x10", "abc", "99999999999999999999"} {
			must(t, s.Set(ctx, "a", "bad", []byte(v), 0, roomy))
			if _, err := s.Incr(ctx, "a", "bad", 1, 0, roomy); !errors.Is(err, hook.ErrStateNotInteger) {
				t.Errorf("Incr of %q: %v, want ErrStateNotInteger", v, err)
			}
			want(t, s, "a", "bad", v, false)
		}
		must(t, s.Set(ctx, "a", "big", []byte(fmt.Sprint(int64(math.MaxInt64-1))), 0, roomy))
		incr("big", 1, 0, math.MaxInt64)
		if _, err := s.Incr(ctx, "a", "big", 1, 0, roomy); !errors.Is(err, hook.ErrStateNotInteger) || !strings.Contains(err.Error(), "overflows") {
			t.Errorf("overflow: %v", err)
		}
		incr("small", math.MinInt64, 0, math.MinInt64)
		if _, err := s.Incr(ctx, "a", "small", -1, 0, roomy); !errors.Is(err, hook.ErrStateNotInteger) {
			t.Errorf("underflow: %v", err)
		}
		want(t, s, "a", "small", "-9223372036854775808", false)
	})
}

// TestPluginStateLimits: a value over MaxValue is too large; a domain
// cannot pass MaxKeys or MaxBytes, but may replace and shrink; expired
// keys make room; each domain has its own budget.
func TestPluginStateLimits(t *testing.T) {
	runState(t, func(t *testing.T, s hook.StateStore, _ *store.DB, clk *clock) {
		ctx := context.Background()
		lim := hook.StateLimits{MaxValue: 8, MaxKeys: 3, MaxBytes: 30}
		if err := s.Set(ctx, "a", "k", []byte("123456789"), 0, lim); !errors.Is(err, hook.ErrStateTooLarge) || !strings.Contains(err.Error(), "state_max_value") {
			t.Errorf("9 bytes over 8: %v", err)
		}
		must(t, s.Set(ctx, "a", "k", []byte("99999999"), 0, lim))
		if _, err := s.Incr(ctx, "a", "k", 1, 0, lim); !errors.Is(err, hook.ErrStateTooLarge) {
			t.Errorf("incr to 9 digits: %v", err)
		}
		want(t, s, "a", "k", "99999999", false)

		// Keys: k (9 bytes), k1, k2 make 3.
		must(t, s.Set(ctx, "a", "k1", []byte("v"), 0, lim))
		must(t, s.Set(ctx, "a", "k2", []byte("v"), time.Minute, lim))
		if err := s.Set(ctx, "a", "k3", []byte("v"), 0, lim); !errors.Is(err, hook.ErrStateFull) || !strings.Contains(err.Error(), "state_max_keys") {
			t.Errorf("a fourth key: %v", err)
		}
		if _, err := s.Incr(ctx, "a", "k3", 1, 0, lim); !errors.Is(err, hook.ErrStateFull) {
			t.Errorf("a fourth key by incr: %v", err)
		}
		must(t, s.Set(ctx, "b", "k3", []byte("v"), 0, lim))  // another domain
		must(t, s.Set(ctx, "a", "k1", []byte("vv"), 0, lim)) // replacing is no new key
		clk.Add(time.Minute)                                 // k2 expires: room for one
		must(t, s.Set(ctx, "a", "k3", []byte("v"), 0, lim))
		want(t, s, "a", "k2", "", true)

		// Bytes: k 9 + k1 4 + k3 3 = 16 of 30.
		if err := s.Set(ctx, "a", "k1", []byte("12345678"), 0, lim); err != nil { // 10: 22
			t.Fatal(err)
		}
		must(t, s.Delete(ctx, "a", "k3"))                                                                    // 19
		if err := s.Set(ctx, "a", "k345", []byte("12345678"), 0, lim); !errors.Is(err, hook.ErrStateFull) || // 31
			!strings.Contains(err.Error(), "state_max_bytes") {
			t.Errorf("31 bytes of 30: %v", err)
		}
		must(t, s.Set(ctx, "a", "k345", []byte("1234567"), 0, lim)) // 30, the limit
		if err := s.Set(ctx, "a", "k345", []byte("12345678"), 0, lim); !errors.Is(err, hook.ErrStateFull) {
			t.Errorf("one byte more: %v", err)
		}
		must(t, s.Set(ctx, "a", "k345", []byte("123456"), 0, lim)) // 29
		if _, err := s.Incr(ctx, "a", "n", 100, 0, lim); !errors.Is(err, hook.ErrStateFull) {
			t.Errorf("a fourth key: %v", err)
		}

		// A lowered limit: the domain is over it, it may shrink, not grow.
		low := hook.StateLimits{MaxValue: 8, MaxKeys: 2, MaxBytes: 20}
		must(t, s.Set(ctx, "a", "k345", []byte("1"), 0, low)) // 24 of 20, 3 keys of 2
		if err := s.Set(ctx, "a", "k345", []byte("12"), 0, low); !errors.Is(err, hook.ErrStateFull) {
			t.Errorf("growing past a lowered limit: %v", err)
		}
		must(t, s.Delete(ctx, "a", "k345"))
		must(t, s.Delete(ctx, "a", "k1"))
		must(t, s.Set(ctx, "a", "k1", []byte("1"), 0, low))
	})
}

// TestPluginStatePrune: the prune job deletes expired keys only, in
// batches, and gives their room back.
func TestPluginStatePrune(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		db := storetest.Open(t, st)
		clk := &clock{now: time.Now()}
		s := dbState{db, clk}
		ctx := context.Background()
		lim := hook.StateLimits{MaxValue: 8, MaxKeys: 12, MaxBytes: 1 << 10}
		for i := range 10 {
			must(t, s.Set(ctx, "a", fmt.Sprint("t", i), []byte("v"), time.Minute, lim))
		}
		must(t, s.Set(ctx, "a", "keep", []byte("v"), 0, lim))
		must(t, s.Set(ctx, "b", "later", []byte("v"), time.Hour, lim))
		if n, err := db.PruneState(ctx, clk.Now(), 3); err != nil || n != 0 {
			t.Fatalf("nothing expired yet: %d, %v", n, err)
		}
		clk.Add(time.Minute)
		if n, err := db.PruneState(ctx, clk.Now(), 3); err != nil || n != 10 {
			t.Fatalf("pruned %d, %v; want the 10 expired keys", n, err)
		}
		want(t, s, "a", "keep", "v", false)
		clk.Add(-time.Minute) // had they not been deleted, they would be live
		want(t, s, "a", "t0", "", true)
		want(t, s, "b", "later", "v", false)
		for i := range 11 { // room for 11 more: keep + 11 = 12
			must(t, s.Set(ctx, "a", fmt.Sprint("n", i), []byte("v"), 0, lim))
		}
		if err := s.Set(ctx, "a", "full", []byte("v"), 0, lim); !errors.Is(err, hook.ErrStateFull) {
			t.Errorf("13th key: %v", err)
		}
	})
}

// TestPluginStateConcurrency: increments from many goroutines, over two
// connections to PostgreSQL as two nodes would, are atomic: every sum is
// returned once and none is lost; and concurrent new keys never pass
// MaxKeys.
func TestPluginStateConcurrency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		nodes := []*store.DB{storetest.Open(t, st)}
		if st.Driver == hookrt.DriverPostgres {
			nodes = append(nodes, storetest.Open(t, st))
		}
		ctx := context.Background()
		const workers, each = 8, 25
		lim := hook.StateLimits{MaxValue: 64, MaxKeys: 10, MaxBytes: 1 << 20}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			seen  = map[int64]bool{}
			added int
			errs  []error
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := store.PluginState{DB: nodes[w%len(nodes)]}
				for i := range each {
					n, err := s.Incr(ctx, "d", "count", 1, time.Hour, lim)
					errAdd := s.Set(ctx, "d", fmt.Sprintf("key-%d-%d", w, i), []byte("v"), 0, lim)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else if seen[n] {
						errs = append(errs, fmt.Errorf("sum %d returned twice", n))
					}
					seen[n] = true
					switch {
					case errAdd == nil:
						added++
					case !errors.Is(errAdd, hook.ErrStateFull):
						errs = append(errs, errAdd)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		want(t, store.PluginState{DB: nodes[0]}, "d", "count", fmt.Sprint(workers*each), false)
		if added != lim.MaxKeys-1 { // "count" is one of the 10
			t.Errorf("%d keys added next to count, want %d", added, lim.MaxKeys-1)
		}
	})
}

// BenchmarkPluginState measures the state operations of one domain that
// holds 10,000 keys (the default state_max_keys), on each store.
func BenchmarkPluginState(b *testing.B) {
	for _, c := range storetest.All() {
		b.Run(c.Name, func(b *testing.B) {
			db := storetest.Open(b, c.Store(b))
			s := store.PluginState{DB: db}
			ctx := context.Background()
			lim := hook.StateLimits{MaxValue: 64 << 10, MaxKeys: 10000, MaxBytes: 16 << 20}
			for i := range 9999 {
				if err := s.Set(ctx, "d", fmt.Sprint("key-", i), []byte("some value of a few dozen bytes, as a plugin keeps"), 0, lim); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("get", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(ctx, "d", fmt.Sprint("key-", i%9999)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("set", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if err := s.Set(ctx, "d", fmt.Sprint("key-", i%9999), []byte("another value"), 0, lim); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("incr", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Incr(ctx, "d", "counter", 1, time.Minute, lim); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
