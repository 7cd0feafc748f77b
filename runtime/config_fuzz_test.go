package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every error line
// names the file, that Parse is deterministic, and that a config Parse
// accepts passes validate again.
func FuzzParseConfig(f *testing.F) {
	for _, tc := range badConfigs {
		f.Add([]byte(tc.input))
	}
	f.Add([]byte(fullConfig))
	files, _ := filepath.Glob("testdata/*.tomltest")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			input, _, _ := splitGolden(string(data))
			f.Add([]byte(input))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(string(data))
		c2, err2 := parse(string(data))
		if err != nil {
			for line := range strings.Lines(err.Error()) {
				if !strings.HasPrefix(line, "config.toml") {
					t.Errorf("error line without the file name: %q", line)
				}
			}
			if err2 == nil || err.Error() != err2.Error() {
				t.Errorf("Parse is not deterministic:\n%v\n----\n%v", err, err2)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that validate rejects: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Errorf("Parse is not deterministic:\n%+v\n%+v", c, c2)
		}
	})
}
