package pdk

import (
	"errors"
	"reflect"
	"strings"
)

// field is an encodable struct field: its JSON name and where it is.
type field struct {
	name      string
	tagged    bool
	omitEmpty bool
	index     []int
}

// fieldsOf lists the JSON fields of struct type t, embedded structs'
// fields promoted (a simplification of encoding/json's rules: the
// shallower field wins, ties are dropped).
func fieldsOf(t reflect.Type) []field {
	var all []field
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if sf.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			f := field{name: name, tagged: name != "", omitEmpty: strings.Contains(","+opts+",", ",omitempty,"), index: idx}
			if name == "" {
				f.name = sf.Name
			}
			all = append(all, f)
		}
	}
	walk(t, nil)
	var out []field
	for _, f := range all {
		if dominant(all, f) {
			out = append(out, f)
		}
	}
	return out
}

// dominant reports whether f is the field for its name, by encoding/json's
// rules: the shallowest wins, then a tagged one; a tie hides the name.
func dominant(all []field, f field) bool {
	for _, g := range all {
		if g.name != f.name || sameIndex(g.index, f.index) {
			continue
		}
		switch {
		case len(g.index) < len(f.index), len(g.index) == len(f.index) && g.tagged && !f.tagged:
			return false // g wins
		case len(g.index) == len(f.index) && g.tagged == f.tagged:
			return false // a tie
		}
	}
	return true
}

func sameIndex(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// findField finds the field for a member name: exactly, or else ignoring
// case, as encoding/json does.
func findField(fs []field, name string) *field {
	for i := range fs {
		if fs[i].name == name {
			return &fs[i]
		}
	}
	for i := range fs {
		if strings.EqualFold(fs[i].name, name) {
			return &fs[i]
		}
	}
	return nil
}

// fieldByIndexAlloc is v.FieldByIndex, allocating nil embedded pointers.
func fieldByIndexAlloc(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, errors.New("cannot set an embedded pointer to an unexported struct")
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}
