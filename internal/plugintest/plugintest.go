// Package plugintest builds Go plugins with the Go toolchain and runs them
// in hookd's real engine, for the tests of plugins/... . It runs natively
// (linux/amd64 and the like); the plugins it builds are GOOS=wasip1
// GOARCH=wasm reactors.
//
//	func TestMain(m *testing.M) { plugintest.Main(m) }
//
//	func TestGuard(t *testing.T) {
//		wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
//		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{Config: cfg})
//		out, err := p.Call(ctx, plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"}))
//	}
package plugintest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/wasmhost"
)

var (
	mu     sync.Mutex
	dir    string                // where binaries go, removed by Main
	builds = map[string]*build{} // by package path
	engine *wasmhost.Engine
)

type build struct {
	once sync.Once
	path string
	err  error
}

// Main runs the tests, then removes the binaries built and closes the
// engine. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if engine != nil {
		_ = engine.Close(context.Background())
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	mu.Unlock()
	os.Exit(code)
}

// Build builds the main package pkg (an import path in this module) as a
// plugin, once per test binary, and returns the path of the .wasm:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o <tmp>/<name>.wasm <pkg>
//
// Concurrent calls for one package wait for the same build. It fails t
// when the build fails, and skips it when there is no go command.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	if dir == "" {
		d, err := os.MkdirTemp("", "hookd-plugins-")
		if err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		dir = d
	}
	b := builds[pkg]
	if b == nil {
		b = &build{path: filepath.Join(dir, path.Base(pkg)+".wasm")}
		builds[pkg] = b
	}
	mu.Unlock()
	b.once.Do(func() { b.err = goBuild(pkg, b.path) })
	if b.err != nil {
		if b.err == errNoGo {
			t.Skip(b.err)
		}
		t.Fatal(b.err)
	}
	return b.path
}

var errNoGo = fmt.Errorf("plugintest: no go command on PATH to build plugins with")

func goBuild(pkg, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return errNoGo
	}
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("plugintest: GOOS=wasip1 GOARCH=wasm go build %s: %v\n%s", pkg, err, b)
	}
	return statSources(gobin, env, pkg)
}

// statSources stats the Go files the plugin is built from (outside the
// standard library). go test caches a test's result until a file the test
// opened or stat'ed changes; the plugin's sources are not the test's own,
// so without this, changing a plugin would not rerun its tests.
func statSources(gobin string, env []string, pkg string) error {
	cmd := exec.Command(gobin, "list", "-deps", "-f",
		`{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`, pkg)
	cmd.Env = env
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("plugintest: go list %s: %v", pkg, err)
	}
	for _, f := range strings.Fields(string(b)) {
		_, _ = os.Stat(f)
	}
	return nil
}

// Engine returns the engine shared by the test binary (compiled code is
// shared through its cache, so each binary is compiled once).
func Engine(t testing.TB) *wasmhost.Engine {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if engine == nil {
		e, err := wasmhost.NewEngine(context.Background(), wasmhost.Options{})
		if err != nil {
			t.Fatal(err)
		}
		engine = e
	}
	return engine
}

// Load loads the plugin at wasm in the shared engine, closed when t ends.
func Load(t testing.TB, wasm string, lim wasmhost.Limits, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	p, err := Engine(t).Load(context.Background(), wasm, lim, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// Event returns an ISL Light NEWSESSION event of about 300 bytes
// form-encoded, with fields added or replaced by extra ("" values are
// kept; delete fields from the result to drop them).
func Event(extra map[string]string) *hook.Event {
	const id = "0190c6b2-7f3a-7c4e-9d2b-5a1d00000001"
	ev := &hook.Event{
		ID: id,
		Fields: map[string]string{
			"EVENT_ID":      id,
			"TIMESTAMP":     "1732700000",
			"MODULE":        "ISL_LIGHT",
			"EVENT":         "NEWSESSION",
			"SERVERID":      "conf-proxy-1.example.com",
			"DOMAIN_ID":     "acme",
			"SESSIONID":     "5a1b",
			"CPUSER_ID":     "42",
			"USER":          "anna.svensson@example.com",
			"reasonAddress": "203.0.113.42",
			"PRODUCT":       "ISL Light 5.2",
			"DESK":          "Support desk / Ljubljana",
		},
		Created: time.Unix(1732700000, 0),
	}
	maps.Copy(ev.Fields, extra)
	return ev
}
