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
	for _, v := range hostile {
		checkRendered(t, v, render(t, v))
	}
}

// TestRenderLikeEncodingJSON: values are escaped byte for byte as
// encoding/json does with HTML escaping off.
func TestRenderLikeEncodingJSON(t *testing.T) {
	for _, v := range append(hostile, webapi.Values{Name: "\xff\xfe\xc3", Domain: "\xe2\x80", Email: "\b\f\v"}) {
		checkLikeEncodingJSON(t, v.Name+v.Domain+v.Email+v.FullName+v.ID)
	}
}

func checkLikeEncodingJSON(t testing.TB, s string) {
	t.Helper()
	tp, err := webapi.ParseTemplate(`"v": {{name}}`)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := tp.Render(webapi.Values{Name: s})
	var want bytes.Buffer
	want.WriteString(`{"v": `)
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	want.Truncate(want.Len() - 1) // Encode's newline
	want.WriteString("}")
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("value %q:\n got %s\nwant %s", s, got, want.Bytes())
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
		checkLikeEncodingJSON(t, name)
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
