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

// MaxSize is the largest config file Load and Parse accept: 1 MiB.
const MaxSize = 1 << 20

// coreSections are the sections of [Config] itself, in documentation order.
var coreSections = []string{"server", "storage", "store", "delivery", "log"}

// Load reads the config file at path (at most [MaxSize] bytes) and parses
// it with [Parse], naming it path in errors.
func Load(path string, reg *hook.Registry) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: readError(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: path, Err: readError(err)}
	}
	return Parse(path, data, reg)
}

// readError drops the path from an *fs.PathError, which Error repeats.
func readError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

// Parse decodes data, the contents of the config file name, strictly:
// every section must be a core one (server, storage, store, delivery, log)
// or the ID of a module registered in reg, and every key must exist in the
// struct it decodes into. It then applies defaults, resolves relative paths
// against the directory of name, and validates the core sections and every
// module that implements [hook.Validator].
//
// A nil reg is an empty registry. The returned error is an [*Error] or
// several joined with [errors.Join] (at most 50), in file order: every
// unknown section, unknown key and wrong type; or, when the file decoded
// cleanly, every invalid value.
func Parse(name string, data []byte, reg *hook.Registry) (*Config, error) {
	c := &Config{Path: name}
	file := c.file()
	if reg == nil {
		reg = hook.NewRegistry()
	}
	for _, id := range coreSections {
		if _, ok := reg.Lookup(id); ok {
			return nil, &Error{File: file, Err: fmt.Errorf("module ID %q is taken by a core section", id)}
		}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: file, Err: fmt.Errorf("file is larger than %d bytes (1 MiB)", MaxSize)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM; keeps columns right

	c.withDefaults()
	if err := c.decode(file, data, reg); err != nil {
		return nil, err
	}
	c.resolvePaths()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// file is the name errors start with.
func (c *Config) file() string {
	if c.Path == "" {
		return "config.toml"
	}
	return c.Path
}

// decode decodes data over c's defaults: each top-level key as a
// toml.Primitive, then each into its destination, then the strict check.
func (c *Config) decode(file string, data []byte, reg *hook.Registry) error {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return syntaxError(file, data, err)
	}
	core := map[string]any{
		"server": &c.Server, "storage": &c.Storage, "store": &c.Store,
		"delivery": &c.Delivery, "log": &c.Log,
	}

	order := topLevelOrder(&md, top)
	var keyOrd keyOrder                  // built on the first section that fails
	failed := map[string][]error{}       // section → why it did not decode
	decoded := map[string]reflect.Type{} // section → type it decoded into
	for _, name := range order {
		dest, ok := core[name]
		var mod hook.Module
		if !ok {
			info, ok := reg.Lookup(name)
			if !ok {
				failed[name] = []error{unknownSection(file, &md, name, reg)}
				continue
			}
			mod = info.New()
			if v := reflect.ValueOf(mod); !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
				return &Error{File: file, Err: fmt.Errorf("[%s]: module's New must return a non-nil pointer, got %T", name, mod)}
			}
			dest = mod
		}
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
			continue
		}
		if mod != nil {
			c.Modules[name] = mod
		}
		decoded[name] = reflect.TypeOf(dest)
	}

	// Report in file order: a section's own error, or its unknown keys.
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	keys := map[string][]toml.Key{}
	for _, k := range md.Keys() {
		keys[k[0]] = append(keys[k[0]], k)
	}
	var errs []error
	for _, name := range order {
		if ferrs, ok := failed[name]; ok {
			errs = append(errs, ferrs...)
			continue
		}
		errs = append(errs, unknownKeys(file, keys[name], undecoded, decoded[name])...)
	}
	return joinErrors(file, errs)
}

// maxErrors is how many problems an error reports, at most.
const maxErrors = 50

// joinErrors joins errs, keeping the first maxErrors of them.
func joinErrors(file string, errs []error) error {
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
func unknownSection(file string, md *toml.MetaData, name string, reg *hook.Registry) error {
	what := "section"
	switch md.Type(name) {
	case "Hash", "ArrayHash", "":
	default:
		what = "top-level key"
	}
	allowed := append(slices.Clone(coreSections), reg.IDs()...)
	return &Error{File: file, Err: fmt.Errorf("unknown %s %q; allowed sections: %s",
		what, toml.Key{name}.String(), strings.Join(allowed, ", "))}
}
