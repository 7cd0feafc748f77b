package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// A stored domain's secrets never leave hookd (DESIGN §7): literal
// delivery header values, whsec_ signing secrets, a plugin config value
// whose key says secret, a URL's password. Every view of a stored
// domain's settings (Domain, Domains, PutDomain's answer, audit details,
// plugin versions' settings, and so the API, the CLI, the admin page and
// the portal, which show what these return) shows them as RedactedValue,
// by the one rule `hookd config` and a TOML domain's view use (redact,
// config_redact.go, with the key path "domain.…").
//
// So that a view can be edited and sent back (GET, edit, PUT), a PUT may
// hold RedactedValue where the stored settings have a secret at the same
// place: the stored secret is kept (keepSecrets). Where nothing secret is
// stored, it is refused, naming the place: "<redacted>" stored as a
// header value would silently break the receiver's check.

// redactPath is the key path redact judges a domain's settings under:
// that of a [[domain]] entry, as configInfo and `hookd config` show them.
const redactPath = httpevents.DomainID

// redactSpec returns a stored domain's settings (JSON, as stored) as every
// view shows them: the same keys, its secrets RedactedValue. Settings the
// current code cannot decode (never written by it) are shown with every
// string redacted rather than verbatim.
func redactSpec(spec []byte) json.RawMessage {
	if len(bytes.TrimSpace(spec)) == 0 {
		return json.RawMessage(spec)
	}
	var d httpevents.Domain
	if err := json.Unmarshal(spec, &d); err != nil {
		return redactAll(spec)
	}
	out, err := marshalShown(redact(reflect.ValueOf(d), redactPath).Interface())
	if err != nil {
		return redactAll(spec)
	}
	return out
}

// marshalShown encodes v as JSON with <, > and & as themselves: encoding/json
// writes them as \u003c, \u003e and \u0026 (inside a hook.Secret's own
// MarshalJSON too, whatever the encoder is told), and "\u003credacted\u003e"
// in `hookd domains get -json` or the portal's form would not read as
// what it means.
func marshalShown(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return unescapeHTML(b), nil
}

// unescapeHTML turns the \u003c, \u003e and \u0026 escapes of JSON text b
// (valid, as encoding/json writes it) back into <, > and &; every other
// escape (\\u003c: a backslash, then text) stays.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1 // an escape of two characters, or the start of another \u
	}
	return out
}

// versionSettings are a plugin version's settings as redact judges them:
// the plugin and config keys of a [[domain]] entry (the same paths, so
// the same rule as the domain's own settings).
type versionSettings struct {
	Plugin *wasmscript.Settings `toml:"plugin" json:"plugin,omitempty"`
	Config map[string]any       `toml:"config" json:"config,omitempty"`
}

// redactSettings returns a plugin version's settings ({"plugin": …,
// "config": …}) with their secrets RedactedValue.
func redactSettings(settings []byte) json.RawMessage {
	if len(bytes.TrimSpace(settings)) == 0 {
		return json.RawMessage(settings)
	}
	var vs versionSettings
	if err := json.Unmarshal(settings, &vs); err != nil {
		return redactAll(settings)
	}
	out, err := marshalShown(redact(reflect.ValueOf(vs), redactPath).Interface())
	if err != nil {
		return redactAll(settings)
	}
	return out
}

// redactVersion returns v as every view shows it: its settings redacted.
func redactVersion(v hook.PluginVersion) hook.PluginVersion {
	v.Settings = redactSettings(v.Settings)
	return v
}

// redactVersions is redactVersion of each of vs (a new slice).
func redactVersions(vs []hook.PluginVersion) []hook.PluginVersion {
	if vs == nil {
		return nil
	}
	out := make([]hook.PluginVersion, len(vs))
	for i, v := range vs {
		out[i] = redactVersion(v)
	}
	return out
}

// auditRedactors are the keys of an audit detail that hold a domain's
// settings (domain.put: spec and previous; domain.delete: previous) or a
// plugin version's (plugin.push: settings), and how each is redacted. The
// other keys hold versions, hashes and sizes.
var auditRedactors = map[string]func([]byte) json.RawMessage{
	"spec":     redactSpec,
	"previous": redactSpec,
	"settings": redactSettings,
}

// redactAudit returns es (a new slice) with the settings in their details
// redacted; the details keep their keys in their order. The store keeps
// the details as written (read-time redaction: the trail stays whole for
// whoever reads the database itself).
func redactAudit(es []hook.AuditEntry) []hook.AuditEntry {
	if es == nil {
		return nil
	}
	out := make([]hook.AuditEntry, len(es))
	for i, e := range es {
		if len(e.Detail) != 0 {
			e.Detail = redactDetail(e.Detail)
		}
		out[i] = e
	}
	return out
}

// redactDetail redacts one audit detail, a JSON object, key by key in
// its order; one that is no object has every string redacted.
func redactDetail(detail []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(detail))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return redactAll(detail)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		var val json.RawMessage
		if err == nil && ok {
			err = dec.Decode(&val)
		}
		if err != nil || !ok {
			return redactAll(detail)
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		if f, ok := auditRedactors[key]; ok && string(bytes.TrimSpace(val)) != "null" {
			val = f(val)
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// redactAll returns a JSON document with every non-empty string replaced
// by RedactedValue (keys stay): what is shown of settings that cannot be
// decoded, since nothing then says where their secrets are.
func redactAll(doc []byte) json.RawMessage {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		out, _ := marshalShown(RedactedValue)
		return out
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if x != "" {
				return RedactedValue
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	out, _ := marshalShown(walk(v))
	return out
}

// keepSecrets replaces in d (a domain's new settings, decoded) every
// RedactedValue that stands for a secret of stored (its stored settings;
// nil when none are stored) at the same place: the same header name (in
// any case), the same index of signing_secrets, the same key path of the
// plugin config, the same field. A value is kept when it is exactly what
// the views show of the stored one (a URL may have its password and
// token parameters redacted and the rest shown). Any other RedactedValue
// is refused, naming the place.
func keepSecrets(id string, d *httpevents.Domain, stored *httpevents.Domain) error {
	var old reflect.Value
	if stored != nil {
		old = reflect.ValueOf(*stored)
	}
	v, err := keep(reflect.ValueOf(*d), old, redactPath, "")
	if err != nil {
		var pe *placeError
		if errors.As(err, &pe) {
			return hook.Invalid("domain %q: %s", id, pe.Error())
		}
		return err
	}
	*d = v.Interface().(httpevents.Domain)
	return nil
}

// keepSettings is keepSecrets for a plugin version's settings
// ({"plugin": …, "config": …}, JSON) against base (the settings whose
// secrets a RedactedValue stands for, e.g. the active version's; nil:
// none). It returns settings unchanged when they hold no RedactedValue,
// else re-encoded with the stored secrets in place.
func keepSettings(domain string, settings, base []byte) ([]byte, error) {
	if !bytes.Contains(settings, []byte("redacted")) { // the marker, raw or \u003c-escaped
		return settings, nil
	}
	var vs versionSettings
	dec := json.NewDecoder(bytes.NewReader(settings))
	dec.DisallowUnknownFields() // re-encoded, an unknown key would be dropped unseen
	if err := dec.Decode(&vs); err != nil {
		return settings, nil // the caller's strict decoding says what is wrong
	}
	var old reflect.Value
	if len(bytes.TrimSpace(base)) != 0 {
		var bs versionSettings
		if err := json.Unmarshal(base, &bs); err == nil {
			old = reflect.ValueOf(bs)
		}
	}
	v, err := keep(reflect.ValueOf(vs), old, redactPath, "")
	if err != nil {
		var pe *placeError
		if errors.As(err, &pe) {
			return nil, hook.Invalid("domain %q: plugin settings: %s", domain, pe.Error())
		}
		return nil, err
	}
	if reflect.DeepEqual(v.Interface(), vs) {
		return settings, nil
	}
	return json.Marshal(v.Interface())
}

// keepVersionSecrets is keepSettings for settings sent with a plugin
// upload or a dry run, against the stored version they stand beside:
// version (0: the domain's active one, if any). Settings shown by a view
// of a version and sent back keep its secrets; a "<redacted>" with none
// stored at its place is refused rather than given to the plugin as its
// secret.
func (s *domainsState) keepVersionSecrets(ctx context.Context, domain string, version int, settings []byte) ([]byte, error) {
	if !bytes.Contains(settings, []byte("redacted")) {
		return settings, nil
	}
	if version == 0 {
		row, err := s.db.StoredDomain(ctx, domain)
		if err != nil && !errors.Is(err, hook.ErrNotFound) {
			return nil, err
		}
		version = row.ActiveVersion
	}
	var base []byte
	if version != 0 {
		v, _, err := s.db.PluginVersion(ctx, domain, version)
		if err != nil && !errors.Is(err, hook.ErrNotFound) {
			return nil, err
		}
		base = v.Settings
	}
	return keepSettings(domain, settings, base)
}

// placeError is a RedactedValue keep could not resolve, at place (the
// JSON path shown to the user: "delivery.signing_secrets[1]").
type placeError struct {
	place string
	// differs: a secret is stored there, but the value sent is not what
	// the views show of it.
	differs bool
}

func (e *placeError) Error() string {
	place := e.place
	if place == "" {
		place = "settings"
	}
	if e.differs {
		return place + `: "` + RedactedValue + `" stands for the stored secret at this place, and the value sent is not the stored one ` +
			`as shown (with its secrets as "` + RedactedValue + `"): something else in it was changed; send the whole value, secret included`
	}
	return place + `: "` + RedactedValue + `" stands for the stored secret at this place, and none is stored there; send the secret itself`
}

// keep returns a copy of v (new settings) in which each string or
// hook.Secret holding RedactedValue is replaced by the value of old (the
// stored settings, walked alongside; invalid where nothing is stored) at
// the same place, when redact shows that value exactly as v has it. rule
// is the key path redact judges v by (join, tomlName: the same as
// redact's), place the JSON path named in errors.
func keep(v, old reflect.Value, rule, place string) (reflect.Value, error) {
	if !v.IsValid() {
		return v, nil
	}
	old = deref(old)
	t := v.Type()
	if t == secretType || v.Kind() == reflect.String {
		if !hasMarker(v) {
			return v, nil
		}
		if !old.IsValid() || old.Type() != t {
			return v, &placeError{place: place}
		}
		shown := redact(old, rule)
		switch {
		case reflect.DeepEqual(shown.Interface(), v.Interface()):
			return old, nil
		case !hasMarker(shown):
			return v, &placeError{place: place}
		}
		return v, &placeError{place: place, differs: true}
	}
	if t.Implements(textMarshaler) || t.Implements(tomlMarshaler) {
		return v, nil // a Duration, a time (a secret-named string type is a string: above)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, nil
		}
		e, err := keep(v.Elem(), old, rule, place)
		if err != nil {
			return v, err
		}
		out := reflect.New(t).Elem()
		if v.Kind() == reflect.Pointer {
			out = reflect.New(t.Elem())
			out.Elem().Set(e)
			return out, nil
		}
		out.Set(e)
		return out, nil
	case reflect.Struct:
		if old.IsValid() && old.Type() != t {
			old = reflect.Value{}
		}
		out := reflect.New(t).Elem()
		out.Set(v) // unexported fields (live state) as they were
		for i := range t.NumField() {
			f := t.Field(i)
			name, skip := tomlName(f)
			if skip {
				continue
			}
			var of reflect.Value
			if old.IsValid() {
				of = old.Field(i)
			}
			fv, err := keep(v.Field(i), of, join(rule, name), join(place, jsonName(f, name)))
			if err != nil {
				return v, err
			}
			out.Field(i).Set(fv)
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return v, nil
		}
		if old.IsValid() && (old.Kind() != reflect.Map || old.Type().Key() != t.Key()) {
			old = reflect.Value{}
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			key := fmt.Sprint(it.Key().Interface()) // as redact spells it
			mv, err := keep(it.Value(), mapIndex(old, it.Key()), join(rule, key), join(place, key))
			if err != nil {
				return v, err
			}
			out.SetMapIndex(it.Key(), mv)
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return v, nil
		}
		if old.IsValid() && old.Kind() != reflect.Slice && old.Kind() != reflect.Array {
			old = reflect.Value{}
		}
		out := reflect.New(t).Elem()
		if v.Kind() == reflect.Slice {
			out = reflect.MakeSlice(t, v.Len(), v.Len())
		}
		for i := range v.Len() {
			var oi reflect.Value
			if old.IsValid() && i < old.Len() {
				oi = old.Index(i)
			}
			iv, err := keep(v.Index(i), oi, rule, place+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return v, err
			}
			out.Index(i).Set(iv)
		}
		return out, nil
	}
	return v, nil
}

// hasMarker reports whether v, a string or a hook.Secret, holds
// RedactedValue.
func hasMarker(v reflect.Value) bool {
	if v.Type() == secretType {
		return strings.Contains(v.Interface().(hook.Secret).Value, RedactedValue)
	}
	return v.Kind() == reflect.String && strings.Contains(v.String(), RedactedValue)
}

// deref follows pointers and interfaces; nil is the invalid value.
func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// mapIndex is old[key], or, for a string key missing as spelled, the one
// entry whose key equals it in any case (header names are
// case-insensitive); invalid when old is, or has no such entry.
func mapIndex(old, key reflect.Value) reflect.Value {
	if !old.IsValid() || old.IsNil() {
		return reflect.Value{}
	}
	if e := old.MapIndex(key); e.IsValid() {
		return e
	}
	if key.Kind() != reflect.String {
		return reflect.Value{}
	}
	var found reflect.Value
	for it := old.MapRange(); it.Next(); {
		if strings.EqualFold(it.Key().String(), key.String()) {
			if found.IsValid() {
				return reflect.Value{} // ambiguous: no one place
			}
			found = it.Value()
		}
	}
	return found
}

// jsonName is the JSON key of struct field f (name, its TOML key, when
// it has no json tag): the place named in errors is in the JSON the user
// sent.
func jsonName(f reflect.StructField, name string) string {
	if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n != "" && n != "-" {
		return n
	}
	return name
}
