package main

import (
	"os"
	"path/filepath"
	"testing"
)

// fileWriter returns a function that writes body to the file name in
// dir (mode 0600, as hookd wants its private files) and returns its path.
func fileWriter(t *testing.T, dir string) func(name, body string) string {
	return func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
