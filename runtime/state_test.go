package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// TestLateState: the plugins' state store fails at once while modules are
// provisioned, waits for the store while Open opens it, forwards to it
// once bound, and fails when Open gives up without one.
func TestLateState(t *testing.T) {
	ctx := context.Background()
	lim := hook.StateLimits{MaxValue: 64, MaxKeys: 10, MaxBytes: 1 << 10}

	l := newLateState()
	if _, err := l.Get(ctx, "d", "k"); !errors.Is(err, hook.ErrUnavailable) || !errors.Is(err, errStateNotOpen) {
		t.Fatalf("while provisioning: %v", err)
	}

	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hookd.db"), store.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l.opening.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := l.Incr(ctx, "d", "n", 1, 0, lim) // waits for bind
		done <- err
	}()
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := l.Set(short, "d", "k", []byte("v"), 0, lim); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting past its deadline: %v", err)
	}
	l.bind(db)
	if err := <-done; err != nil {
		t.Fatalf("the call made while the store opened: %v", err)
	}
	if v, err := l.Get(ctx, "d", "n"); err != nil || string(v) != "1" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if err := l.Delete(ctx, "d", "n"); err != nil {
		t.Error(err)
	}

	failed := newLateState()
	failed.opening.Store(true)
	failed.release() // Open failed: modules closed
	if err := failed.Set(ctx, "d", "k", nil, 0, lim); !errors.Is(err, hook.ErrUnavailable) {
		t.Errorf("after a failed Open: %v", err)
	}
}
