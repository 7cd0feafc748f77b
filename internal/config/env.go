package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hookrt/hookd/hook"
)

// EnvSetting is one config key set by an environment variable: the
// variable, the dotted key it sets and a TOML document that sets it, to
// be decoded over the file with [DecodeAll].
type EnvSetting struct {
	Var string // HOOKD_SERVER_LISTEN
	Key string // server.listen
	Doc []byte // [server]\nlisten = "…"
}

// File is the name errors about the setting start with: "environment
// HOOKD_SERVER_LISTEN", where a file's start with its name.
func (s EnvSetting) File() string { return "environment " + s.Var }

// FromEnv returns the config keys environ (os.Environ) sets, in the
// order of environ sorted by name. A variable prefix+SECTION_KEY sets key
// KEY of section SECTION, a core section (a field of the struct core
// points to) or a module in reg, names upper-cased and dots as
// underscores: HOOKD_SERVER_LISTEN is server.listen,
// HOOKD_JWT_WEBHOOK_EVENTS_USER_CREATE is jwt_webhook.events.user_create.
//
// # Notes
//
//   - A variable with an empty value is unset: a container that passes
//     an empty variable keeps the file's value.
//   - A variable whose name starts with no section name is none of
//     hookd's config (HOOKD_CONFIG, HOOKD_ADDR and HOOKD_TOKEN are the
//     client's) and is ignored. One that starts with a section but names
//     no key in it is an error, as an unknown key in the file is.
//   - Values are what the key's type wants: a string as it is (no
//     quotes), a number or true/false as in TOML, an array as a TOML
//     array (["5s", "1m"]) or comma-separated (5s,1m), a table as a TOML
//     inline table ({ authorization = "Bearer x" }).
//   - An array of tables ([[domain]]) cannot be set from the environment:
//     its entries have no names to put in a variable. Such a variable is
//     an error that says so.
func FromEnv(prefix string, environ []string, core any, reg *hook.Registry) ([]EnvSetting, []error) {
	if reg == nil {
		reg = hook.NewRegistry()
	}
	sections, err := coreSections(core)
	if err != nil {
		return nil, []error{err}
	}
	types := map[string]reflect.Type{}
	var names []string
	for _, s := range sections {
		types[s.name] = reflect.TypeOf(s.dest)
		names = append(names, s.name)
	}
	for _, id := range reg.IDs() {
		if _, ok := types[id]; ok {
			continue
		}
		info, _ := reg.Lookup(id)
		types[id] = reflect.TypeOf(info.New())
		names = append(names, id)
	}
	// Longest section first, so that a section whose name starts with
	// another's is found.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })

	vars := slices.Clone(environ)
	slices.Sort(vars)
	var out []EnvSetting
	var errs []error
	for _, kv := range vars {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, prefix) || value == "" {
			continue
		}
		rest := name[len(prefix):]
		for _, sec := range names {
			up := strings.ToUpper(sec) + "_"
			if !strings.HasPrefix(rest, up) {
				continue
			}
			s, err := envSetting(name, sec, rest[len(up):], value, types[sec])
			if err != nil {
				errs = append(errs, &Error{File: "environment " + name, key: sec, Err: err})
			} else {
				out = append(out, s)
			}
			break
		}
	}
	return out, errs
}

// envSetting builds the setting of variable name, which names key rest
// (upper case) of section sec, decoded into a t.
func envSetting(name, sec, rest, value string, t reflect.Type) (EnvSetting, error) {
	t, array := elem(t)
	if array {
		return EnvSetting{}, fmt.Errorf("[[%s]] is an array of tables, which cannot be set from the environment; set it in the config file", sec)
	}
	path, leaf, err := envPath(t, rest, "["+sec+"]", name[:len(name)-len(rest)])
	if err != nil {
		return EnvSetting{}, err
	}
	v, err := envValue(value, leaf)
	if err != nil {
		return EnvSetting{}, fmt.Errorf("%s.%s: %w", sec, strings.Join(path, "."), err)
	}
	var doc bytes.Buffer
	fmt.Fprintf(&doc, "[%s]\n%s = %s\n", sec, strings.Join(path, "."), v)
	return EnvSetting{Var: name, Key: sec + "." + strings.Join(path, "."), Doc: doc.Bytes()}, nil
}

// envPath finds the key rest (upper case, underscores) names in struct t:
// a field's name, or a field's name, "_" and a key of that field's table.
func envPath(t reflect.Type, rest, where, varPrefix string) ([]string, reflect.Type, error) {
	if t.Kind() != reflect.Struct || takesAnything(t) {
		return nil, nil, fmt.Errorf("%s takes no keys from the environment", where)
	}
	fs := fields(t)
	for _, f := range fs { // a key of t itself first
		if strings.ToUpper(f.name) == rest {
			return []string{f.name}, f.typ, nil
		}
	}
	for _, f := range fs {
		up := strings.ToUpper(f.name) + "_"
		if !strings.HasPrefix(rest, up) {
			continue
		}
		ft, array := elem(f.typ)
		if array {
			return nil, nil, fmt.Errorf("%s %s is an array of tables, which cannot be set from the environment; set it in the config file", where, f.name)
		}
		if ft.Kind() == reflect.Struct && !takesAnything(ft) {
			p, leaf, err := envPath(ft, rest[len(up):], strings.TrimSuffix(where, "]")+"."+f.name+"]", varPrefix+up)
			if err != nil {
				return nil, nil, err
			}
			return append([]string{f.name}, p...), leaf, nil
		}
	}
	var allowed []string
	for _, f := range fs {
		allowed = append(allowed, varPrefix+strings.ToUpper(f.name))
	}
	return nil, nil, fmt.Errorf("names no key of %s; allowed: %s", where, strings.Join(allowed, ", "))
}

// envValue renders value as the TOML value a t wants.
func envValue(value string, t reflect.Type) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw := func() (string, error) { // a TOML value as written
		var probe map[string]any
		if _, err := toml.Decode("v = "+value, &probe); err != nil {
			return "", fmt.Errorf("want %s, got %q", envWant(t), value)
		}
		return value, nil
	}
	switch {
	case t.Kind() == reflect.String || (takesAnything(t) && t.Kind() != reflect.Slice && t.Kind() != reflect.Map &&
		!strings.HasPrefix(value, "{") && !strings.HasPrefix(value, "[")):
		return quote(value), nil
	case t.Kind() == reflect.Slice && !strings.HasPrefix(strings.TrimSpace(value), "["):
		var parts []string
		for _, p := range strings.Split(value, ",") {
			v, err := envValue(strings.TrimSpace(p), t.Elem())
			if err != nil {
				return "", err
			}
			parts = append(parts, v)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return raw()
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b bytes.Buffer
	_ = toml.NewEncoder(&b).Encode(map[string]string{"v": s})
	return strings.TrimSuffix(strings.TrimPrefix(b.String(), "v = "), "\n")
}

// envWant names what a variable for a t must hold.
func envWant(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a TOML array or comma-separated values"
	case reflect.Map, reflect.Struct:
		return "a TOML inline table ({ key = \"value\" })"
	}
	return "a TOML value"
}
