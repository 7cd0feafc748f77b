package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestOrderKeys: a key is armed once (one job) until its job finds
// nothing live and disarms it, deleting its row; the head is the oldest
// live delivery of the key only (not of another key or target); a job of
// another epoch is stale; replays find their deliveries' keys.
func TestOrderKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		db := storetest.Open(t, st)
		ctx := context.Background()
		now := time.Now()
		var ids []int64
		err := db.InTx(ctx, func(tx store.Tx) error {
			var (
				evs []*hook.Event
				ds  []store.NewDelivery
			)
			for i, k := range []string{"A", "B", "A"} {
				ev, err := hook.NewEvent(map[string]string{"MODULE": "M", "EVENT": "E", "K": k, "N": string(rune('0' + i))}, now, "node")
				if err != nil {
					return err
				}
				evs = append(evs, ev)
				ds = append(ds, store.NewDelivery{EventID: ev.ID, Target: "t", Ordered: true, OrderKey: k})
			}
			ds = append(ds, store.NewDelivery{EventID: evs[0].ID, Target: "u", Ordered: true, OrderKey: "A"})
			if err := store.InsertEvents(ctx, tx, evs); err != nil {
				return err
			}
			var err error
			ids, err = store.InsertDeliveries(ctx, tx, ds, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var epoch int64
		arm := func() (int64, bool) {
			t.Helper()
			var (
				e    int64
				need bool
			)
			if err := db.InTx(ctx, func(tx store.Tx) error {
				var err error
				e, need, err = store.ArmOrder(ctx, tx, "t", "A")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return e, need
		}
		epoch, need := arm()
		if !need || epoch <= 0 {
			t.Fatalf("first arm: epoch %d, need %v; want a job", epoch, need)
		}
		if again, need := arm(); need || again != epoch {
			t.Fatalf("second arm: epoch %d (first %d), need %v; want the same job", again, epoch, need)
		}
		if _, stale, err := db.TakeOrder(ctx, "t", "A", epoch+1); err != nil || !stale {
			t.Fatalf("another epoch: stale %v, %v", stale, err)
		}
		head, stale, err := db.TakeOrder(ctx, "t", "A", epoch)
		if err != nil || stale || head == nil || head.ID != ids[0] || head.Event.Get("K") != "A" || head.Next.IsZero() {
			t.Fatalf("head %+v, stale %v, %v; want delivery %d", head, stale, err, ids[0])
		}
		if err := db.Finish(ctx, ids[0], 0, store.Outcome{State: hook.StateDelivered}); err != nil {
			t.Fatal(err)
		}
		if head, _, err := db.TakeOrder(ctx, "t", "A", epoch); err != nil || head == nil || head.ID != ids[2] {
			t.Fatalf("next head %+v, %v; want delivery %d (not B's, not target u's)", head, err, ids[2])
		}

		places, err := db.OrderPlaces(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if p := places[ids[2]]; p.Key != "A" || p.Head != ids[2] {
			t.Errorf("place of %d: %+v", ids[2], p)
		}
		if p := places[ids[3]]; p.Key != "A" || p.Head != ids[3] {
			t.Errorf("place of %d (target u): %+v", ids[3], p)
		}
		if p := places[ids[0]]; p.Head != ids[2] {
			t.Errorf("place of the delivered %d: %+v; want its key's head %d", ids[0], p, ids[2])
		}

		if err := db.Finish(ctx, ids[2], 0, store.Outcome{State: hook.StateDead, Error: "x"}); err != nil {
			t.Fatal(err)
		}
		if head, stale, err := db.TakeOrder(ctx, "t", "A", epoch); err != nil || head != nil || stale {
			t.Fatalf("empty key: head %+v, stale %v, %v; want none (disarmed)", head, stale, err)
		}
		if _, stale, _ := db.TakeOrder(ctx, "t", "A", epoch); !stale {
			t.Error("a job run again after its key was disarmed is not stale")
		}
		if again, need := arm(); !need || again == 0 {
			t.Errorf("arm after disarm: epoch %d, need %v; want a new job", again, need)
		}

		if err := db.InTx(ctx, func(tx store.Tx) error {
			keys, err := store.OrderKeys(ctx, tx, ids)
			if err != nil {
				return err
			}
			if len(keys) != 4 || keys[ids[1]] != "B" {
				t.Errorf("order keys %v", keys)
			}
			return store.WakeOrder(ctx, tx, "hookd_order", "t", "A")
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.WakeOrders(ctx, "hookd_order"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOrderKey: a key is the field's value made storable; a long one is
// its hash, the same for the same value.
func TestOrderKey(t *testing.T) {
	if got := store.OrderKey("abc"); got != "abc" {
		t.Errorf("OrderKey(abc) = %q", got)
	}
	if got := store.OrderKey("a\x00b"); strings.ContainsRune(got, 0) {
		t.Errorf("OrderKey kept a NUL: %q", got)
	}
	long := strings.Repeat("x", store.MaxOrderKey+1)
	if got := store.OrderKey(long); !strings.HasPrefix(got, "sha256:") || got != store.OrderKey(long) || len(got) > store.MaxOrderKey {
		t.Errorf("OrderKey(long) = %q", got)
	}
}
