package pdkas_test

import (
	"context"
	"encoding/xml"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

// xmlUnmarshal decodes doc into v.
func xmlUnmarshal(doc string, v any) error { return xml.Unmarshal([]byte(doc), v) }

// wasmImports lists the functions the module at path imports, as
// "module.name".
func wasmImports(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	m, err := r.CompileModule(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		out = append(out, mod+"."+name)
	}
	return out
}
