package wasmhost

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hookrt/hookd/hostapi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Check reports whether wasm is a plugin this host can load: it compiles
// it, checks its exports and imports against the hookd_v1 ABI, and links it
// (without running any of its code). For `hookd plugin check`.
//
//	if err := wasmhost.Check(ctx, wasm); err != nil {
//		fmt.Println(err) // plugin does not fit ABI hookd_v1: it exports hookd_v2_on_event, …
//	}
//
// # Notes
//
//   - The memory limit is not applied: a plugin that declares more memory
//     than its memory_pages is refused by [Engine.Load].
//   - ABI problems are an [*ABIError] listing all of them.
func Check(ctx context.Context, wasm []byte) error {
	if len(wasm) > MaxBinary {
		return newError(fmt.Sprintf("plugin binary is %d bytes, over the %d-byte limit", len(wasm), MaxBinary), ErrRefused)
	}
	// The interpreter validates exactly what the compiler does, without
	// generating code.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(context.WithoutCancel(ctx))
	if err := instantiateHostModules(ctx, r); err != nil {
		return err
	}
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return newError("plugin does not compile: "+err.Error(), ErrRefused, err)
	}
	if err := checkABI(compiled); err != nil {
		return err
	}
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return newError("plugin does not link: "+err.Error(), ErrRefused, err)
	}
	return mod.Close(ctx)
}

// instantiateHostModules adds WASI and hookd_v1 to r.
func instantiateHostModules(ctx context.Context, r wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return fmt.Errorf("instantiate %s: %w", wasi_snapshot_preview1.ModuleName, err)
	}
	if _, err := hostapi.Instantiate(ctx, r); err != nil {
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
			params, results, ok := hostapi.Signature(name)
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
