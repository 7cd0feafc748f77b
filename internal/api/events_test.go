package api_test

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

// parseCase is one ParseEvent input and either the fields or the exact
// error message it must give.
type parseCase struct {
	name    string
	ct      string
	body    string
	want    map[string]string // when wantErr is ""
	wantErr string
}

// manyFields returns a body with MODULE, EVENT and n-2 more fields.
func manyFields(ct string, n int) string {
	if ct == ctJSON {
		var b strings.Builder
		b.WriteString(`{"MODULE":"ISL_CP","EVENT":"X"`)
		for i := range n - 2 {
			fmt.Fprintf(&b, `,"F%d":"v"`, i)
		}
		return b.String() + "}"
	}
	v := url.Values{"MODULE": {"ISL_CP"}, "EVENT": {"X"}}
	for i := range n - 2 {
		v.Set(fmt.Sprint("F", i), "v")
	}
	return v.Encode()
}

var (
	name128 = strings.Repeat("N", 128)
	name129 = strings.Repeat("N", 129)
	tooLong = `field name "` + strings.Repeat("N", 32) + `"... is 129 bytes long: at most 128 are allowed`
)

var parseCases = []parseCase{
	// JSON
	{name: "json good", ct: ctJSON,
		body: `{"MODULE":"ISL_CP","EVENT":"USER_CREATE","DOMAIN_ID":"5","USERNAME":"ann"}`,
		want: map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "5", "USERNAME": "ann"}},
	{name: "json charset and white space", ct: "application/json; charset=UTF-8",
		body: " {\n\"MODULE\" : \"M\",\t\"EVENT\":\"E\", \"EMPTY\":\"\"}\n",
		want: map[string]string{"MODULE": "M", "EVENT": "E", "EMPTY": ""}},
	{name: "json numbers kept as text", ct: ctJSON,
		body: `{"MODULE":"ISL_LIGHT","EVENT":"START","TIMESTAMP":1700000000,"RATIO":1.50,"N":-3,"E":1e3}`,
		want: map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "TIMESTAMP": "1700000000", "RATIO": "1.50", "N": "-3", "E": "1e3"}},
	{name: "json NEW SESSION kept verbatim", ct: ctJSON,
		body: `{"MODULE":"ISL_LIGHT","EVENT":"NEW SESSION","SESSIONID":"7"}`,
		want: map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "SESSIONID": "7"}},
	{name: "json escapes and unicode", ct: ctJSON,
		body: `{"MODULE":"M","EVENT":"E","NICK":"\u017dan \"z\" ` + "čšž" + `"}`,
		want: map[string]string{"MODULE": "M", "EVENT": "E", "NICK": `Žan "z" čšž`}},
	{name: "json nested object", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","USER":{"id":"1"}}`,
		wantErr: `field "USER": must be a string or a number, got an object`},
	{name: "json array", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","IDS":["1"]}`,
		wantErr: `field "IDS": must be a string or a number, got an array`},
	{name: "json null", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","EMAIL":null}`,
		wantErr: `field "EMAIL": must be a string or a number, got null`},
	{name: "json bool", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","ACTIVE":true}`,
		wantErr: `field "ACTIVE": must be a string or a number, got a boolean`},
	{name: "json duplicate key", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","MODULE":"N"}`,
		wantErr: `field "MODULE": given more than once`},
	{name: "json trailing garbage", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E"} x`,
		wantErr: `invalid JSON: unexpected data after the object`},
	{name: "json second object", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E"}{}`,
		wantErr: `invalid JSON: unexpected data after the object`},
	{name: "json array top level", ct: ctJSON, body: `[{"MODULE":"M","EVENT":"E"}]`,
		wantErr: `body must be a JSON object of the event's fields, got an array`},
	{name: "json string top level", ct: ctJSON, body: `"MODULE"`,
		wantErr: `body must be a JSON object of the event's fields, got a string`},
	{name: "json syntax error", ct: ctJSON, body: `{"MODULE":}`,
		wantErr: `invalid JSON at byte 10: invalid character '}' looking for beginning of value`},
	{name: "json truncated", ct: ctJSON, body: `{"MODULE":"M"`,
		wantErr: `invalid JSON: the body ends before the object does`},
	{name: "json missing MODULE", ct: ctJSON, body: `{"EVENT":"E"}`,
		wantErr: `missing required field "MODULE"`},
	{name: "json empty MODULE", ct: ctJSON, body: `{"MODULE":"","EVENT":"E"}`,
		wantErr: `field "MODULE": must not be empty`},
	{name: "json missing EVENT", ct: ctJSON, body: `{"MODULE":"M"}`,
		wantErr: `missing required field "EVENT"`},
	{name: "json bad TIMESTAMP", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","TIMESTAMP":"yesterday"}`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "yesterday"`},
	{name: "json negative TIMESTAMP", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","TIMESTAMP":-1}`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "-1"`},
	{name: "json float TIMESTAMP", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","TIMESTAMP":1.7e9}`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "1.7e9"`},
	{name: "json overflowing TIMESTAMP", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","TIMESTAMP":"99999999999999999999"}`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "99999999999999999999"`},
	{name: "json EVENT_ID present", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","EVENT_ID":"x"}`,
		wantErr: `field "EVENT_ID": must not be sent, hookd assigns it`},
	{name: "json 256 fields", ct: ctJSON, body: manyFields(ctJSON, 256), want: nil /* checked by count */},
	{name: "json 257 fields", ct: ctJSON, body: manyFields(ctJSON, 257),
		wantErr: `too many fields: at most 256 are allowed`},
	{name: "json 128-byte name", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","` + name128 + `":"v"}`,
		want: map[string]string{"MODULE": "M", "EVENT": "E", name128: "v"}},
	{name: "json long name", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","` + name129 + `":"v"}`,
		wantErr: tooLong},
	{name: "json empty name", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","":"v"}`,
		wantErr: `empty field name`},
	{name: "json space in name", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","NEW SESSION":"v"}`,
		wantErr: `field name "NEW SESSION": only printable ASCII without spaces is allowed`},
	{name: "json non-ASCII name", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","Ž":"v"}`,
		wantErr: `field name "Ž": only printable ASCII without spaces is allowed`},
	{name: "json NUL in value", ct: ctJSON, body: `{"MODULE":"M","EVENT":"E","NICK":"a\u0000b"}`,
		wantErr: `field "NICK": value contains a NUL byte`},
	{name: "json invalid UTF-8", ct: ctJSON, body: "{\"MODULE\":\"M\",\"EVENT\":\"E\",\"NICK\":\"a\xffb\"}",
		wantErr: `field "NICK": value is not valid UTF-8`},
	{name: "json empty body", ct: ctJSON, body: ``, wantErr: `empty body: send the event's fields`},
	{name: "json white space body", ct: ctJSON, body: " \n", wantErr: `empty body: send the event's fields`},

	// Form
	{name: "form good", ct: ctForm, body: `MODULE=ISL_LIGHT&EVENT=START&TIMESTAMP=1700000000&SESSIONID=42&reasonAddress=10.0.0.1`,
		want: map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "START", "TIMESTAMP": "1700000000", "SESSIONID": "42", "reasonAddress": "10.0.0.1"}},
	{name: "form NEW SESSION kept verbatim", ct: ctForm + "; charset=UTF-8", body: `MODULE=ISL_LIGHT&EVENT=NEW+SESSION&NOTE=a%20b%26c%3Dd`,
		want: map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "NOTE": "a b&c=d"}},
	{name: "form empty values and pairs", ct: ctForm, body: `MODULE=M&&EVENT=E&EMAIL=&FLAG`,
		want: map[string]string{"MODULE": "M", "EVENT": "E", "EMAIL": "", "FLAG": ""}},
	{name: "form duplicate field", ct: ctForm, body: `MODULE=M&EVENT=E&EVENT=F`,
		wantErr: `field "EVENT": given more than once`},
	{name: "form missing MODULE", ct: ctForm, body: `EVENT=E`, wantErr: `missing required field "MODULE"`},
	{name: "form missing EVENT", ct: ctForm, body: `MODULE=M`, wantErr: `missing required field "EVENT"`},
	{name: "form bad TIMESTAMP", ct: ctForm, body: `MODULE=M&EVENT=E&TIMESTAMP=yesterday`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "yesterday"`},
	{name: "form signed TIMESTAMP", ct: ctForm, body: `MODULE=M&EVENT=E&TIMESTAMP=%2B5`,
		wantErr: `field "TIMESTAMP": must be a unix time in seconds, got "+5"`},
	{name: "form EVENT_ID present", ct: ctForm, body: `MODULE=M&EVENT=E&EVENT_ID=1`,
		wantErr: `field "EVENT_ID": must not be sent, hookd assigns it`},
	{name: "form 256 fields", ct: ctForm, body: manyFields(ctForm, 256)},
	{name: "form 257 fields", ct: ctForm, body: manyFields(ctForm, 257), wantErr: `too many fields: at most 256 are allowed`},
	{name: "form long name", ct: ctForm, body: `MODULE=M&EVENT=E&` + name129 + `=v`, wantErr: tooLong},
	{name: "form space in name", ct: ctForm, body: `MODULE=M&EVENT=E&A+B=v`,
		wantErr: `field name "A B": only printable ASCII without spaces is allowed`},
	{name: "form NUL in value", ct: ctForm, body: `MODULE=M&EVENT=E&NICK=a%00b`,
		wantErr: `field "NICK": value contains a NUL byte`},
	{name: "form invalid UTF-8", ct: ctForm, body: `MODULE=M&EVENT=E&NICK=a%FFb`,
		wantErr: `field "NICK": value is not valid UTF-8`},
	{name: "form bad escape in name", ct: ctForm, body: `MODULE=M&%zz=1`,
		wantErr: `invalid form encoding: invalid URL escape "%zz"`},
	{name: "form bad escape in value", ct: ctForm, body: `MODULE=M&EVENT=%G1`,
		wantErr: `field "EVENT": invalid form encoding: invalid URL escape "%G1"`},
	{name: "form empty body", ct: ctForm, body: ``, wantErr: `empty body: send the event's fields`},
}

func TestParseEvent(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := api.ParseEvent(tc.ct, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseEvent() = %v, want error %q", got, tc.wantErr)
				}
				if err.Error() != tc.wantErr {
					t.Errorf("error = %q\n          want %q", err, tc.wantErr)
				}
				if !errors.Is(err, hook.ErrInvalidEvent) {
					t.Errorf("error %q does not wrap hook.ErrInvalidEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEvent() error = %v", err)
			}
			if tc.want == nil { // the 256-field cases
				if len(got) != 256 {
					t.Errorf("got %d fields, want 256", len(got))
				}
				return
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("ParseEvent() = %v\n             want %v", got, tc.want)
			}
		})
	}
}

func TestParseEventContentType(t *testing.T) {
	body := []byte(`{"MODULE":"M","EVENT":"E"}`)
	for ct, want := range map[string]string{
		"":                                 "missing Content-Type: use application/json, application/x-www-form-urlencoded or application/x-ndjson",
		"text/plain":                       `unsupported Content-Type "text/plain": use application/json, application/x-www-form-urlencoded or application/x-ndjson`,
		"multipart/form-data; b=x":         `unsupported Content-Type "multipart/form-data; b=x": use application/json, application/x-www-form-urlencoded or application/x-ndjson`,
		"application/json; charset=":       `unsupported Content-Type "application/json; charset=": use application/json, application/x-www-form-urlencoded or application/x-ndjson`,
		"application/json; charset=latin1": `unsupported charset "latin1": use UTF-8`,
	} {
		_, err := api.ParseEvent(ct, body)
		if err == nil || err.Error() != want {
			t.Errorf("ParseEvent(%q) error = %v, want %q", ct, err, want)
		}
		if errors.Is(err, hook.ErrInvalidEvent) {
			t.Errorf("ParseEvent(%q): a media type error must not match hook.ErrInvalidEvent", ct)
		}
	}
	if _, err := api.ParseEvent("Application/JSON", body); err != nil {
		t.Errorf("media type is case-insensitive: %v", err)
	}
}

// TestIdempotencyKey: a repeated POST with the same key answers 200 with
// the first event's ID; with other fields, 409.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	tb := setup(t, api.Options{})
	const body = `{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`
	tb.do(t, "POST", "/v1/events", body, "Content-Type", "application/json", "Idempotency-Key", "new").want(t, http.StatusAccepted)
	a := tb.do(t, "POST", "/v1/events", body, "Content-Type", "application/json", "Idempotency-Key", "seen").want(t, http.StatusOK)
	if a.raw != `{"event_id":"ev-first","repeated":true}`+"\n" {
		t.Errorf("repeat answered %s", a.raw)
	}
	tb.do(t, "POST", "/v1/events", body, "Content-Type", "application/json", "Idempotency-Key", "reused").
		wantError(t, http.StatusConflict, `idempotency key "reused" was used for event ev-first with other fields: conflict`)
}
