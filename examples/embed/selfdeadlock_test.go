package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEmitWhileHoldingTx: the mistake the README warns about, an Emit
// while the same program holds a transaction of rt.DB() on SQLite (whose
// one connection that transaction holds), returns at its deadline with an
// error that says what to do, writes nothing, and leaves hookd working:
// once the transaction ends, the next Emit goes through. It used to hang
// for ever, and every other Emit of the process behind it.
func TestEmitWhileHoldingTx(t *testing.T) {
	p := startProxy(t, false)
	ctx := context.Background()
	tx, err := p.rt.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // lets the old, hanging code finish, so the test can report
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, domain, email, created_at) VALUES ('ann', 'acme', 'ann@example.com', 0)`); err != nil {
		t.Fatal(err)
	}

	emit := func(ctx context.Context, user string) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := p.rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": user})
			done <- err
		}()
		return done
	}
	wait := func(what string, done <-chan error) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(waitTimeout):
			t.Fatalf("%s: Emit has not returned after %s although its context ended: it hangs", what, waitTimeout)
			return nil
		}
	}

	// The program's own Emit, and another goroutine's, both with deadlines.
	own, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	other, cancelOther := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelOther()
	ownDone, otherDone := emit(own, "self"), emit(other, "other")
	for what, done := range map[string]<-chan error{"the Emit inside the transaction": ownDone, "another goroutine's Emit": otherDone} {
		err := wait(what, done)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v, want an error matching context.DeadlineExceeded", what, err)
		}
		if !strings.Contains(err.Error(), "EmitTx") {
			t.Errorf("%s: %q does not say to use EmitTx", what, err)
		}
	}

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// The writer is not stuck: the next Emit, bounded too, commits.
	next, cancelNext := context.WithTimeout(ctx, waitTimeout)
	defer cancelNext()
	if err := wait("an Emit after the transaction ended", emit(next, "next")); err != nil {
		t.Fatalf("an Emit after the transaction ended: %v", err)
	}
	evs := p.recv.waitUser(t, "next")
	for _, user := range []string{"self", "other"} {
		if got := eventsWith(evs, "USERNAME", user); len(got) != 0 {
			t.Errorf("the refused Emit of %q was delivered: %v", user, got)
		}
	}
	if ds := p.deliveries(t); len(ds) != 1 {
		t.Errorf("%d deliveries, want 1 (only the Emit after the transaction): %+v", len(ds), ds)
	}
}
