package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// unknownKeys reports every key of one section, decoded into a t, that has
// no place in t, in file order, once per table (the keys inside an unknown
// table are not repeated). keys are the section's keys in file order;
// undecoded holds md.Undecoded().
//
// A key is unknown when md.Undecoded lists it, or when it matched a field
// only case-insensitively (toml accepts "Listen" for `toml:"listen"`; TOML
// keys are case-sensitive, so we do not). Keys under a destination that
// takes anything (an `any` or map[string]any field, a toml.Unmarshaler,
// a toml.Primitive) are never unknown, although toml leaves them undecoded.
//
// In a section that failed to decode (failed), toml's record of what it
// decoded is not to be trusted, and only keys that name no field are
// unknown.
func unknownKeys(file string, keys []toml.Key, undecoded map[string]bool, t reflect.Type, failed bool) []error {
	var errs []error
	reported := map[string]bool{}
	for _, k := range keys {
		if len(k) < 2 || underReported(k, reported) {
			continue
		}
		w := walk(t, k[1:])
		if w.known && (w.opaque || failed || !undecoded[k.String()]) {
			continue
		}
		k = k[:w.depth+2] // the first step that is wrong
		reported[k.String()] = true
		parent := "[" + k[:len(k)-1].String() + "]"
		if w.array {
			parent = "[" + parent + "]"
		}
		allowed := parent + " takes no keys"
		if names := fieldNames(w.parent); len(names) > 0 {
			allowed = "allowed in " + parent + ": " + strings.Join(names, ", ")
		}
		errs = append(errs, &Error{File: file, key: k.String(), Err: fmt.Errorf("unknown key %q; %s", k.String(), allowed)})
	}
	return errs
}

// underReported reports whether k or a table above it is reported already.
func underReported(k toml.Key, reported map[string]bool) bool {
	if len(reported) == 0 {
		return false
	}
	for i := 2; i <= len(k); i++ {
		if reported[k[:i].String()] {
			return true
		}
	}
	return false
}

// walked is where a key path leads in a destination type.
type walked struct {
	known  bool         // every step names a field exactly (or a map key)
	opaque bool         // the path passes through a take-anything type
	depth  int          // index of the last step looked at
	parent reflect.Type // the struct holding that step, for the allowed list
	array  bool         // parent is the element of an array of tables
}

// walk follows path from t the way toml decodes: struct fields by their
// toml name, map keys, slice elements (arrays of tables).
func walk(t reflect.Type, path []string) walked {
	var w walked
	for i, name := range path {
		w.depth = i
		t, w.array = elem(t)
		if takesAnything(t) {
			return walked{known: true, opaque: true, depth: i}
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
		case reflect.Struct:
			w.parent = t
			ft, ok := fieldType(t, name)
			if !ok {
				return w
			}
			t = ft
		default: // a scalar has no keys
			w.parent = nil
			return w
		}
	}
	w.known = true
	return w
}

// elem strips pointers and, for arrays of tables, the slice.
func elem(t reflect.Type) (reflect.Type, bool) {
	array := false
	for {
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
			continue
		case reflect.Slice, reflect.Array:
			if !takesAnything(t) {
				t, array = t.Elem(), true
				continue
			}
		}
		return t, array
	}
}

var (
	primitiveType     = reflect.TypeFor[toml.Primitive]()
	unmarshalerType   = reflect.TypeFor[toml.Unmarshaler]()
	textUnmarshalType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// takesAnything reports whether toml decodes any value into t without
// looking at its keys.
func takesAnything(t reflect.Type) bool {
	if t.Kind() == reflect.Interface || t == primitiveType {
		return true
	}
	pt := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || pt.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalType) || pt.Implements(textUnmarshalType)
}

// tomlField is one key a struct accepts.
type tomlField struct {
	name   string
	goName string
	typ    reflect.Type
}

// fields lists the keys struct t accepts, in declaration order, the way
// toml maps them: the tag name, else the Go name; `toml:"-"` and
// unexported fields skipped; untagged embedded structs flattened.
func fields(t reflect.Type) []tomlField {
	var out []tomlField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if tag == "-" {
			continue
		}
		ft := sf.Type
		if ft.Name() == "" && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if tag == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
			out = append(out, fields(ft)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		out = append(out, tomlField{name: cmpOr(tag, sf.Name), goName: sf.Name, typ: sf.Type})
	}
	return out
}

func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for _, f := range fields(t) {
		if f.name == name {
			return f.typ, true
		}
	}
	return nil, false
}

func fieldNames(t reflect.Type) []string {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for _, f := range fields(t) {
		if !slices.Contains(names, f.name) {
			names = append(names, f.name)
		}
	}
	return names
}
