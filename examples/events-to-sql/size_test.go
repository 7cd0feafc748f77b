package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
)

// The longest forms hookd sends for one event it admitted (hook.NewEvent):
// every byte of a name or value escaped to three ("é" is "%C3%A9", "\x01"
// is "%01"), "=" and "&" per field (one "&" fewer than fields), and in a
// combined request of that one event "_0" after every name and "&COUNT=1"
// at the end. A combined request of several events holds at most 48 KiB of
// raw fields (internal/engine's maxBatchBytes), so it stays below both.
const (
	maxSingleForm   = 3*hook.MaxEventBytes + 2*hook.MaxEventFields - 1                   // 197,119 bytes
	maxCombinedForm = 3*hook.MaxEventBytes + 4*hook.MaxEventFields - 1 + len("&COUNT=1") // 197,639 bytes, 193 KiB
)

// unescapable is what url.QueryEscape leaves as it is in the largest
// event: the names EVENT_ID, TIMESTAMP, MODULE, EVENT and SERVERID, the
// UUID in EVENT_ID and the one digit of TIMESTAMP. Every other byte, the
// largest event escapes.
const unescapable = len("EVENT_ID") + 36 + len("TIMESTAMP") + 1 + len("MODULE") + len("EVENT") + len("SERVERID")

// escaped are the printable ASCII characters url.QueryEscape turns into
// %XX: names made of them take three bytes a character in a form.
const escaped = "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}"

// fill is n bytes of UTF-8 of which every byte is escaped in a form: "é"
// (two bytes, six escaped), and "\x01" to make up an odd n.
func fill(n int) string {
	return strings.Repeat("é", n/2) + strings.Repeat("\x01", n%2)
}

// largestFormEvent is an event hookd admits whose form is as long as forms
// get: exactly hook.MaxEventFields fields of exactly hook.MaxEventBytes,
// every byte escaped but the unescapable ones.
func largestFormEvent(t *testing.T) *hook.Event {
	t.Helper()
	fields := map[string]string{"MODULE": "é", "EVENT": "é", "SERVERID": "é", "TIMESTAMP": "0"}
	// One-character names, then two-character ones; empty values for now.
	var names []string
	for _, c := range escaped {
		names = append(names, string(c))
	}
	for _, c1 := range escaped {
		for _, c2 := range escaped {
			names = append(names, string(c1)+string(c2))
		}
	}
	for _, name := range names[:hook.MaxEventFields-len(fields)-1] { // EVENT_ID is hookd's
		fields[name] = ""
	}
	// The rest of the bytes go to one value.
	rest := hook.MaxEventBytes - hook.EventSize(fields) - len("EVENT_ID") - 36
	fields["!"] = fill(rest)
	ev, err := hook.NewEvent(fields, time.Now(), "node-1")
	if err != nil {
		t.Fatalf("hook.NewEvent refused the largest event: %v", err)
	}
	if n, f := hook.EventSize(ev.Fields), len(ev.Fields); n != hook.MaxEventBytes || f != hook.MaxEventFields {
		t.Fatalf("event has %d bytes in %d fields, want %d in %d", n, f, hook.MaxEventBytes, hook.MaxEventFields)
	}
	return ev
}

// globalScript provisions hookd's global HTTP events script, strict, as
// the README configures it, posting to the receiver b runs.
func globalScript(t *testing.T, b *testBundle) hook.Handler {
	t.Helper()
	u, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	// [http_events] global = true, global_server = "127.0.0.1:…",
	// global_path = "/isl-cp-example-events-to-sql", global_strict = true
	events := &httpevents.Events{Global: true, GlobalServer: u.Host, GlobalPath: u.Path, GlobalStrict: true}
	if err := events.Validate(); err != nil {
		t.Fatal(err)
	}
	env := hook.Env{
		Logger:         slog.New(slog.DiscardHandler),
		RequestTimeout: 30 * time.Second,
		UserAgent:      "hookd/test",
		Lookup:         func(string) (hook.Module, bool) { return nil, false },
		Resolve:        func(p string) string { return p },
	}
	if err := events.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	for _, target := range events.Targets() {
		if target.Name == httpevents.GlobalTarget {
			return target.Handler
		}
	}
	t.Fatal("no global target")
	return nil
}

func Test_largestEvent(t *testing.T) {
	t.Parallel()
	if maxBodyBytes < 4*maxCombinedForm {
		t.Errorf("maxBodyBytes = %d leaves too little margin over the largest form, %d bytes", maxBodyBytes, maxCombinedForm)
	}

	b := setup(t)
	script := globalScript(t, b)
	batcher, ok := script.(hook.BatchHandler)
	if !ok {
		t.Fatalf("the global script %T cannot combine events", script)
	}
	alone, combined := largestFormEvent(t), largestFormEvent(t)

	// The forms hookd sends for them (builtin/httpevents: Handle, and
	// HandleBatch with one event) are exactly as long as forms get.
	single, batch := len(hook.AppendForm(nil, alone.Fields, "")), len(hook.AppendForm(nil, combined.Fields, "_0"))+len("&COUNT=1")
	if want := maxSingleForm - 2*unescapable; single != want {
		t.Errorf("form of the largest event = %d bytes, want %d", single, want)
	}
	if want := maxCombinedForm - 2*unescapable; batch != want {
		t.Errorf("combined form of the largest event = %d bytes, want %d", batch, want)
	}
	t.Logf("largest form: %d bytes alone, %d combined; bounds %d and %d; limit %d", single, batch, maxSingleForm, maxCombinedForm, maxBodyBytes)

	ctx := context.Background()
	if res, err := script.Handle(ctx, alone); err != nil || res.Status != 200 {
		t.Fatalf("single request: %d %v (%q), want 200 and acknowledged", res.Status, err, res.Reply)
	}
	b.wantLog(t, "status=200", "events=1", "stored=1")
	if res, err := batcher.HandleBatch(ctx, []*hook.Event{combined}); err != nil || res.Status != 200 {
		t.Fatalf("combined request: %d %v (%q), want 200 and acknowledged", res.Status, err, res.Reply)
	}
	b.wantLog(t, "status=200", "events=1", "stored=1")

	got := b.rows(t)
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	for i, ev := range []*hook.Event{alone, combined} {
		r := got[i]
		if r.eventID != ev.ID || r.module != ev.Module() || r.event != ev.Name() || r.serverID != str(ev.ServerID()) ||
			r.timestamp.Int64 != 0 || !r.timestamp.Valid {
			t.Errorf("row %d = %+.80v, want event %s", i, r, ev.ID)
		}
		// Stored whole: raw_fields is the event's form, byte for byte.
		if want := string(hook.AppendForm(nil, ev.Fields, "")); r.rawFields != want {
			t.Errorf("row %d: raw_fields is %d bytes and differs from the event's %d-byte form", i, len(r.rawFields), len(want))
		}
	}
}
