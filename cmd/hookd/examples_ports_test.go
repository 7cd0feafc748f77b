package main

import (
	"path/filepath"
	"regexp"
	"testing"
)

// TestExamplesListenApart: the README runs the examples side by side (the
// quick start's receiver, then the embedding proxy, the events script, the
// account service), so no two may listen on the same default address, nor
// on hookd's own (the shipped config's 127.0.0.1:7700).
func TestExamplesListenApart(t *testing.T) {
	t.Parallel()
	mains, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "main.go"))
	if err != nil || len(mains) < 4 {
		t.Fatalf("examples' main.go files: %v, %v", mains, err)
	}
	flag := regexp.MustCompile(`"listen", "([^"]+)"`)
	by := map[string]string{"127.0.0.1:7700": "hookd (config.toml)"}
	for _, m := range mains {
		rel, _ := filepath.Rel(filepath.Join("..", ".."), m)
		got := flag.FindStringSubmatch(repoFile(t, filepath.ToSlash(rel)))
		if got == nil {
			t.Errorf("%s: no -listen default found", rel)
			continue
		}
		if other, ok := by[got[1]]; ok {
			t.Errorf("%s listens on %s by default, as %s does: following the README in order gives \"address already in use\"", rel, got[1], other)
		}
		by[got[1]] = rel
	}
}
