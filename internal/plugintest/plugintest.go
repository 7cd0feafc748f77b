// Package plugintest builds Go plugins with the Go toolchain and runs them
// in hookd's real engine, for the tests of plugins/... and of daemons that
// load them. It runs natively (linux/amd64 and the like); the plugins it
// builds are GOOS=wasip1 GOARCH=wasm reactors.
//
//	func TestMain(m *testing.M) { plugintest.Main(m) }
//
//	func TestGuard(t *testing.T) {
//		wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard")
//		p := plugintest.Load(t, wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{Config: cfg})
//		out, err := p.Call(ctx, plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"}))
//	}
//
// Built plugins and their compiled code are cached on disk, shared by the
// test binaries of one user (see cache.go): a guest is compiled once, not
// once per test binary, and a second run finds it compiled.
//
// Plugins loaded with [Load] get the test-sized [Timeout] unless the test
// sets one: a guest that is meant to finish must not fail because a busy
// machine did not schedule it within the production 250 ms.
package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// Timeout is the call deadline [Load] gives a plugin whose Limits do not
// set one: long enough that scheduling delays on a loaded machine, under
// -race, cannot fail a well-behaved guest; a guest that never returns is
// still stopped. Tests of deadlines set their own.
const Timeout = time.Minute

var (
	mu     sync.Mutex
	builds sync.Map // package path → *build: the plugins [Build] built
	engine *wasmhost.Engine
)

type build struct {
	once sync.Once
	path string
	err  error
}

// once returns what make builds of pkg, built once per test binary for
// every caller with the same cache (concurrent callers wait for the same
// build). It fails t when the build fails, and skips it when there is no
// go command.
func once(t testing.TB, cache *sync.Map, pkg string, make func(pkg string) (string, error)) string {
	t.Helper()
	v, _ := cache.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.err = make(pkg) })
	if b.err != nil {
		if errors.Is(b.err, errNoGo) {
			t.Skip(b.err)
		}
		t.Fatal(b.err)
	}
	return b.path
}

// Main runs the tests, then the cleanups given (what the test binary made
// outside any test's temporary directory), closes the engine and removes
// the cache if it is this test binary's own (see [CacheDir]). Call it
// from TestMain.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	mu.Lock()
	if engine != nil {
		_ = engine.Close(context.Background())
	}
	mu.Unlock()
	cacheOnce.Do(func() {}) // a binary that never used the cache does not make one now
	if c := theCache; c != nil && !c.shared {
		_ = os.RemoveAll(c.root)
	}
	os.Exit(code)
}

// Build builds the main package pkg (an import path in this module) as a
// plugin and returns the path of the .wasm, which the test must not
// modify:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o <cache>/build/<name>.wasm <pkg>
//
// go build relinks only when the plugin's sources changed, and the result
// is shared by the test binaries of this user, compiled into [CacheDir]
// (see the package notes). Build runs once per package per test binary;
// concurrent calls wait for the same build. It fails t when the build
// fails, and skips it when there is no go command.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	return once(t, &builds, pkg, goBuild)
}

var errNoGo = fmt.Errorf("plugintest: no go command on PATH to build plugins with")

func goBuild(pkg string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", errNoGo
	}
	c, err := getCache()
	if err != nil {
		return "", fmt.Errorf("plugintest: cache: %w", err)
	}
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	dir, err := statSources(gobin, env, pkg)
	if err != nil {
		return "", err
	}
	// One build file per package and source directory: two checkouts of
	// the module do not relink each other's.
	d := sha256.Sum256([]byte(pkg + "\x00" + dir))
	name := path.Base(pkg) + "-" + hex.EncodeToString(d[:6])
	out := filepath.Join(c.root, "build", name+".wasm")
	unlock, err := c.lock(filepath.Join(c.root, "build", name+".lock"))
	if err != nil {
		return "", fmt.Errorf("plugintest: %w", err)
	}
	defer unlock()
	gobuild := func() ([]byte, error) {
		cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", out, pkg)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	if _, err := gobuild(); err != nil {
		// Once more from scratch: go build refuses to replace a file that
		// is not an object file (one a killed build left half-written).
		_ = os.Remove(out)
		if b, err := gobuild(); err != nil {
			return "", fmt.Errorf("plugintest: GOOS=wasip1 GOARCH=wasm go build %s: %v\n%s", pkg, err, b)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return "", fmt.Errorf("plugintest: %w", err)
	}
	kept, err := c.keep(path.Base(pkg), b)
	if err != nil {
		return "", fmt.Errorf("plugintest: %w", err)
	}
	_ = c.precompile(gobin, c.wazero, kept) // best effort: else the engine compiles it
	return kept, nil
}

// statSources stats the Go files the plugin is built from (outside the
// standard library) and returns the package's directory. go test caches a
// test's result until a file the test opened or stat'ed changes; the
// plugin's sources are not the test's own, so without this, changing a
// plugin would not rerun its tests.
func statSources(gobin string, env []string, pkg string) (dir string, err error) {
	cmd := exec.Command(gobin, "list", "-deps", "-f",
		`{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}F{{$d}}/{{.}}{{"\n"}}{{end}}{{if not .DepOnly}}D{{.Dir}}{{"\n"}}{{end}}{{end}}`, pkg)
	cmd.Env = env
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("plugintest: go list %s: %v", pkg, err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "F"):
			_, _ = os.Stat(line[1:])
		case strings.HasPrefix(line, "D"):
			dir = line[1:]
		}
	}
	return dir, nil
}

// Engine returns the engine shared by the test binary. Its compiled code
// is cached in [CacheDir]: each plugin is compiled once, also across test
// binaries, and not again when the last plugin using it is closed.
func Engine(t testing.TB) *wasmhost.Engine {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if engine == nil {
		c, err := getCache()
		if err != nil {
			t.Fatalf("plugintest: cache: %v", err)
		}
		e, err := wasmhost.NewEngine(context.Background(), wasmhost.Options{CacheDir: c.wazero})
		if err != nil {
			t.Fatal(err)
		}
		engine = e
	}
	return engine
}

// Load loads the plugin at wasm in the shared engine, closed when t ends.
// A zero lim.Timeout is [Timeout], not the production default.
func Load(t testing.TB, wasm string, lim wasmhost.Limits, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	if lim.Timeout == 0 {
		lim.Timeout = Timeout
	}
	e := Engine(t)
	c, err := getCache()
	if err != nil {
		t.Fatalf("plugintest: cache: %v", err)
	}
	var p *wasmhost.Plugin
	err = c.compiling(wasm, func() error {
		var err error
		p, err = e.Load(context.Background(), wasm, lim, g)
		return err
	})
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
