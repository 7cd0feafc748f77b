package config

import (
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// typeErrors re-decodes prim, which failed to decode into a t at path, one
// key at a time in file order, into throwaway values, and returns the error
// of every key that fails. toml visits a table's keys in map order, so the
// one error it returns for a whole section varies from run to run when
// several keys are wrong; this makes the report complete and stable.
func typeErrors(md *toml.MetaData, order keyOrder, path toml.Key, prim toml.Primitive, t reflect.Type) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !takesAnything(t) {
		switch t.Kind() {
		case reflect.Struct, reflect.Map:
			var sub map[string]toml.Primitive
			if md.PrimitiveDecode(prim, &sub) != nil {
				break // not a table: decode prim whole below
			}
			var errs []error
			for _, name := range order.children(path, sub) {
				if ft, ok := childType(t, name); ok {
					errs = append(errs, typeErrors(md, order, append(slices.Clip(path), name), sub[name], ft)...)
				}
			}
			return errs
		case reflect.Slice:
			var elems []toml.Primitive
			if md.PrimitiveDecode(prim, &elems) != nil {
				break
			}
			var errs []error
			for _, e := range elems {
				errs = append(errs, typeErrors(md, order, path, e, t.Elem())...)
			}
			return errs
		}
	}
	if err := md.PrimitiveDecode(prim, reflect.New(t).Interface()); err != nil {
		return []error{err}
	}
	return nil
}

// childType is the type toml decodes key name of a t into: a struct's
// field, matched as toml does (exactly, else case-insensitively), or a
// map's element.
func childType(t reflect.Type, name string) (reflect.Type, bool) {
	if t.Kind() == reflect.Map {
		return t.Elem(), true
	}
	if ft, ok := fieldType(t, name); ok {
		return ft, true
	}
	for _, f := range fields(t) {
		if strings.EqualFold(f.name, name) {
			return f.typ, true
		}
	}
	return nil, false
}

// keyOrder maps each table (a dotted key) to its keys in file order.
type keyOrder map[string][]string

func newKeyOrder(keys []toml.Key) keyOrder {
	o := keyOrder{}
	seen := map[string]bool{}
	for _, k := range keys {
		for i := 1; i < len(k); i++ {
			parent := k[:i].String()
			if id := parent + "\x00" + k[i]; !seen[id] {
				seen[id] = true
				o[parent] = append(o[parent], k[i])
			}
		}
	}
	return o
}

// children returns the keys of sub, the table at path, in file order.
func (o keyOrder) children(path toml.Key, sub map[string]toml.Primitive) []string {
	names := make([]string, 0, len(sub))
	for _, name := range o[path.String()] {
		if _, ok := sub[name]; ok {
			names = append(names, name)
		}
	}
	if len(names) < len(sub) { // inline tables' keys are not in md.Keys
		var rest []string
		for name := range sub {
			if !slices.Contains(names, name) {
				rest = append(rest, name)
			}
		}
		slices.Sort(rest)
		names = append(names, rest...)
	}
	return names
}
