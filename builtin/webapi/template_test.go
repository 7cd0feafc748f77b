package webapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrt/hookd/builtin/webapi"
)

const (
	allowed   = "the placeholders are {{name}}, {{domain}}, {{email}}, {{fullname}}, {{id}}"
	notJSON   = `template is not valid JSON once the placeholders are filled in (%s): write the inside of a JSON object, e.g. "userName": {{name}}, "userDomain": {{domain}}, or a whole object {...}`
	inQuotes  = `placeholder {{name}} at byte %s is inside a JSON string: placeholders stand for whole JSON values; do not put them inside quotes (write "userName": {{name}}, not "userName": "{{name}}")`
	emptyTmpl = `template is empty: write the inside of a JSON object, e.g. "userName": {{name}}, "userDomain": {{domain}}`
)

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	v := webapi.Values{Name: "ann", Domain: "acme", Email: "ann@acme.example", FullName: "Ann", ID: "7"}
	for _, tc := range []struct {
		tmpl, want, err string
	}{
		// Valid: the rendered JSON.
		{tmpl: seedParams, want: `{"userName": "ann", "userDomain": "acme"}`},
		{tmpl: `{"user": {"name": {{name}}, "id": {{id}}}, "mail": {{email}}}`, want: `{"user": {"name": "ann", "id": "7"}, "mail": "ann@acme.example"}`},
		{tmpl: "\n  {\"a\": {{ fullname }}}\n", want: "\n  {\"a\": \"Ann\"}\n"},
		{tmpl: "\"u\": {{\tname\t}}, \"d\": {{domain }}", want: `{"u": "ann", "d": "acme"}`},
		{tmpl: `"fixed": [1, true, null, {"x": "}}"}], "n": {{name}}`, want: `{"fixed": [1, true, null, {"x": "}}"}], "n": "ann"}`},
		{tmpl: `"quote\"d": "a \\", "n": {{name}}`, want: `{"quote\"d": "a \\", "n": "ann"}`},
		{tmpl: `{{name}}: {{id}}`, want: `{"ann": "7"}`},
		{tmpl: `{{{name}}: 1}`, want: `{"ann": 1}`},
		{tmpl: `{}`, want: `{}`},

		// Invalid: the exact error.
		{tmpl: "", err: emptyTmpl},
		{tmpl: " \n\t", err: emptyTmpl},
		{tmpl: `"u": "{{name}}"`, err: strings.Replace(inQuotes, "%s", "6", 1)},
		{tmpl: `"u": "Mr. {{ name }}"`, err: strings.Replace(inQuotes, "%s", "10", 1)},
		{tmpl: `"u": "\"{{name}}"`, err: strings.Replace(inQuotes, "%s", "8", 1)},
		{tmpl: `"u": {{nmae}}`, err: "unknown placeholder {{nmae}} at byte 5; " + allowed},
		{tmpl: `"u": {{Name}}`, err: "unknown placeholder {{Name}} at byte 5; " + allowed},
		{tmpl: `"u": {{}}`, err: "unknown placeholder {{}} at byte 5; " + allowed},
		{tmpl: `"u": {{ user name that goes on and on and on and on }}`, err: "unknown placeholder {{ user name that goes on and on and on … at byte 5; " + allowed},
		{tmpl: `"u": {{name`, err: `unclosed "{{" at byte 5: a placeholder is written {{name}}; ` + allowed},
		{tmpl: `"u": {{name}}, "d": {{domain}`, err: `unclosed "{{" at byte 20: a placeholder is written {{name}}; ` + allowed},
		{tmpl: `"u": {{name}},`, err: strings.Replace(notJSON, "%s", "invalid character '}' looking for beginning of object key string", 1)},
		{tmpl: `"u": {{name}} "d": 1`, err: strings.Replace(notJSON, "%s", `invalid character '"' after object key:value pair`, 1)},
		{tmpl: `"u": {{name}}{{domain}}`, err: strings.Replace(notJSON, "%s", `invalid character '"' after object key:value pair`, 1)},
		{tmpl: `[{{name}}]`, err: strings.Replace(notJSON, "%s", "invalid character '[' looking for beginning of object key string", 1)},
		{tmpl: `userName: {{name}}`, err: strings.Replace(notJSON, "%s", "invalid character 'u' looking for beginning of object key string", 1)},
		{tmpl: `{"a": 1} {"b": {{name}}}`, err: strings.Replace(notJSON, "%s", "invalid character '{' after top-level value", 1)},
		{tmpl: `"a": 1}, {"b": {{name}}`, err: strings.Replace(notJSON, "%s", "invalid character ',' after top-level value", 1)},
	} {
		tp, err := webapi.ParseTemplate(tc.tmpl)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseTemplate(%q):\n got %v\nwant %s", tc.tmpl, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tc.tmpl, err)
			continue
		}
		got, err := tp.Render(v)
		if err != nil || string(got) != tc.want {
			t.Errorf("Render of %q:\n got %s, %v\nwant %s", tc.tmpl, got, err, tc.want)
		}
		if tp.String() != tc.tmpl {
			t.Errorf("String() = %q", tp.String())
		}
	}
}

// hostile are values that would break naive substitution.
var hostile = []webapi.Values{
	{Name: `"`, Domain: `\`, Email: `\"`, FullName: "line\nbreak\r\ttab", ID: "nul\x00byte"},
	{Name: `{{name}}`, Domain: `}}`, Email: `", "admin": true, "x": "`, FullName: "Ünïcødé ✓ 😀", ID: "\u2028\u2029"},
	{Name: "", Domain: "</script>&<!--", Email: "\x1f\x7f", FullName: "\ufeffbom", ID: strings.Repeat(`\"`, 100)},
}

// render parses a template naming every placeholder and renders v.
func render(t testing.TB, v webapi.Values) []byte {
	t.Helper()
	tp, err := webapi.ParseTemplate(`"n": {{name}}, "d": {{domain}}, "e": {{email}}, "f": {{fullname}}, "i": {{ id }}, "nested": {"n": {{name}}}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tp.Render(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkRendered requires b to be a JSON object carrying v's values
// exactly (invalid UTF-8 aside, which JSON cannot carry).
func checkRendered(t testing.TB, v webapi.Values, b []byte) {
	t.Helper()
	var got struct {
		N, D, E, F, I string
		Nested        struct{ N string }
		Admin         *bool
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("rendered %q: %v", b, err)
	}
	want := []string{v.Name, v.Domain, v.Email, v.FullName, v.ID, v.Name}
	for i, g := range []string{got.N, got.D, got.E, got.F, got.I, got.Nested.N} {
		if w := string([]rune(want[i])); g != w { // []rune: each invalid byte becomes U+FFFD, as in JSON
			t.Errorf("field %d: got %q, want %q (rendered %s)", i, g, w, b)
		}
	}
	if got.Admin != nil {
		t.Errorf("a value injected a field: %s", b)
	}
}

func TestRenderHostileValues(t *testing.T) {
	t.Parallel()
	for _, v := range hostile {
		checkRendered(t, v, render(t, v))
	}
}

// TestRenderEscaping: values are escaped as JSON string literals, the way
// encoding/json writes them with HTML escaping off, checked against a fixed
// table (not against the encoder the implementation uses).
func TestRenderEscaping(t *testing.T) {
	t.Parallel()
	tp, err := webapi.ParseTemplate(`"v": {{name}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"a<b>&c", `"a<b>&c"`}, // no HTML escaping
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{"\n\r\t", `"\n\r\t"`},
		{"\b\f\v", `"\b\f\u000b"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"\xff\xfe\xc3", `"\ufffd\ufffd\ufffd"`}, // invalid UTF-8: one U+FFFD per byte
		{"\u2028\u2029", `"\u2028\u2029"`},       // line separators, which break JavaScript
		{"😀 Ž", `"😀 Ž"`},
		{"\x7f", "\"\x7f\""},
		{"</script>", `"</script>"`},
		{"", `""`},
	} {
		got, err := tp.Render(webapi.Values{Name: tc.in})
		if want := `{"v": ` + tc.want + `}`; err != nil || string(got) != want {
			t.Errorf("value %q:\n got %s, %v\nwant %s", tc.in, got, err, want)
		}
	}
}

// checkRoundTrip: whatever the value, the rendered template is JSON that
// decodes back to it (invalid UTF-8 becoming one U+FFFD per byte).
func checkRoundTrip(t testing.TB, s string) {
	t.Helper()
	tp, err := webapi.ParseTemplate(`"v": {{name}}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.Render(webapi.Values{Name: s})
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ V string }
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("value %q rendered %s, not JSON: %v", s, got, err)
	}
	var want strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		want.WriteRune(r) // RuneError for an invalid byte
		i += n
	}
	if back.V != want.String() {
		t.Errorf("value %q rendered %s, which decodes to %q", s, got, back.V)
	}
}

func FuzzRender(f *testing.F) {
	for _, v := range hostile {
		f.Add(v.Name, v.Domain, v.Email, v.FullName, v.ID)
	}
	f.Add("\xff", "\xed\xa0\x80", "a\u2028b", "\x00", "😀")
	f.Fuzz(func(t *testing.T, name, domain, email, fullname, id string) {
		v := webapi.Values{Name: name, Domain: domain, Email: email, FullName: fullname, ID: id}
		checkRendered(t, v, render(t, v))
		checkRoundTrip(t, name)
	})
}

// FuzzParseTemplate: a template that parses renders a JSON object whatever
// the values.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{seedParams, `{"a": {{id}}}`, `"u": "{{name}}"`, `{{{name}}: 1}`, `"a": [{{email}}, {"b": {{fullname}}}]`, `"x": "\"", "y": {{domain}}`} {
		f.Add(s, `"}`, `\`)
	}
	f.Fuzz(func(t *testing.T, tmpl, a, b string) {
		tp, err := webapi.ParseTemplate(tmpl)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(tmpl) {
				t.Errorf("error text is not UTF-8: %q", err)
			}
			return
		}
		out, err := tp.Render(webapi.Values{Name: a, Domain: b, Email: a + b, FullName: b + a, ID: a})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("template %q rendered %q: %v", tmpl, out, err)
		}
	})
}
