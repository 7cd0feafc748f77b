package admin

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseList: any query is either a filter within bounds or an error
// that names the parameter it refuses.
func FuzzParseList(f *testing.F) {
	for _, q := range []string{"", "state=dead&target=jwt_webhook&since=24h&before=40", "state=lost", "since=2026-11-29T10:00:00Z",
		"before=-1", "before=99999999999999999999", "event_id=" + strings.Repeat("e", 300), "since=2026-11-29+10:00"} {
		f.Add(q)
	}
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, form, err := parseList(q, now)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "state ") && !strings.HasPrefix(msg, "since ") && !strings.HasPrefix(msg, "before ") &&
				!strings.HasPrefix(msg, "target ") && !strings.HasPrefix(msg, "event_id ") && !strings.HasPrefix(msg, "limit ") {
				t.Errorf("error %q does not name the parameter", msg)
			}
			return
		}
		if len(flt.Target) > maxNameLen || len(flt.EventID) > maxNameLen || flt.Limit != pageSize+1 || flt.BeforeID < 0 {
			t.Errorf("filter out of bounds: %+v", flt)
		}
		if flt.State != "" && !flt.State.Valid() {
			t.Errorf("invalid state %q accepted", flt.State)
		}
		if form.State != string(flt.State) {
			t.Errorf("form state %q, filter %q", form.State, flt.State)
		}
	})
}
