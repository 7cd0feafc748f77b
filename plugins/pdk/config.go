package pdk

import (
	"encoding"
	"encoding/base64"
	"errors"
	"reflect"
	"runtime"
	"strconv"
)

// Config decodes the plugin's config (its config table in hookd's
// config.toml, as JSON) into v, as json.Unmarshal would, but strictly: a
// member that matches no struct field is an error, so that a misspelt key
// does not go unnoticed.
//
//	var cfg struct {
//		Block  []string `json:"block"`
//		Secret string   `json:"secret"`
//	}
//	if err := pdk.Config(&cfg); err != nil {
//		return pdk.FailPermanently(err)
//	}
//
// # Notes
//
//   - v may hold bools, numbers, strings, slices, arrays, maps with string
//     keys, structs (`json:"name"` tags, "-", names matched
//     case-insensitively as a fallback, embedded structs), pointers, any,
//     []byte (base64), and types with an UnmarshalJSON or UnmarshalText
//     method (json.RawMessage, netip.Prefix, time.Time). Other map key
//     types and the ",string" tag option are not supported.
//   - The decoder is this package's own, not encoding/json, which would
//     add about 1 MB to the plugin; its tests compare it with
//     encoding/json. For lenient decoding, or anything it does not
//     support, decode into a json.RawMessage and call json.Unmarshal.
//   - A plugin without a config table reads {}.
//   - The config does not change during an instance's life (a new config
//     means new instances), so a plugin may decode it once and keep it.
//   - Errors start with "pdk: config: ".
func Config(v any) error {
	var scratch [512]byte
	raw, st := read(scratch[:], func(b []byte) int32 {
		n := configRead(ptr(b), uint32(len(b)))
		runtime.KeepAlive(b)
		return n
	})
	if st < 0 {
		return hostError("config_read", st)
	}
	if err := decodeJSON(raw, v); err != nil {
		return errors.New("pdk: config: " + err.Error())
	}
	return nil
}

// decodeJSON decodes data into the value v points to, as json.Unmarshal
// does, but refusing object members that match no struct field.
//
// It supports what configs hold: bool, numbers, strings, slices, arrays,
// maps with string keys, structs (exported fields; `json:"name"` tags, "-",
// names matched case-insensitively as a fallback; embedded structs),
// pointers, any, []byte (base64), and types with an UnmarshalJSON or
// UnmarshalText method (json.RawMessage, netip.Prefix, time.Time).
func decodeJSON(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("want a non-nil pointer, not " + typeName(v))
	}
	tree, err := parseJSON(data)
	if err != nil {
		return err
	}
	return bind(tree, rv.Elem(), "")
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

var (
	jsonUnmarshalerType = reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// bind stores the parsed value j into v; path names v in errors.
func bind(j any, v reflect.Value, path string) error {
	if v.CanAddr() && v.Kind() != reflect.Pointer {
		pv := v.Addr()
		if pv.Type().Implements(jsonUnmarshalerType) {
			raw := appendTree(nil, j) // as written: numbers keep their digits
			return wrapAt(path, pv.Interface().(interface{ UnmarshalJSON([]byte) error }).UnmarshalJSON(raw))
		}
		if s, ok := j.(string); ok && pv.Type().Implements(textUnmarshalerType) {
			return wrapAt(path, pv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)))
		}
	}
	if j == nil {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil // null leaves other values alone, as encoding/json does
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return bind(j, v.Elem(), path)
	case reflect.Interface:
		if v.NumMethod() > 0 {
			return mismatch(j, v, path)
		}
		g, err := generic(j)
		if err != nil {
			return wrapAt(path, err)
		}
		v.Set(reflect.ValueOf(g))
		return nil
	case reflect.Bool:
		b, ok := j.(bool)
		if !ok {
			return mismatch(j, v, path)
		}
		v.SetBool(b)
		return nil
	case reflect.String:
		s, ok := j.(string)
		if !ok {
			return mismatch(j, v, path)
		}
		v.SetString(s)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := j.(jsonNumber)
		if !ok {
			return mismatch(j, v, path)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v.OverflowInt(i) {
			return mismatch(j, v, path)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, ok := j.(jsonNumber)
		if !ok {
			return mismatch(j, v, path)
		}
		u, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil || v.OverflowUint(u) {
			return mismatch(j, v, path)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := j.(jsonNumber)
		if !ok {
			return mismatch(j, v, path)
		}
		f, err := strconv.ParseFloat(string(n), v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return mismatch(j, v, path)
		}
		v.SetFloat(f)
		return nil
	case reflect.Slice:
		if s, ok := j.(string); ok && v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return wrapAt(path, err)
			}
			v.SetBytes(b)
			return nil
		}
		arr, ok := j.([]any)
		if !ok {
			return mismatch(j, v, path)
		}
		s := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, e := range arr {
			if err := bind(e, s.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Array:
		arr, ok := j.([]any)
		if !ok {
			return mismatch(j, v, path)
		}
		for i := range v.Len() {
			if i >= len(arr) {
				v.Index(i).SetZero()
			} else if err := bind(arr[i], v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		obj, ok := j.(jsonObject)
		if !ok || v.Type().Key().Kind() != reflect.String {
			return mismatch(j, v, path)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(v.Type(), len(obj)))
		}
		for _, m := range obj {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := bind(m.value, e, join(path, m.name)); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(m.name).Convert(v.Type().Key()), e)
		}
		return nil
	case reflect.Struct:
		obj, ok := j.(jsonObject)
		if !ok {
			return mismatch(j, v, path)
		}
		fields := fieldsOf(v.Type())
		for _, m := range obj {
			f := findField(fields, m.name)
			if f == nil {
				return errors.New("unknown field " + strconv.Quote(join(path, m.name)))
			}
			fv, err := fieldByIndexAlloc(v, f.index)
			if err != nil {
				return wrapAt(join(path, m.name), err)
			}
			if err := bind(m.value, fv, join(path, f.name)); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch(j, v, path)
}

// generic turns a parsed value into what encoding/json gives an any:
// map[string]any, []any, float64, string, bool or nil.
func generic(j any) (any, error) {
	switch j := j.(type) {
	case jsonNumber:
		f, err := strconv.ParseFloat(string(j), 64)
		if err != nil {
			return nil, errors.New("the number " + string(j) + " is out of range")
		}
		return f, nil
	case []any:
		out := make([]any, len(j))
		for i, e := range j {
			var err error
			if out[i], err = generic(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case jsonObject:
		out := make(map[string]any, len(j))
		for _, m := range j {
			v, err := generic(m.value)
			if err != nil {
				return nil, err
			}
			out[m.name] = v
		}
		return out, nil
	}
	return j, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func wrapAt(path string, err error) error {
	if err == nil || path == "" {
		return err
	}
	return errors.New(path + ": " + err.Error())
}

func mismatch(j any, v reflect.Value, path string) error {
	var what string
	switch j := j.(type) {
	case bool:
		what = "a boolean"
	case string:
		what = "a string"
	case jsonNumber:
		what = "the number " + string(j)
	case []any:
		what = "an array"
	case jsonObject:
		what = "an object"
	}
	msg := "cannot use " + what + " as " + v.Type().String()
	if path != "" {
		msg = path + ": " + msg
	}
	return errors.New(msg)
}
