package ops_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/ops"
)

// FuzzParseList: whatever the query, the parser does not panic, what it
// accepts is within the bounds every view relies on, and what it refuses
// is said in one line that does not echo a long value back.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"state=dead&since=2h&limit=5", "before=71&target=t", "since=2026-11-29+10:00", "limit=0", "x=1&x=2", "since=" + strings.Repeat("9", 80), strings.Repeat("p", 500) + "=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, mode := range []ops.Mode{ops.Strict, ops.Lax} {
			fl, err := ops.ParseList(q, now, mode)
			if err != nil {
				if msg := err.Error(); strings.Contains(msg, "\n") && !strings.Contains(raw, "\n") || len(msg) > 400 {
					t.Fatalf("error of %d bytes for %q: %q", len(msg), raw, msg)
				}
				continue
			}
			if fl.Limit < 0 || fl.Limit > ops.MaxListLimit || len(fl.Target) > ops.MaxNameLen || len(fl.EventID) > ops.MaxNameLen ||
				fl.BeforeID < 0 || (fl.State != "" && !fl.State.Valid()) {
				t.Fatalf("%q accepted as %+v", raw, fl)
			}
			if _, _, err := ops.ParseReplay(q, now, mode); err == nil && mode == ops.Strict && q.Has("event_id") {
				t.Fatalf("a replay took event_id: %q", raw)
			}
		}
	})
}
