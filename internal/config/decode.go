package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hookrt/hookd/hook"
)

// MaxSize is the largest config file accepted: 1 MiB.
const MaxSize = 1 << 20

// ReadFile reads the config file at path, at most [MaxSize] bytes. Its
// errors are [*Error]s naming path.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: readError(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: path, Err: readError(err)}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: path, Err: fmt.Errorf("file is larger than %d bytes (1 MiB)", MaxSize)}
	}
	return data, nil
}

// readError drops the path from an *fs.PathError, which Error repeats.
func readError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

// Decode decodes data, the contents of the config file named file,
// strictly. Every top-level table must be either a core section, that is
// a field of the struct core points to, named by its `toml` tag, or the ID
// of a module registered in reg, which is decoded into the value its
// [hook.ModuleInfo].New returns. Every key must exist in the struct it
// decodes into. Decode fills only what the file sets: defaults in core
// stay where the file is silent.
//
//	var c struct {
//		Server struct{ Listen string `toml:"listen"` } `toml:"server"`
//	}
//	modules, err := config.Decode("config.toml", data, &c, reg)
//
// # Notes
//
//   - A nil reg is an empty registry. A module ID that names a core
//     section is an error.
//   - The error is an [*Error] or several joined with [errors.Join] (at
//     most 50), in file order: every unknown section, unknown key and
//     wrong type. Values are not validated here.
func Decode(file string, data []byte, core any, reg *hook.Registry) (map[string]hook.Module, error) {
	res, errs := DecodeAll(file, data, core, nil, reg)
	if err := JoinErrors(file, errs); err != nil {
		return nil, err
	}
	return res.Modules, nil
}

// Result is what [DecodeAll] decoded.
type Result struct {
	// Modules are the module sections that decoded cleanly, by ID (with
	// the modules DecodeAll was given).
	Modules map[string]hook.Module
	// Keys are the keys data sets, dotted, in file order: what
	// [SortErrors] orders problems by.
	Keys []string
	// Sourced are the same keys with the entry of an array of tables
	// numbered ("domain[1].strict"; the [[domain]] headers themselves
	// left out): what sets which value, for telling where one came from.
	Sourced []string
}

// DecodeAll is [Decode] for a caller that goes on after a problem, to
// report every problem of every phase at once: it returns what decoded
// and every problem, not joined. A core section with a wrong type keeps
// its other keys (each decoded on its own, so that the result does not
// depend on the order toml visits them) and the old value of the wrong
// one; a module section with a wrong type is left out of Modules.
//
// modules, when not nil, are module values decoded before (from the file,
// when data is an overlay such as the environment): a section of data
// whose ID is in it decodes over that value instead of a new one.
func DecodeAll(file string, data []byte, core any, modules map[string]hook.Module, reg *hook.Registry) (Result, []error) {
	if reg == nil {
		reg = hook.NewRegistry()
	}
	sections, err := coreSections(core)
	if err != nil {
		return Result{}, []error{&Error{File: file, Err: err}}
	}
	for _, s := range sections {
		if _, ok := reg.Lookup(s.name); ok {
			return Result{}, []error{&Error{File: file, Err: fmt.Errorf("module ID %q is taken by a core section", s.name)}}
		}
	}
	if len(data) > MaxSize {
		return Result{}, []error{&Error{File: file, Err: fmt.Errorf("file is larger than %d bytes (1 MiB)", MaxSize)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM; keeps columns right
	return decode(file, data, sections, modules, reg)
}

// section is one core section: its name and where it decodes to.
type section struct {
	name string
	dest any // a pointer to the field
}

// coreSections lists the tagged fields of the struct core points to.
func coreSections(core any) ([]section, error) {
	v := reflect.ValueOf(core)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: core must be a non-nil pointer to a struct, got %T", core)
	}
	v = v.Elem()
	var out []section
	for _, f := range fields(v.Type()) {
		sf, _ := v.Type().FieldByName(f.goName)
		out = append(out, section{name: f.name, dest: v.FieldByIndex(sf.Index).Addr().Interface()})
	}
	return out, nil
}

// decode decodes data over the sections' defaults: each top-level key as
// a toml.Primitive, then each into its destination, then the strict check.
func decode(file string, data []byte, sections []section, have map[string]hook.Module, reg *hook.Registry) (Result, []error) {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return Result{}, []error{syntaxError(file, data, err)}
	}
	core := map[string]any{}
	var names []string
	for _, s := range sections {
		core[s.name] = s.dest
		names = append(names, s.name)
	}

	modules := map[string]hook.Module{}
	for id, m := range have {
		modules[id] = m
	}
	order := topLevelOrder(&md, top)
	var keyOrd keyOrder                  // built on the first section that fails
	failed := map[string][]error{}       // section → why it did not decode
	decoded := map[string]reflect.Type{} // section → type it decoded into
	for _, name := range order {
		dest, isCore := core[name]
		var mod hook.Module
		if !isCore {
			info, ok := reg.Lookup(name)
			if !ok {
				failed[name] = []error{unknownSection(file, &md, name, names, reg)}
				continue
			}
			if m, ok := have[name]; ok {
				mod = m
			} else {
				mod = info.New()
			}
			if v := reflect.ValueOf(mod); !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
				return Result{}, []error{&Error{File: file, Err: fmt.Errorf("[%s]: module's New must return a non-nil pointer, got %T", name, mod)}}
			}
			dest = mod
		}
		snap := snapshot(dest)
		if err := md.PrimitiveDecode(top[name], dest); err != nil {
			if keyOrd == nil {
				keyOrd = newKeyOrder(md.Keys())
			}
			errs := typeErrors(&md, keyOrd, toml.Key{name}, top[name], reflect.TypeOf(dest))
			if len(errs) == 0 {
				errs = []error{err}
			}
			for _, err := range errs {
				failed[name] = append(failed[name], decodeError(file, name, err))
			}
			restore(dest, snap)
			if isCore || have[name] != nil {
				decodeGood(&md, top[name], dest)
			} else {
				delete(modules, name)
			}
			decoded[name] = reflect.TypeOf(dest)
			continue
		}
		if mod != nil {
			modules[name] = mod
		}
		decoded[name] = reflect.TypeOf(dest)
	}

	// Report in file order: a section's own error, or its unknown keys.
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	keys := map[string][]toml.Key{}
	res := Result{Modules: modules}
	entry := map[string]int{} // array of tables → entries seen
	for _, k := range md.Keys() {
		keys[k[0]] = append(keys[k[0]], k)
		res.Keys = append(res.Keys, k.String())
		if len(k) == 1 && md.Type(k[0]) == "ArrayHash" {
			entry[k[0]]++
			continue
		}
		if n, ok := entry[k[0]]; ok {
			res.Sourced = append(res.Sourced, fmt.Sprintf("%s[%d].%s", toml.Key{k[0]}, n-1, k[1:]))
			continue
		}
		res.Sourced = append(res.Sourced, k.String())
	}
	var errs []error
	for _, name := range order {
		ferrs, isFailed := failed[name]
		errs = append(errs, ferrs...)
		if t, ok := decoded[name]; ok {
			ks := keys[name]
			if isFailed { // a key with a wrong type is not unknown too
				bad := map[string]bool{}
				for _, e := range ferrs {
					if ce, ok := e.(*Error); ok {
						bad[ce.Key()] = true
					}
				}
				ks = slices.DeleteFunc(slices.Clone(ks), func(k toml.Key) bool { return underReported(k, bad) })
			}
			errs = append(errs, unknownKeys(file, ks, undecoded, t, isFailed)...)
		}
	}
	return res, errs
}

// snapshot returns a shallow copy of the value dest points to.
func snapshot(dest any) reflect.Value {
	v := reflect.ValueOf(dest).Elem()
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// restore puts back what snapshot copied.
func restore(dest any, snap reflect.Value) { reflect.ValueOf(dest).Elem().Set(snap) }

// decodeGood decodes each key of the table prim into its field of the
// struct dest points to, one at a time, skipping those that fail: what a
// section with a wrong type keeps, so that validation still sees the
// keys that were right.
func decodeGood(md *toml.MetaData, prim toml.Primitive, dest any) {
	v := reflect.ValueOf(dest).Elem()
	if v.Kind() != reflect.Struct {
		return
	}
	var sub map[string]toml.Primitive
	if md.PrimitiveDecode(prim, &sub) != nil {
		return
	}
	for _, f := range fields(v.Type()) {
		p, ok := sub[f.name]
		if !ok {
			continue
		}
		sf, _ := v.Type().FieldByName(f.goName)
		fv := v.FieldByIndex(sf.Index)
		tmp := reflect.New(fv.Type())
		tmp.Elem().Set(fv)
		if md.PrimitiveDecode(p, tmp.Interface()) == nil {
			fv.Set(tmp.Elem())
		}
	}
}

// maxErrors is how many problems an error reports, at most.
const maxErrors = 50

// JoinErrors joins errs, keeping the first 50 of them and counting the
// rest in a last line.
func JoinErrors(file string, errs []error) error {
	if n := len(errs) - maxErrors; n > 0 {
		errs = append(errs[:maxErrors:maxErrors], &Error{File: file, Err: fmt.Errorf("%d more errors", n)})
	}
	return errors.Join(errs...)
}

// topLevelOrder returns the keys of top in the order the file first
// mentions them, so that errors come out in file order.
func topLevelOrder(md *toml.MetaData, top map[string]toml.Primitive) []string {
	order := make([]string, 0, len(top))
	seen := make(map[string]bool, len(top))
	for _, k := range md.Keys() {
		if _, ok := top[k[0]]; ok && !seen[k[0]] {
			seen[k[0]] = true
			order = append(order, k[0])
		}
	}
	var rest []string // never expected, but never drop a key
	for name := range top {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// unknownSection reports a top-level key that is neither a core section
// nor a registered module.
func unknownSection(file string, md *toml.MetaData, name string, core []string, reg *hook.Registry) error {
	what := "section"
	switch md.Type(name) {
	case "Hash", "ArrayHash", "":
	default:
		what = "top-level key"
	}
	allowed := append(slices.Clone(core), reg.IDs()...)
	return &Error{File: file, key: name, Err: fmt.Errorf("unknown %s %q; allowed sections: %s",
		what, toml.Key{name}.String(), strings.Join(allowed, ", "))}
}
