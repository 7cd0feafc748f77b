package runtime

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hookrt/hookd/hook"
)

// RedactedValue is what stands in for a secret in [Config.Redacted].
const RedactedValue = "<redacted>"

// Redacted returns c as a config file: every section, with its defaults
// applied and its paths resolved, as TOML, with every secret replaced by
// "<redacted>". `hookd config` prints it, and the admin page shows it, so
// that an operator sees what hookd runs with, not what the file says.
//
//	out, err := cfg.Redacted()
//	os.Stdout.Write(out)
//
// # Notes
//
//   - A secret is: the password of a URL's user information (the store's
//     PostgreSQL DSN, a webhook URL; the rest of the URL stays), a
//     password in a DSN of keywords ("password=…"), the value of a query
//     parameter or of a key whose name says secret (password, secret,
//     token, api_key, access_key, credential, authorization, …), and any
//     string that holds PEM key material. Names of files (token_file,
//     private_key, previous_keys, anything ending in _file, _dir or _path)
//     are not secrets: they are shown.
//   - A delivery table's literal header values and signing secrets are
//     secrets, whatever the header is called; the files they name are
//     shown ({ file = "hook.token" }), and so are signing_key and the tls
//     files.
//   - Booleans and numbers are never secrets (forward_password = true
//     stays).
//   - With the secrets filled back in, the output parses to the same
//     config (a golden test holds it to that), except that the order of
//     keys in free-form tables (claims, a plugin's config) is sorted.
//   - The core sections come first, then the module sections by ID.
//   - Values are the effective ones: a module's zero that stands for a
//     default is printed as that default (a plugin's instances = 4), a
//     [[domain]] whose script is a URL has no plugin block, and a
//     section that is off says so in a comment.
//   - Each key of a loaded config ends with a comment saying where its
//     value came from: "# file", "# default" or "# env HOOKD_…" (see
//     [Config.Source]).
func (c *Config) Redacted() ([]byte, error) {
	var buf bytes.Buffer
	core := redact(reflect.ValueOf(c).Elem(), "").Interface()
	if err := encodeTOML(&buf, core); err != nil {
		return nil, fmt.Errorf("%s: encode: %w", c.name(), err)
	}
	lookup := func(id string) (hook.Module, bool) { m, ok := c.Modules[id]; return m, ok }
	for _, id := range c.moduleIDs() {
		m := c.Modules[id]
		if !isModuleValue(m) {
			continue
		}
		var v any = m
		if e, ok := m.(effective); ok {
			v = e.Effective(c.Delivery.timeout(), lookup)
		}
		buf.WriteString("\n")
		if why := offReason(m); why != "" {
			buf.WriteString("# " + offMessage(id, why) + "\n")
		}
		section := map[string]any{id: redact(reflect.ValueOf(v), id).Interface()}
		if err := encodeTOML(&buf, section); err != nil {
			return nil, fmt.Errorf("%s: [%s]: encode: %w", c.name(), id, err)
		}
	}
	return c.annotateSources(buf.Bytes()), nil
}

// effective is a module section that shows the values it runs with, its
// defaults filled in (a plugin's instances = 4, not 0), rather than its
// zeros: what [Config.Redacted] prints. requestTimeout is the [delivery]
// timeout, the default of a module's own; lookup finds other sections.
type effective interface {
	Effective(requestTimeout time.Duration, lookup func(id string) (hook.Module, bool)) any
}

// encodeTOML writes v as TOML without indenting subtables, as config.toml
// is written.
func encodeTOML(buf *bytes.Buffer, v any) error {
	enc := toml.NewEncoder(buf)
	enc.Indent = ""
	return enc.Encode(v)
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	tomlMarshaler = reflect.TypeFor[toml.Marshaler]()
	secretType    = reflect.TypeFor[hook.Secret]()
)

// redact returns a deep copy of v with its secrets replaced; path is the
// dotted TOML key of v ("store.dsn"), which decides what is a secret.
// Only what the TOML encoder writes is copied: exported fields, maps,
// slices and values; unexported fields (live state) are left zero.
func redact(v reflect.Value, path string) reflect.Value {
	if !v.IsValid() {
		return v
	}
	t := v.Type()
	if t == secretType { // a delivery header value or signing secret
		sec := v.Interface().(hook.Secret)
		if sec.Value != "" {
			sec.Value = RedactedValue // literal: the secret itself; a file's name stays
		}
		return reflect.ValueOf(sec)
	}
	if t.Implements(textMarshaler) || t.Implements(tomlMarshaler) {
		if v.Kind() == reflect.String && secretKey(path) {
			return redactedOf(t)
		}
		return v // a Duration, a time: encoded as it marshals
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t.Elem())
		out.Elem().Set(redact(v.Elem(), path))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t).Elem()
		out.Set(redact(v.Elem(), path))
		return out
	case reflect.Struct:
		out := reflect.New(t).Elem()
		for i := range t.NumField() {
			f := t.Field(i)
			name, skip := tomlName(f)
			if skip {
				continue
			}
			out.Field(i).Set(redact(v.Field(i), join(path, name)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			key := fmt.Sprint(it.Key().Interface())
			out.SetMapIndex(it.Key(), redact(it.Value(), join(path, key)))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(redact(v.Index(i), path))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(redact(v.Index(i), path))
		}
		return out
	case reflect.String:
		s := v.String()
		r := redactString(path, s)
		if r == s {
			return v
		}
		out := reflect.New(t).Elem()
		out.SetString(r)
		return out
	}
	return v
}

// tomlName is the key a struct field is encoded under, and whether the
// encoder skips it (unexported, or tagged "-").
func tomlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", true
	}
	tag := f.Tag.Get("toml")
	name, _, _ := strings.Cut(tag, ",")
	switch {
	case name == "-":
		return "", true
	case name == "":
		return f.Name, false
	}
	return name, false
}

// redactedOf is RedactedValue as a value of string type t.
func redactedOf(t reflect.Type) reflect.Value {
	out := reflect.New(t).Elem()
	out.SetString(RedactedValue)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// redactString redacts the string s found at path.
func redactString(path, s string) string {
	switch {
	case s == "":
		return s
	case secretKey(path), strings.Contains(s, "-----BEGIN"):
		return RedactedValue
	}
	s = redactURL(s)
	if path == "store.dsn" {
		s = dsnPassword.ReplaceAllString(s, "${1}"+RedactedValue)
	}
	return s
}

// secretNames are what a key's name contains, lowercased without - and _,
// when its value is a secret.
var secretNames = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
	"privatekey", "signingkey", "credential", "authorization", "cookie", "bearer",
}

// fileKeys are keys of hookd's own sections that name files, not secrets.
var fileKeys = []string{"server.token_file", "jwt_webhook.private_key", "jwt_webhook.previous_keys"}

// secretKey reports whether the value of the key at path is a secret, by
// the key's name (the last part of path).
func secretKey(path string) bool {
	for _, f := range fileKeys {
		if path == f {
			return false
		}
	}
	// A delivery table's signing_key names a file, and its filter's
	// values are event fields, whatever they are called (where =
	// { TOKEN_TYPE = "x" }); its secrets are hook.Secret values (redact).
	if strings.HasSuffix(path, "delivery.signing_key") || strings.Contains(path, "delivery.filter.") {
		return false
	}
	name := path[strings.LastIndexByte(path, '.')+1:]
	name = strings.ToLower(name)
	for _, suffix := range []string{"_file", "_dir", "_path", "file", "dir"} {
		if strings.HasSuffix(name, suffix) {
			return false
		}
	}
	name = strings.NewReplacer("_", "", "-", "").Replace(name)
	for _, s := range secretNames {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// dsnPassword finds the password of a PostgreSQL DSN of keywords
// ("host=db password='s e' user=x"): a quoted value (with \' and \\
// escapes) or a bare one.
var dsnPassword = regexp.MustCompile(`((?:^|\s)password\s*=\s*)(?:'(?:\\.|[^'\\])*'|[^\s']+)`)

// redactURL replaces the password of s's user information, and the
// values of its secret query parameters, when s is a URL
// ("scheme://user:pass@host/path?token=…", or "//user:pass@host/…") or
// a path ("/events?token=…");
// anything else stays. It works on the text rather than through net/url,
// which would escape the stand-in and rewrite the rest.
func redactURL(s string) string {
	var scheme, rest string
	switch {
	case strings.HasPrefix(s, "//"): // scheme-relative: //user:pass@host/…
		rest = s[2:]
	case strings.HasPrefix(s, "/"):
		return redactQuery(s)
	default:
		var ok bool
		scheme, rest, ok = strings.Cut(s, "://")
		if !ok || scheme == "" || strings.ContainsAny(scheme, " /?#@") {
			return s
		}
		scheme += ":"
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if user, _, hasPass := strings.Cut(authority[:at], ":"); hasPass {
			authority = user + ":" + RedactedValue + authority[at:]
		}
	}
	return scheme + "//" + authority + redactQuery(tail)
}

// redactQuery replaces the values of the secret parameters in the query
// of path ("/p?token=…&x=1#f").
func redactQuery(path string) string {
	path, query, hasQuery := strings.Cut(path, "?")
	if !hasQuery {
		return path
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		k, _, hasValue := strings.Cut(p, "=")
		if hasValue && secretKey(k) {
			params[i] = k + "=" + RedactedValue
		}
	}
	out := path + "?" + strings.Join(params, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}
