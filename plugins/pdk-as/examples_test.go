package pdkas_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest/exampletest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// The AssemblyScript examples (plugins/examples-as) are built with asc and
// run in hookd's engine, with exampletest's scenarios, which the Go
// examples (plugins/examples) pass too: same config, same behaviour.

const (
	sessionGuard = "../examples-as/session-guard/assembly/index.ts"
	jwtRelay     = "../examples-as/jwt-relay/assembly/index.ts"
)

// asExamples are the AssemblyScript builds, and what session-guard says
// in this SDK's words.
var asExamples = exampletest.Plugins{
	Build:        buildAS,
	SessionGuard: sessionGuard,
	JWTRelay:     jwtRelay,
	GuardConfigErrors: map[string]string{
		`{"block": ["10.0.0.0/33"], "secret": "s"}`:              `session-guard: invalid config: block[0] "10.0.0.0/33" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: prefix length out of range`,
		`{"block": ["1.2.3.4/08"], "secret": "s"}`:               `session-guard: invalid config: block[0] "1.2.3.4/08" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: bad bits after slash: "08"`,
		`{"block": ["2001:db8::/32", "1::2::3"], "secret": "s"}`: `session-guard: invalid config: block[1] "1::2::3" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: multiple :: in address`,
		`{"block": "10.0.0.0/8", "secret": "s"}`:                 "session-guard: invalid config: pdk: config: block: cannot use a string as string[]",
	},
}

func TestExamples(t *testing.T) {
	t.Parallel()
	exampletest.Run(t, asExamples)
}

// TestExampleBuild: an example builds as its README says, `npm ci && npm
// run build` in its directory (its asconfig.json extends the SDK's), into
// the module the other tests run. The SDK and the example are copied to a
// temporary directory, in the layout of the repository, so that nothing is
// installed into the source tree. session-guard is built so (npm ci copies
// 100 MB); jwt-relay's package files must be the same but for the name.
func TestExampleBuild(t *testing.T) {
	t.Parallel()
	testsupport.Long(t, "npm ci of the example's 100 MB of packages, then its npm run build")
	compiler(t) // skips without node and npm
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	copyTree(t, ".", filepath.Join(root, "plugins", "pdk-as"), "package.json", "package-lock.json", "index.ts", "asconfig.json", "assembly")
	for _, f := range []string{"package.json", "package-lock.json", "asconfig.json"} {
		a := readFile(t, filepath.Join("..", "examples-as", "session-guard", f))
		b := readFile(t, filepath.Join("..", "examples-as", "jwt-relay", f))
		if string(a) != strings.ReplaceAll(string(b), "jwt-relay", "session-guard") {
			t.Errorf("the examples' %s differ in more than the name", f)
		}
	}
	for _, name := range []string{"session-guard"} {
		src := filepath.Join("..", "examples-as", name)
		dir := filepath.Join(root, "plugins", "examples-as", name)
		copyTree(t, src, dir, "package.json", "package-lock.json", "asconfig.json", "assembly")
		for _, args := range [][]string{
			{"ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"},
			{"run", "build", "--silent"},
		} {
			cmd := exec.Command(npm, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: npm %s: %v\n%s", name, strings.Join(args, " "), err, out)
			}
		}
		built, err := os.ReadFile(filepath.Join(dir, "build", name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		tested, err := os.ReadFile(buildAS(t, filepath.Join(src, "assembly", "index.ts")))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, tested) {
			t.Errorf("%s: npm run build made %d bytes, the tests run %d other bytes", name, len(built), len(tested))
		}
	}
}

// readFile returns the contents of the file at path, failing t if it
// cannot be read.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyTree copies the named files and directories of src into dst.
func copyTree(t *testing.T, src, dst string, names ...string) {
	t.Helper()
	for _, name := range names {
		err := filepath.WalkDir(filepath.Join(src, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o700)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
