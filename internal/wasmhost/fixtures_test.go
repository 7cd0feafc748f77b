package wasmhost

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixturesUpToDate rebuilds every testdata/*.wat with wat2wasm and
// checks the committed .wasm is what it builds to.
func TestFixturesUpToDate(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not on PATH")
	}
	wats, err := filepath.Glob("testdata/*.wat")
	if err != nil || len(wats) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	dir := t.TempDir()
	for _, wat := range wats {
		name := strings.TrimSuffix(filepath.Base(wat), ".wat")
		out := filepath.Join(dir, name+".wasm")
		if b, err := exec.Command("wat2wasm", wat, "-o", out).CombinedOutput(); err != nil {
			t.Errorf("wat2wasm %s: %v\n%s", wat, err, b)
			continue
		}
		built, _ := os.ReadFile(out)
		committed, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Errorf("%s has no committed .wasm: %v", wat, err)
			continue
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("testdata/%s.wasm is stale: run wat2wasm %s.wat -o %s.wasm in testdata", name, name, name)
		}
	}
	wasms, _ := filepath.Glob("testdata/*.wasm")
	if len(wasms) != len(wats) {
		t.Errorf("%d .wasm files for %d .wat files", len(wasms), len(wats))
	}
}
