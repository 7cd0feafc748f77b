package wasmhost

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// instantiateHostModules adds WASI and hookd_v1 to r.
func instantiateHostModules(ctx context.Context, r wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", wasi_snapshot_preview1.ModuleName, err)
	}
	if _, err := hostfn.Instantiate(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", hostapi.ModuleName, err)
	}
	return nil
}

// abiName matches the names of other ABI versions: hookd_v2, hookd_v2_on_event.
var abiName = regexp.MustCompile(`^hookd_v([0-9]+)(_|$)`)

// checkABI checks the exports and imports of a compiled plugin against the
// ABI and lists every problem found.
func checkABI(m wazero.CompiledModule) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	exports := m.ExportedFunctions()

	if entry, ok := exports[hostapi.EntryPoint]; !ok {
		var other []string
		for name := range exports {
			if abiName.MatchString(name) && strings.HasSuffix(name, "_on_event") {
				other = append(other, name)
			}
		}
		slices.Sort(other)
		if len(other) > 0 {
			add("it exports %s, the entry point of another ABI version; this hookd speaks %s only and needs %s",
				strings.Join(other, ", "), hostapi.ModuleName, hostapi.EntryPoint)
		} else {
			add("it does not export %s, the entry point of ABI %s", hostapi.EntryPoint, hostapi.ModuleName)
		}
	} else if !sameTypes(entry.ParamTypes(), nil) || !sameTypes(entry.ResultTypes(), []api.ValueType{api.ValueTypeI32}) {
		add("its %s has type %s; it must be () -> i32", hostapi.EntryPoint, signature(entry.ParamTypes(), entry.ResultTypes()))
	}
	if init, ok := exports[hostapi.InitExport]; ok {
		if !sameTypes(init.ParamTypes(), nil) || !sameTypes(init.ResultTypes(), []api.ValueType{api.ValueTypeI32}) {
			add("its %s has type %s; it must be () -> i32", hostapi.InitExport, signature(init.ParamTypes(), init.ResultTypes()))
		}
	}
	if why := SignupProblem(m); why != "" {
		add("%s", why)
	}
	if _, ok := m.ExportedMemories()[hostapi.MemoryExport]; !ok {
		add("it does not export its memory as %q", hostapi.MemoryExport)
	}
	for _, mem := range m.ImportedMemories() {
		mod, name, _ := mem.Import()
		add("it imports a memory (%s.%s); a plugin defines and exports its own", mod, name)
	}

	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch {
		case mod == hostapi.ModuleName:
			fn, ok := hostapi.Signature(name)
			params, results := hostfn.ValueTypes(fn.Params), hostfn.ValueTypes(fn.Results)
			if !ok {
				add("it imports %s.%s, which ABI %s does not have (it has %s)", mod, name, hostapi.ModuleName, strings.Join(hostapi.Names(), ", "))
			} else if !sameTypes(params, f.ParamTypes()) || !sameTypes(results, f.ResultTypes()) {
				add("it imports %s.%s with type %s; ABI %s defines %s", mod, name,
					signature(f.ParamTypes(), f.ResultTypes()), hostapi.ModuleName, signature(params, results))
			}
		case mod == wasi_snapshot_preview1.ModuleName:
			// Names and types are checked when linking.
		case abiName.MatchString(mod):
			add("it imports %s.%s: ABI %s is not supported; this hookd speaks %s only", mod, name, mod, hostapi.ModuleName)
		default:
			add("it imports %s.%s; a plugin may import only from %s and %s", mod, name, hostapi.ModuleName, wasi_snapshot_preview1.ModuleName)
		}
	}
	if len(problems) > 0 {
		return &ABIError{Problems: problems}
	}
	return nil
}

func sameTypes(a, b []api.ValueType) bool { return slices.Equal(a, b) }

// signature renders a function type as "(i32, i32) -> i32".
func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	r := names(results)
	switch len(results) {
	case 0:
		r = "()"
	case 1:
	default:
		r = "(" + r + ")"
	}
	return "(" + names(params) + ") -> " + r
}
