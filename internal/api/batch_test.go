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

const ctNDJSON = "application/x-ndjson"

// ndjson returns n events, one per line.
func ndjson(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"MODULE":"ISL_CP","EVENT":"USER_CREATE","USERNAME":"u%d"}`+"\n", i)
	}
	return b.String()
}

func TestParseEvents(t *testing.T) {
	t.Parallel()
	one := map[string]string{"MODULE": "M", "EVENT": "E"}
	two := map[string]string{"MODULE": "M", "EVENT": "F", "N": "2"}
	for _, tc := range []struct {
		name, ct, body string
		want           []map[string]string
		batch          bool
		wantErr        string
	}{
		{name: "object is one event", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E"}`, want: []map[string]string{one}},
		{name: "form is one event", ct: ctForm, body: `MODULE=M&EVENT=E`, want: []map[string]string{one}},
		{name: "array", ct: ctJSON, body: " [ {\"MODULE\":\"M\",\"EVENT\":\"E\"},\n{\"MODULE\":\"M\",\"EVENT\":\"F\",\"N\":2} ] ",
			want: []map[string]string{one, two}, batch: true},
		{name: "array of one", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"}]`, want: []map[string]string{one}, batch: true},
		{name: "ndjson", ct: ctNDJSON, body: "{\"MODULE\":\"M\",\"EVENT\":\"E\"}\r\n\n{\"MODULE\":\"M\",\"EVENT\":\"F\",\"N\":\"2\"}",
			want: []map[string]string{one, two}, batch: true},
		{name: "jsonl is ndjson", ct: "application/jsonl; charset=utf-8", body: `{"MODULE":"M","EVENT":"E"}`,
			want: []map[string]string{one}, batch: true},

		{name: "empty array", ct: ctJSON, body: `[]`, wantErr: "empty batch: send at least one event"},
		{name: "empty ndjson", ct: ctNDJSON, body: "\n \n", wantErr: "empty body: send the event's fields"},
		{name: "array of strings", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"},"x"]`,
			wantErr: "event 2: must be a JSON object of the event's fields, got a string"},
		{name: "bad field in array", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"},{"MODULE":"M","EVENT":"E","TIMESTAMP":"soon"}]`,
			wantErr: `event 2: field "TIMESTAMP": must be a unix time in seconds, got "soon"`},
		{name: "missing EVENT in array", ct: ctJSON, body: `[{"MODULE":"M"}]`,
			wantErr: `event 1: missing required field "EVENT"`},
		{name: "unclosed array", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"}`,
			wantErr: "invalid JSON: the body ends before the object does"},
		{name: "data after array", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"}] {}`,
			wantErr: "invalid JSON: unexpected data after the array"},
		{name: "nested array", ct: ctJSON, body: `[[{"MODULE":"M","EVENT":"E"}]]`,
			wantErr: "event 1: must be a JSON object of the event's fields, got an array"},
		{name: "bad ndjson line", ct: ctNDJSON, body: "{\"MODULE\":\"M\",\"EVENT\":\"E\"}\n\n{\"MODULE\":\"M\",\"EVENT\":\"E\",\"X\":true}\n",
			wantErr: `line 3: field "X": must be a string or a number, got a boolean`},
		{name: "ndjson array line", ct: ctNDJSON, body: `[{"MODULE":"M","EVENT":"E"}]`,
			wantErr: "line 1: body must be a JSON object of the event's fields, got an array"},
		{name: "ndjson two objects on a line", ct: ctNDJSON, body: `{"MODULE":"M","EVENT":"E"} {"MODULE":"M","EVENT":"E"}`,
			wantErr: "line 1: invalid JSON: unexpected data after the object"},
		{name: "too many in array", ct: ctJSON, body: "[" + strings.Repeat(`{"MODULE":"M","EVENT":"E"},`, api.MaxBatch) + `{"MODULE":"M","EVENT":"E"}]`,
			wantErr: "too many events: at most 1000 are allowed in one request"},
		{name: "too many in ndjson", ct: ctNDJSON, body: ndjson(api.MaxBatch + 1),
			wantErr: "too many events: at most 1000 are allowed in one request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, batch, err := api.ParseEvents(tc.ct, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				if !errors.Is(err, hook.ErrInvalidEvent) {
					t.Errorf("error %v does not match hook.ErrInvalidEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if batch != tc.batch || len(evs) != len(tc.want) {
				t.Fatalf("got %d events, batch %v; want %d, batch %v", len(evs), batch, len(tc.want), tc.batch)
			}
			for i := range evs {
				if !maps.Equal(evs[i], tc.want[i]) {
					t.Errorf("event %d = %v, want %v", i, evs[i], tc.want[i])
				}
			}
		})
	}
	if _, err := api.ParseEvent(ctNDJSON, []byte(`{"MODULE":"M","EVENT":"E"}`)); err == nil ||
		err.Error() != `Content-Type "application/x-ndjson" is for a batch; one event is application/json or application/x-www-form-urlencoded` {
		t.Errorf("ParseEvent(ndjson) error = %v", err)
	}
}

func TestEmitBatch(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	a := tb.do(t, "POST", "/v1/events", `[{"MODULE":"M","EVENT":"A"},{"MODULE":"M","EVENT":"B"}]`, "Content-Type", ctJSON).
		want(t, http.StatusAccepted)
	if a.raw != `{"event_ids":["ev-101","ev-102"]}`+"\n" {
		t.Errorf("answer = %q", a.raw)
	}
	a = tb.do(t, "POST", "/v1/events", ndjson(3), "Content-Type", ctNDJSON).want(t, http.StatusAccepted)
	if a.raw != `{"event_ids":["ev-103","ev-104","ev-105"]}`+"\n" {
		t.Errorf("answer = %q", a.raw)
	}
	a = tb.do(t, "POST", "/v1/events", ndjson(2), "Content-Type", ctNDJSON, "Idempotency-Key", "seen").want(t, http.StatusOK)
	if a.raw != `{"event_ids":["ev-first","ev-first-1"],"repeated":true}`+"\n" {
		t.Errorf("repeat answer = %q", a.raw)
	}

	// Refused batches commit nothing.
	tb.do(t, "POST", "/v1/events", `[{"MODULE":"M","EVENT":"A"},{"MODULE":"M"}]`, "Content-Type", ctJSON).
		wantError(t, http.StatusBadRequest, `event 2: missing required field "EVENT"`)
	tb.do(t, "POST", "/v1/events", ndjson(api.MaxBatch+1), "Content-Type", ctNDJSON).
		wantError(t, http.StatusRequestEntityTooLarge, "too many events: at most 1000 are allowed in one request")
	tb.b.set(func(b *fakeBackend) {
		if len(b.emitted) != 5 {
			t.Errorf("%d events emitted, want 5", len(b.emitted))
		}
	})
}

func TestEmitBatchLimits(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{MaxBody: 100, MaxBatchBody: 300})
	// A batch may exceed the one-event limit, up to its own.
	tb.do(t, "POST", "/v1/events", ndjson(4), "Content-Type", ctNDJSON).want(t, http.StatusAccepted)
	tb.do(t, "POST", "/v1/events", ndjson(6), "Content-Type", ctNDJSON).
		wantError(t, http.StatusRequestEntityTooLarge, "request body too large: the limit is 300 bytes for a batch, 100 for one event")
	// One event in a JSON body keeps the one-event limit.
	big := `{"MODULE":"M","EVENT":"E","PAD":"` + strings.Repeat("x", 120) + `"}`
	tb.do(t, "POST", "/v1/events", big, "Content-Type", ctJSON).
		wantError(t, http.StatusRequestEntityTooLarge, "request body too large: the limit is 100 bytes")
	tb.do(t, "POST", "/v1/events", "MODULE=M&EVENT=E&PAD="+strings.Repeat("x", 120), "Content-Type", ctForm).
		wantError(t, http.StatusRequestEntityTooLarge, "request body too large: the limit is 100 bytes")
}
