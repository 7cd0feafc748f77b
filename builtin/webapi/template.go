package webapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Values are what a notification template's placeholders stand for.
type Values struct {
	Name, Domain, Email, FullName, ID string
}

// placeholder is one of the names a template may use, in Values order.
type placeholder uint8

const (
	phName placeholder = iota
	phDomain
	phEmail
	phFullName
	phID
)

var placeholderNames = [...]string{"name", "domain", "email", "fullname", "id"}

// allowedPlaceholders lists the placeholders for error messages.
const allowedPlaceholders = "{{name}}, {{domain}}, {{email}}, {{fullname}}, {{id}}"

// value returns what p stands for in v.
func (v *Values) value(p placeholder) string {
	switch p {
	case phName:
		return v.Name
	case phDomain:
		return v.Domain
	case phEmail:
		return v.Email
	case phFullName:
		return v.FullName
	default:
		return v.ID
	}
}

// Template is a parsed notification_params template: JSON text in which
// {{name}}, {{domain}}, {{email}}, {{fullname}} and {{id}} each stand for a
// whole JSON string value.
//
//	t, err := webapi.ParseTemplate(`"userName": {{name}}, "userDomain": {{domain}}`)
//	body, _ := t.Render(webapi.Values{Name: `ann "the admin"`, Domain: "acme"})
//	// {"userName": "ann \"the admin\"", "userDomain": "acme"}
//
// A Template is immutable and safe for concurrent use.
type Template struct {
	src  string
	lits []string      // literal JSON text; len(lits) == len(phs)+1
	phs  []placeholder // the placeholder between lits[i] and lits[i+1]
	pos  []int         // where each placeholder starts in src, for errors
	size int           // total length of lits
}

// ParseTemplate parses a notification template and checks that it yields a
// JSON object whatever the values are.
//
// # Notes
//
//   - The template is the inside of a JSON object (the seed's example,
//     "userName": {{name}}, "userDomain": {{domain}}); one that starts
//     with "{" is a whole object.
//   - A placeholder is {{name}}, {{domain}}, {{email}}, {{fullname}} or
//     {{id}}, white space inside the braces allowed ({{ name }}). It is
//     replaced by a JSON string literal, quoted and escaped, so it stands
//     for a whole value and must not be put inside quotes.
//   - Every "{{" starts a placeholder; an unknown or unclosed one is an
//     error. "}}" on its own is ordinary text (nested objects end in it).
//   - The check renders the template with hostile values (quotes,
//     backslashes, control characters, braces, non-ASCII, empty) and
//     requires valid JSON each time.
func ParseTemplate(s string) (*Template, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`template is empty: write the inside of a JSON object, e.g. "userName": {{name}}, "userDomain": {{domain}}`)
	}
	t := &Template{src: s}
	rest, off := s, 0
	var lit strings.Builder
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		// In "{{{name}}" the first brace is text: a placeholder's name
		// never starts with a brace.
		for i+2 < len(rest) && rest[i+2] == '{' {
			i++
		}
		lit.WriteString(rest[:i])
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf(`unclosed "{{" at byte %d: a placeholder is written {{name}}; the placeholders are %s`, off+i, allowedPlaceholders)
		}
		raw := rest[i : i+2+j+2]
		p, ok := lookupPlaceholder(strings.TrimSpace(raw[2 : len(raw)-2]))
		if !ok {
			return nil, fmt.Errorf("unknown placeholder %s at byte %d; the placeholders are %s", quoteShort(raw), off+i, allowedPlaceholders)
		}
		t.lits = append(t.lits, lit.String())
		t.phs = append(t.phs, p)
		t.pos = append(t.pos, off+i)
		lit.Reset()
		rest, off = rest[i+len(raw):], off+i+len(raw)
	}
	t.lits = append(t.lits, lit.String())
	if err := t.checkQuotes(); err != nil {
		return nil, err
	}
	// The inside of an object is wrapped in braces.
	if !strings.HasPrefix(strings.TrimLeft(t.lits[0], " \t\r\n"), "{") {
		t.lits[0] = "{" + t.lits[0]
		t.lits[len(t.lits)-1] += "}"
	}
	for _, l := range t.lits {
		t.size += len(l)
	}
	for _, v := range hostileValues {
		b, _ := t.Render(v)
		if err := checkObject(b); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// lookupPlaceholder returns the placeholder called name.
func lookupPlaceholder(name string) (placeholder, bool) {
	for i, n := range placeholderNames {
		if n == name {
			return placeholder(i), true
		}
	}
	return 0, false
}

// quoteShort shows an unknown placeholder, cut if it is long.
func quoteShort(raw string) string {
	const max = 40
	if len(raw) <= max {
		return raw
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return raw[:cut] + "…"
}

// checkQuotes refuses a placeholder inside a JSON string literal, the one
// mistake that rendering with tame values would not reveal.
func (t *Template) checkQuotes() error {
	inStr, esc := false, false
	for i, l := range t.lits {
		for k := 0; k < len(l); k++ {
			switch c := l[k]; {
			case !inStr:
				inStr = c == '"'
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		}
		if i < len(t.phs) && inStr {
			return fmt.Errorf("placeholder {{%s}} at byte %d is inside a JSON string: placeholders stand for whole JSON values; do not put them inside quotes (write \"userName\": {{name}}, not \"userName\": \"{{name}}\")",
				placeholderNames[t.phs[i]], t.pos[i])
		}
	}
	return nil
}

// checkObject requires b to be one valid JSON object.
func checkObject(b []byte) error {
	if err := json.Unmarshal(b, new(map[string]json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = errors.New(se.Error())
		}
		return fmt.Errorf(`template is not valid JSON once the placeholders are filled in (%v): write the inside of a JSON object, e.g. "userName": {{name}}, "userDomain": {{domain}}, or a whole object {...}`, err)
	}
	return nil
}

// hostileValues are what ParseTemplate renders a template with: a template
// that is valid JSON with all of them is valid with any values.
var hostileValues = []Values{
	{},
	{Name: `"`, Domain: `\`, Email: `\"`, FullName: "\n\r\t\x00\x1f", ID: `{{name}}`},
	{Name: `}}`, Domain: `"}, "x": {"`, Email: "Ünïcødé ✓ 😀 \u2028\u2029", FullName: "\xff\xfe", ID: `</script><!--&`},
	{Name: "x", Domain: "0", Email: "a@b.c", FullName: "Ann O'Neil", ID: "42"},
}

// String returns the template as it was written.
func (t *Template) String() string { return t.src }

// Render fills the placeholders with v's values as JSON strings and returns
// the JSON object.
//
// # Notes
//
//   - Values are escaped as encoding/json does with HTML escaping off:
//     quotes, backslashes and control characters escaped, U+2028 and
//     U+2029 written \u2028 and \u2029, each byte of invalid UTF-8
//     replaced by U+FFFD.
//   - The error is non-nil only for a nil Template; a parsed template
//     always renders valid JSON.
func (t *Template) Render(v Values) ([]byte, error) {
	if t == nil {
		return nil, errors.New("webapi: Render on a nil Template")
	}
	n := t.size
	for _, p := range t.phs {
		n += len(v.value(p)) + 8 // quotes and a few escapes
	}
	b := make([]byte, 0, n)
	for i, p := range t.phs {
		b = append(b, t.lits[i]...)
		b = appendJSONString(b, v.value(p))
	}
	return append(b, t.lits[len(t.lits)-1]...), nil
}
