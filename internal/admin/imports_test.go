package admin

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoPublicFaceImport: the admin page is a view over the operations
// room (internal/ops); it does not import the runtime, the public face
// that embedders use, for its chart or anything else. Before issue 17 it
// did (hookrt.Stats, hookrt.ErrReplayRefused).
func TestNoPublicFaceImport(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/hookrt/hookd/runtime" {
				t.Errorf("%s imports %s; read through internal/ops instead", f, p)
			}
		}
	}
}
