package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestNodeHeartbeats: each beat counts the nodes seen within its window,
// the beating node included; a node older than the window drops out of the
// count, and a node that forgets itself leaves it at once.
func TestNodeHeartbeats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		count := func(node string, window time.Duration, want int) {
			t.Helper()
			n, err := db.Heartbeat(ctx, node, window)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("heartbeat of %s within %s counts %d nodes; want %d", node, window, n, want)
			}
		}
		count("a", time.Minute, 1)
		count("b", time.Minute, 2)
		count("a", time.Minute, 2) // a beat again: still two nodes
		count("a", 0, 1)           // b's beat is older than now
		if err := db.ForgetNode(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		count("a", time.Minute, 1)
	})
}
