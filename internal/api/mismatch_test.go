package api_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// The answers to a body whose Content-Type contradicts it (issue 16,
// point 5): curl -d sends a form's Content-Type, and a JSON body parsed as
// a form used to be refused for a "missing" MODULE that is plainly there.
const (
	wantJSONAsForm = "body looks like JSON but Content-Type is application/x-www-form-urlencoded; send Content-Type: application/json"
	wantFormAsJSON = "body looks like a form (NAME=value&...) but Content-Type is application/json; send Content-Type: application/x-www-form-urlencoded"
)

// TestParseEventContradictingBody: JSON sent as a form and a form sent as
// JSON are named for what they are, with the Content-Type to send; the
// error is a media type error, not a hook.ErrInvalidEvent.
func TestParseEventContradictingBody(t *testing.T) {
	for _, tc := range []struct{ name, ct, body, want string }{
		{"JSON object as form", ctForm, `{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`, wantJSONAsForm},
		{"JSON object as form with charset", ctForm + "; charset=utf-8", " \n{\"MODULE\":\"M\",\"EVENT\":\"E\"}", wantJSONAsForm},
		{"JSON array as form", ctForm, `[{"MODULE":"M","EVENT":"E"}]`, wantJSONAsForm},
		{"broken JSON as form", ctForm, `{"MODULE":`, wantJSONAsForm},
		{"form as JSON", ctJSON, `MODULE=ISL_LIGHT&EVENT=NEW+SESSION`, wantFormAsJSON},
		{"one form field as JSON", ctJSON, `EVENT=E`, wantFormAsJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.ParseEvent(tc.ct, []byte(tc.body))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %q", err, tc.want)
			}
			if errors.Is(err, hook.ErrInvalidEvent) {
				t.Errorf("%q matches hook.ErrInvalidEvent; it is about the media type", err)
			}
			_, _, err = api.ParseEvents(tc.ct, []byte(tc.body))
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseEvents error = %v\nwant %q", err, tc.want)
			}
		})
	}
	// What is not a contradiction keeps its own answer.
	for _, tc := range []struct{ name, ct, body, want string }{
		{"form missing MODULE", ctForm, `EVENT=E`, `missing required field "MODULE"`},
		{"JSON not starting a form", ctJSON, `MODULE: M`, `invalid JSON at byte 1: invalid character 'M' looking for beginning of value`},
		{"JSON with = inside", ctJSON, `{"MODULE=M"}`, `invalid JSON at byte 11: invalid character '}' after object key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.ParseEvent(tc.ct, []byte(tc.body))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestEmitContradictingBody: POST /v1/events answers such a body 415 with
// the message, as curl's default Content-Type gets it, and emits nothing.
func TestEmitContradictingBody(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	tb.do(t, "POST", "/v1/events", `{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`, "Content-Type", "application/x-www-form-urlencoded").
		wantError(t, http.StatusUnsupportedMediaType, wantJSONAsForm)
	tb.do(t, "POST", "/v1/events", `[{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}]`, "Content-Type", "application/x-www-form-urlencoded").
		wantError(t, http.StatusUnsupportedMediaType, wantJSONAsForm)
	tb.do(t, "POST", "/v1/events", `MODULE=ISL_LIGHT&EVENT=START`, "Content-Type", "application/json").
		wantError(t, http.StatusUnsupportedMediaType, wantFormAsJSON)
	tb.b.set(func(b *fakeBackend) {
		if len(b.emitted) != 0 {
			t.Errorf("refused events were emitted: %v", b.emitted)
		}
	})
}
