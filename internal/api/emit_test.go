package api_test

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

func TestEmit(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "POST", "/v1/events", `{"MODULE":"ISL_CP","EVENT":"USER_CREATE","DOMAIN_ID":"5","TIMESTAMP":1700000000}`,
		"Content-Type", "application/json").want(t, http.StatusAccepted)
	if a.json["event_id"] != "ev-101" {
		t.Errorf("answer = %s", a.raw)
	}
	a = tb.do(t, "POST", "/v1/events", "MODULE=ISL_LIGHT&EVENT=NEW+SESSION&SESSIONID=9",
		"Content-Type", "application/x-www-form-urlencoded").want(t, http.StatusAccepted)
	if a.json["event_id"] != "ev-102" {
		t.Errorf("answer = %s", a.raw)
	}

	want := []map[string]string{
		{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "5", "TIMESTAMP": "1700000000"},
		{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "SESSIONID": "9"},
	}
	tb.b.set(func(b *fakeBackend) {
		if len(b.emitted) != len(want) {
			t.Fatalf("emitted %v", b.emitted)
		}
		for i := range want {
			if !maps.Equal(b.emitted[i], want[i]) {
				t.Errorf("emitted[%d] = %v, want %v", i, b.emitted[i], want[i])
			}
		}
	})
}

func TestEmitRefused(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E","TIMESTAMP":"yesterday"}`, "Content-Type", "application/json").
		wantError(t, http.StatusBadRequest, `field "TIMESTAMP": must be a unix time in seconds, got "yesterday"`)
	tb.do(t, "POST", "/v1/events", `MODULE=M&EVENT=E&EVENT=F`, "Content-Type", "application/x-www-form-urlencoded").
		wantError(t, http.StatusBadRequest, `field "EVENT": given more than once`)
	tb.do(t, "POST", "/v1/events", `MODULE=M&EVENT=E`, "Content-Type", "text/plain").
		wantError(t, http.StatusUnsupportedMediaType,
			`unsupported Content-Type "text/plain": use application/json, application/x-www-form-urlencoded or application/x-ndjson`)
	tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`).
		want(t, http.StatusUnsupportedMediaType) // Go's client sends no Content-Type here

	big := `{"MODULE":"M","EVENT":"E","PAD":"` + strings.Repeat("x", 64<<10) + `"}`
	tb.do(t, "POST", "/v1/events", big, "Content-Type", "application/json").
		wantError(t, http.StatusRequestEntityTooLarge, "request body too large: the limit is 65536 bytes")

	tb.b.set(func(b *fakeBackend) {
		if len(b.emitted) != 0 {
			t.Errorf("refused events were emitted: %v", b.emitted)
		}
	})
}

func TestEmitMaxBody(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{MaxBody: 40})
	tb.do(t, "POST", "/v1/events", `MODULE=M&EVENT=E`, "Content-Type", "application/x-www-form-urlencoded").
		want(t, http.StatusAccepted)
	tb.do(t, "POST", "/v1/events", `MODULE=M&EVENT=E&PAD=`+strings.Repeat("x", 30), "Content-Type", "application/x-www-form-urlencoded").
		wantError(t, http.StatusRequestEntityTooLarge, "request body too large: the limit is 40 bytes")
}

func TestEmitBackendErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err        error
		status     int
		msg        string
		retryAfter string
	}{
		{fmt.Errorf("%w: field \"USERNAME\" is longer than 255 bytes", hook.ErrInvalidEvent), http.StatusBadRequest,
			`invalid event: field "USERNAME" is longer than 255 bytes`, ""},
		{fmt.Errorf("commit event: %w", hook.ErrUnavailable), http.StatusServiceUnavailable,
			"store unavailable, try again", "1"},
		{errors.New("river: insert job: pq: relation \"river_job\" does not exist"), http.StatusInternalServerError,
			"internal error", ""},
	} {
		tb := setup(t, api.Options{})
		tb.b.set(func(b *fakeBackend) { b.emitErr = tc.err })
		a := tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, "Content-Type", "application/json")
		a.wantError(t, tc.status, tc.msg)
		if got := a.header.Get("Retry-After"); got != tc.retryAfter {
			t.Errorf("%v: Retry-After = %q, want %q", tc.err, got, tc.retryAfter)
		}
		if tc.status == http.StatusInternalServerError {
			tb.srv.Close()
			if logs := tb.logs.String(); !strings.Contains(logs, "river_job") {
				t.Errorf("the 500's cause is not logged:\n%s", logs)
			}
		}
	}
}
