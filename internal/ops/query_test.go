package ops_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/ops"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func query(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestParseList: one parser reads every view's list query, with one set
// of words for each mistake.
func TestParseList(t *testing.T) {
	t.Parallel()
	f, err := ops.ParseList(query(t, "state=dead&target=+jwt_webhook+&event_id=ev-1&since=2h&before=71&limit=5"), now, ops.Strict)
	want := hook.DeliveryFilter{State: hook.StateDead, Target: "jwt_webhook", EventID: "ev-1",
		Since: now.Add(-2 * time.Hour), BeforeID: 71, Limit: 5}
	if err != nil || f != want {
		t.Fatalf("got %+v, %v; want %+v", f, err, want)
	}
	if f, err := ops.ParseList(query(t, "state=&target=&csrf=x"), now, ops.Lax); err != nil || f != (hook.DeliveryFilter{}) {
		t.Errorf("empty fields, lax: %+v, %v", f, err)
	}
	for q, msg := range map[string]string{
		"state=bogus":                          `state "bogus" is not one of pending, retrying, delivered, dead, discarded`,
		"limit=abc":                            `limit "abc": must be a number from 1 to 1000`,
		"limit=1001":                           `limit "1001": must be a number from 1 to 1000`,
		"before=-5":                            `before "-5": must be a delivery id (a positive integer)`,
		"since=yesterday":                      `since "yesterday": must be a duration back from now (90m, 24h), an RFC 3339 time (2026-11-29T10:00:00Z) or a UTC date and time (2026-11-29 10:00)`,
		"limt=5":                               `unknown query parameter "limt": use state, target, event_id, since, before, limit`,
		"state=dead&state=pending":             `query parameter "state" given more than once`,
		"target=" + strings.Repeat("t", 256):   `target is 256 bytes long; a target name is at most 255`,
		"event_id=" + strings.Repeat("e", 256): `event_id is 256 bytes long; an EVENT_ID is at most 255`,
	} {
		if _, err := ops.ParseList(query(t, q), now, ops.Strict); err == nil || err.Error() != msg {
			t.Errorf("%.40s: %v, want %q", q, err, msg)
		}
	}
	if _, err := ops.ParseList(query(t, "limit="), now, ops.Strict); err == nil || err.Error() != `limit "": must be a number from 1 to 1000` {
		t.Errorf("an empty limit, strict: %v", err)
	}
	if _, err := ops.ParseList(query(t, "limt=5&back=/admin/&limit=&since=+"), now, ops.Lax); err != nil {
		t.Errorf("lax refuses a parameter that is not a filter: %v", err)
	}
}

func TestParseReplay(t *testing.T) {
	t.Parallel()
	f, force, err := ops.ParseReplay(query(t, "target=t&since=24h&limit=10&force=true"), now, ops.Strict)
	if err != nil || !force || f.State != hook.StateDead || f.Target != "t" || f.Limit != 10 || !f.Since.Equal(now.Add(-24*time.Hour)) {
		t.Fatalf("%+v force %v: %v", f, force, err)
	}
	if _, force, err := ops.ParseReplay(query(t, "force=1&back=/admin/dead"), now, ops.Lax); err != nil || !force {
		t.Errorf("the confirm form's force=1: %v %v", force, err)
	}
	for q, msg := range map[string]string{
		"state=delivered": `state "delivered": a replay takes dead, discarded or retrying deliveries (dead when left out)`,
		"limit=10001":     `limit "10001": must be a number from 1 to 10000 (leave it out to replay every match)`,
		"force=maybe":     `force "maybe": must be true or false`,
		"targte=x":        `unknown query parameter "targte": use state, target, since, limit, force`,
	} {
		if _, _, err := ops.ParseReplay(query(t, q), now, ops.Strict); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %q", q, err, msg)
		}
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]time.Time{
		"90m":                  now.Add(-90 * time.Minute),
		"0s":                   now,
		"2026-11-29T09:30:00Z": time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"2026-11-29T09:30":     time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"2026-11-29 09:30":     time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC),
		"2026-11-29":           time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := ops.ParseSince(s, now); err != nil || !got.Equal(want) {
			t.Errorf("%s: %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"-5m", "soon", strings.Repeat("1", 100)} {
		if _, err := ops.ParseSince(s, now); err == nil {
			t.Errorf("%.20s accepted", s)
		}
	}
	if id, err := ops.ParseID("42"); err != nil || id != 42 {
		t.Errorf("ParseID(42) = %d, %v", id, err)
	}
	for _, s := range []string{"", "0", "+1", "-1", "x", "99999999999999999999"} {
		if _, err := ops.ParseID(s); err == nil {
			t.Errorf("ParseID(%q) accepted", s)
		}
	}
}
