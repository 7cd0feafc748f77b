package httpevents_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestEventsToSQL wires examples/events-to-sql as the global strict script
// (as the README shows) and checks its table holds every event once.
func TestEventsToSQL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "events-to-sql")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/events-to-sql").CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := filepath.Join(dir, "events.db")
	cmd := exec.Command(bin, "-listen", addr, "-db", db)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(hooktest.Patience); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not listen on %s: %s", addr, out.String())
		}
	}

	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
global = true
global_server = %q
global_path = "/isl-cp-example-events-to-sql"
global_strict = true
`, addr), hookrt.WithObserver(obs.Observe))
	const n = 30
	var batch []map[string]string
	for i := range n {
		batch = append(batch, event(fmt.Sprint(i%3), []string{"NEW SESSION", "START", "STOP"}[i%3], "SESSIONID", fmt.Sprint("s", i/3)))
	}
	ids, err := rt.EmitMany(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "all acknowledged", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", httpevents.GlobalTarget) == n
	})
	sqldb, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	var rows, distinct int
	if err := sqldb.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT event_id) FROM events`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Fatalf("table holds %d rows (%d distinct); want %d, once each", rows, distinct, n)
	}
	var module, ev, raw string
	if err := sqldb.QueryRow(`SELECT module, event, raw_fields FROM events WHERE event_id = ?`, ids[0]).Scan(&module, &ev, &raw); err != nil {
		t.Fatal(err)
	}
	if module != "ISL_LIGHT" || ev != "NEW SESSION" || !strings.Contains(raw, "SESSIONID=s0") {
		t.Errorf("first row: %s %s %s", module, ev, raw)
	}
}
