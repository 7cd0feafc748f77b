package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
)

// TestCloseBehindHeldTx: on SQLite, while a transaction of the embedding
// program holds the store's one connection, Close with a deadline
// returns, and an Emit still waiting (without a deadline of its own)
// learns the engine closed. Both used to wait for the transaction.
func TestCloseBehindHeldTx(t *testing.T) {
	ok := hook.HandlerFunc(func(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil })
	e := open(t, storetest.SQLite(t), fast(), hooktest.NewObservations(), hook.Target{Name: "ok", Handler: ok})
	tx, err := e.DB().SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	emitted := make(chan error, 1)
	go func() {
		_, err := e.Emit(context.Background(), map[string]string{"MODULE": "M", "EVENT": "E"})
		emitted <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- e.Close(ctx) }()
	select {
	case err := <-closed:
		t.Logf("close: %v", err)
	case <-time.After(hooktest.Patience):
		t.Fatalf("Close did not return %s after its deadline while a transaction held the connection", hooktest.Patience)
	}
	select {
	case err := <-emitted:
		if !errors.Is(err, hook.ErrClosed) {
			t.Errorf("the waiting Emit got %v, want hook.ErrClosed", err)
		}
	case <-time.After(hooktest.Patience):
		t.Fatal("the waiting Emit did not return after Close")
	}
}
