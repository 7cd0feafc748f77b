package engine

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// patience bounds a wait for something that should happen promptly; only
// a hang reaches it.
const patience = 30 * time.Second

// rowsDB is a real SQLite store with a table of names: a group commit of
// names inserts them in one transaction, through the store's one
// connection, as the engine's emits do.
type rowsDB struct {
	db *store.DB
	// started receives the items of each commit call before it begins its
	// transaction; gate, if set, is waited for by a commit whose first
	// item is "gate" after its transaction has begun.
	started chan []string
	gate    chan struct{}
	begun   chan struct{} // a "gate" commit's transaction has begun
	hold2   chan struct{} // a commit of "left" waits for it before its transaction
	// ended receives each commit's transaction error.
	ended chan error
}

func newRowsDB(t *testing.T) *rowsDB {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "g.db"), store.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL().Exec(`CREATE TABLE names (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	return &rowsDB{db: db, started: make(chan []string, 16), gate: make(chan struct{}), begun: make(chan struct{}, 16), hold2: make(chan struct{}), ended: make(chan error, 16)}
}

func (r *rowsDB) commit(ctx context.Context, items []string, begin func() []bool) []error {
	r.started <- slices.Clone(items)
	if slices.Contains(items, "left") { // waits before its transaction, as for a busy connection
		select {
		case <-r.hold2:
		case <-ctx.Done():
		}
	}
	err := r.db.InTx(ctx, func(tx store.Tx) error {
		keep := begin()
		if items[0] == "gate" {
			r.begun <- struct{}{}
			<-r.gate
		}
		for i, name := range items {
			if !keep[i] {
				continue
			}
			if _, err := tx.Native().(*sql.Tx).ExecContext(ctx, `INSERT INTO names (name) VALUES (?)`, name); err != nil {
				return err
			}
		}
		return nil
	})
	r.ended <- err
	return repeat(err, len(items))
}

func (r *rowsDB) names(t *testing.T) []string {
	t.Helper()
	rows, err := r.db.SQL().Query(`SELECT name FROM names ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// hold begins a transaction of the program's own on the store's one
// connection, as an embedding proxy does with Runtime.DB; release ends it.
func (r *rowsDB) hold(t *testing.T) (release func()) {
	t.Helper()
	tx, err := r.db.SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

// submitAsync runs submit on its own goroutine.
func submitAsync(g *groupCommit[string], ctx context.Context, name string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- g.submit(ctx, name)[0] }()
	return done
}

func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("%s: nothing after %s", what, patience)
		var zero T
		return zero
	}
}

// TestGroupCommitLeavesAtDeadline: while the connection is held, a caller
// returns at its deadline with its context's error; its group, every
// caller of which left, stops waiting for the connection, so the loop is
// free; nothing of it is written; and once the connection is free again
// the next submission commits.
func TestGroupCommitLeavesAtDeadline(t *testing.T) {
	r := newRowsDB(t)
	g := newGroupCommit(maxGroup, r.commit, nil)
	defer g.close(context.Background())
	release := r.hold(t)
	defer release()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := await(t, "the submission with a deadline", submitAsync(g, ctx, "late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("submit = %v, want context.DeadlineExceeded", err)
	}
	// The group's wait for the connection ended although it is still held.
	if err := await(t, "the abandoned group's transaction", r.ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("the abandoned group's transaction ended with %v, want context.Canceled", err)
	}
	// A second caller with a deadline is not stuck behind it either.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := await(t, "a second submission", submitAsync(g, ctx2, "later")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second submit = %v, want context.DeadlineExceeded", err)
	}
	release()
	if err := await(t, "a submission once the connection is free", submitAsync(g, context.Background(), "ok")); err != nil {
		t.Fatal(err)
	}
	if got := r.names(t); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("rows %v, want only [ok]: the callers that left must not be written", got)
	}
}

// TestGroupCommitWithdrawsBeforeBegin: in a group waiting for the
// connection, a caller that leaves is withdrawn (begin reports it false)
// while the others stay and are committed.
func TestGroupCommitWithdrawsBeforeBegin(t *testing.T) {
	r := newRowsDB(t)
	g := newGroupCommit(maxGroup, r.commit, nil)
	defer g.close(context.Background())

	// A first group holds the loop (inside its transaction) while two
	// callers queue up behind it, so that they form the next group.
	gateDone := submitAsync(g, context.Background(), "gate")
	await(t, "the first group", r.started)
	leaving, leave := context.WithCancel(context.Background())
	defer leave()
	leftDone := submitAsync(g, leaving, "left")
	stayDone := submitAsync(g, context.Background(), "stay")
	waitQueued(t, g, 2)
	close(r.gate)
	if err := await(t, "the first group's answer", gateDone); err != nil {
		t.Fatal(err)
	}
	items := await(t, "the second group", r.started)
	slices.Sort(items)
	if !slices.Equal(items, []string{"left", "stay"}) {
		t.Fatalf("second group %v, want [left stay]", items)
	}
	leave()
	if err := await(t, "the caller that left", leftDone); !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that left got %v, want context.Canceled", err)
	}
	close(r.hold2)
	if err := await(t, "the caller that stayed", stayDone); err != nil {
		t.Fatalf("the caller that stayed got %v", err)
	}
	if got := r.names(t); !slices.Equal(got, []string{"gate", "stay"}) {
		t.Errorf("rows %v, want [gate stay]", got)
	}
}

// TestGroupCommitBoundAfterBegin: a caller whose context ends after its
// transaction has begun waits for the commit and learns its outcome.
func TestGroupCommitBoundAfterBegin(t *testing.T) {
	r := newRowsDB(t)
	g := newGroupCommit(maxGroup, r.commit, nil)
	defer g.close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := submitAsync(g, ctx, "gate") // waits for r.gate inside its transaction
	await(t, "the group", r.started)
	await(t, "its transaction to begin", r.begun)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("submit returned %v while its transaction was still running", err)
	default:
	}
	close(r.gate)
	if err := await(t, "the bound caller", done); err != nil {
		t.Fatalf("the bound caller got %v, want the commit's answer (nil)", err)
	}
	if got := r.names(t); !slices.Equal(got, []string{"gate"}) {
		t.Errorf("rows %v, want [gate]", got)
	}
}

// TestGroupCommitQueuedLeaves: a caller that leaves while still queued is
// never handed to a commit.
func TestGroupCommitQueuedLeaves(t *testing.T) {
	r := newRowsDB(t)
	g := newGroupCommit(maxGroup, r.commit, nil)
	defer g.close(context.Background())
	gateDone := submitAsync(g, context.Background(), "gate")
	await(t, "the first group", r.started)
	ctx, cancel := context.WithCancel(context.Background())
	leftDone := submitAsync(g, ctx, "queued")
	waitQueued(t, g, 1)
	cancel()
	if err := await(t, "the queued caller", leftDone); !errors.Is(err, context.Canceled) {
		t.Fatalf("the queued caller got %v, want context.Canceled", err)
	}
	close(r.gate)
	await(t, "the first group's answer", gateDone)
	if err := await(t, "a later submission", submitAsync(g, context.Background(), "after")); err != nil {
		t.Fatal(err)
	}
	for {
		items := await(t, "the later group", r.started)
		if slices.Contains(items, "queued") {
			t.Fatalf("a commit got the queued caller's item after it left: %v", items)
		}
		if slices.Contains(items, "after") {
			break
		}
	}
	if got := r.names(t); !slices.Equal(got, []string{"after", "gate"}) {
		t.Errorf("rows %v, want [after gate]", got)
	}
}

// waitQueued waits until n submissions wait in g's queue.
func waitQueued(t *testing.T, g *groupCommit[string], n int) {
	t.Helper()
	waitCond(t, "submissions queued", func() bool { return len(g.reqs) == n })
}

// waitCond polls cond, which watches in-memory state that has no event to
// wait on, until it holds.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", patience, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitCloseAtDeadline: a close whose context ends while a
// group waits for a held connection returns, and that group's caller,
// which had no deadline of its own, learns the store closed.
func TestGroupCommitCloseAtDeadline(t *testing.T) {
	r := newRowsDB(t)
	g := newGroupCommit(maxGroup, r.commit, nil)
	release := r.hold(t)
	defer release()
	done := submitAsync(g, context.Background(), "stuck")
	await(t, "the group", r.started)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	closed := make(chan struct{})
	go func() { g.close(ctx); close(closed) }()
	await(t, "close at its deadline", closed)
	if err := await(t, "the caller of the abandoned group", done); !errors.Is(err, hook.ErrClosed) {
		t.Fatalf("the caller got %v, want hook.ErrClosed", err)
	}
	if err := g.submit(context.Background(), "after")[0]; !errors.Is(err, hook.ErrClosed) {
		t.Fatalf("a submission after close got %v, want hook.ErrClosed", err)
	}
	release()
	if got := r.names(t); len(got) != 0 {
		t.Errorf("rows %v, want none", got)
	}
}
