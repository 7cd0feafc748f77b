package runtime

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite the expected part of testdata/*.tomltest")

// goldenSep separates the input of a testdata/*.tomltest file from what
// parsing it as config.toml yields: the error, one problem per line, or
// the config encoded back to TOML (defaults filled, paths resolved).
const goldenSep = "----\n"

func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.tomltest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := splitGolden(string(data))
			if !ok {
				t.Fatalf("%s: no %q line between input and expected output", file, strings.TrimSpace(goldenSep))
			}
			got := render(t, input)
			if *update {
				if err := os.WriteFile(file, []byte(input+goldenSep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: parsing the input gives\n%s\nwant\n%s\n(run go test -update to accept)", file, got, want)
			}
		})
	}
}

// splitGolden splits a golden file at its first separator line.
func splitGolden(s string) (input, want string, ok bool) {
	if rest, found := strings.CutPrefix(s, goldenSep); found {
		return "", rest, true
	}
	i := strings.Index(s, "\n"+goldenSep)
	if i < 0 {
		return "", "", false
	}
	return s[:i+1], s[i+1+len(goldenSep):], true
}

// render parses input and returns the error or the encoded config.
func render(t *testing.T, input string) string {
	c, err := parse(input)
	if err != nil {
		return err.Error() + "\n"
	}
	if host, _ := os.Hostname(); c.Server.ServerID == host {
		c.Server.ServerID = "$HOSTNAME" // the default, which varies
	}
	var b bytes.Buffer
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) > 0 {
		if err := enc.Encode(c.Modules); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
