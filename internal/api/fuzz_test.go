package api_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// FuzzParseEvent checks that ParseEvent never panics, that every error it
// gives for a body matches hook.ErrInvalidEvent or is the answer to a body
// that contradicts its Content-Type, and that every event it accepts keeps
// the rules and survives a round trip through its encoding.
func FuzzParseEvent(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(strings.HasPrefix(tc.ct, ctForm), []byte(tc.body))
	}
	f.Add(true, []byte(` {"MODULE":"M","EVENT":"E"}`))
	f.Add(true, []byte(`[`))
	f.Add(false, []byte(`MODULE=M&EVENT=E`))
	f.Add(false, []byte(`=x`))
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		ct := ctJSON
		if form {
			ct = ctForm
		}
		fields, err := api.ParseEvent(ct, body)
		if err != nil {
			checkBodyError(t, form, body, err)
			return
		}
		checkRules(t, fields)

		// What was accepted is accepted again, unchanged, once re-encoded.
		var again []byte
		if form {
			v := url.Values{}
			for k, s := range fields {
				v.Set(k, s)
			}
			again = []byte(v.Encode())
		} else if again, err = json.Marshal(fields); err != nil {
			t.Fatal(err)
		}
		back, err := api.ParseEvent(ct, again)
		if err != nil {
			t.Fatalf("re-encoded event %q refused: %v", again, err)
		}
		if !maps.Equal(back, fields) {
			t.Fatalf("round trip changed the event:\n%q\n%q", fields, back)
		}
	})
}

// checkBodyError fails t unless err is a non-empty hook.ErrInvalidEvent,
// or the media type answer to JSON sent as a form (its first byte other
// than white space is '{' or '[') or to a form sent as JSON (it starts
// with NAME=, and is not JSON).
func checkBodyError(t *testing.T, form bool, body []byte, err error) {
	t.Helper()
	if errors.Is(err, hook.ErrInvalidEvent) && err.Error() != "" {
		return
	}
	first := strings.TrimLeft(string(body), " \t\r\n")
	switch {
	case form && err.Error() == wantJSONAsForm:
		if first == "" || (first[0] != '{' && first[0] != '[') {
			t.Fatalf("form %q refused as JSON", body)
		}
	case !form && err.Error() == wantFormAsJSON:
		name, _, ok := strings.Cut(string(body), "=")
		if !ok || name == "" || strings.ContainsAny(name, " {[\"") || json.Valid(body) {
			t.Fatalf("JSON %q refused as a form", body)
		}
	default:
		t.Fatalf("error %q: want a non-empty hook.ErrInvalidEvent or a Content-Type hint", err)
	}
}

// checkRules fails t unless fields is an event ParseEvent may accept.
func checkRules(t *testing.T, fields map[string]string) {
	t.Helper()
	if len(fields) > 256 {
		t.Fatalf("%d fields accepted", len(fields))
	}
	for _, name := range []string{"MODULE", "EVENT"} {
		if fields[name] == "" {
			t.Fatalf("accepted without %s: %q", name, fields)
		}
	}
	if _, ok := fields["EVENT_ID"]; ok {
		t.Fatalf("accepted with EVENT_ID: %q", fields)
	}
	if ts, ok := fields["TIMESTAMP"]; ok {
		if n, err := strconv.ParseInt(ts, 10, 64); err != nil || n < 0 || ts[0] == '+' {
			t.Fatalf("accepted TIMESTAMP %q", ts)
		}
	}
	for name, v := range fields {
		if len(name) < 1 || len(name) > 128 {
			t.Fatalf("accepted name of %d bytes", len(name))
		}
		for i := 0; i < len(name); i++ {
			if name[i] <= ' ' || name[i] > '~' {
				t.Fatalf("accepted name %q", name)
			}
		}
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			t.Fatalf("accepted value %q of %q", v, name)
		}
	}
}

// FuzzParseEvents checks that ParseEvents never panics, that its errors
// match hook.ErrInvalidEvent, and that a batch it accepts holds 1 to
// MaxBatch events that each keep the rules.
func FuzzParseEvents(f *testing.F) {
	f.Add(true, []byte(`[{"MODULE":"M","EVENT":"E"},{"MODULE":"M","EVENT":"F","N":2}]`))
	f.Add(false, []byte("{\"MODULE\":\"M\",\"EVENT\":\"E\"}\n\n{\"MODULE\":\"M\",\"EVENT\":\"F\"}\r\n"))
	f.Add(true, []byte(`{"MODULE":"M","EVENT":"E"}`))
	f.Add(true, []byte(`[{"MODULE":"M"},]`))
	f.Add(false, []byte("[1]\n{}"))
	f.Add(true, []byte("MODULE=M&EVENT=E"))
	f.Fuzz(func(t *testing.T, array bool, body []byte) {
		ct := "application/x-ndjson"
		if array {
			ct = "application/json"
		}
		evs, _, err := api.ParseEvents(ct, body)
		if err != nil {
			checkBodyError(t, false, body, err)
			return
		}
		if len(evs) < 1 || len(evs) > api.MaxBatch {
			t.Fatalf("%d events accepted", len(evs))
		}
		for _, fields := range evs {
			checkRules(t, fields)
		}
	})
}
