package extismbench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// Both hosts run with the same call deadline, enforced the same way:
// wazero's WithCloseOnContextDone plus a context.WithTimeout per call.
// hookd: wasmhost.Limits.Timeout (its default, 250 ms). Extism:
// Manifest.Timeout in milliseconds, which makes the SDK set
// WithCloseOnContextDone(true) on its runtime and wrap every Call's context
// in context.WithTimeout(Plugin.Timeout).
const (
	timeout    = wasmhost.DefaultTimeout
	memPages   = wasmhost.DefaultMemoryPages
	noMessage  = "<nomessage/>"
	extismFunc = "run"
)

// repoRoot is hookd's module root, the replace target in go.mod.
var repoRoot = filepath.Join("..", "..")

// event is the ISL Light NEWSESSION event both hosts get: about 300 bytes
// form-encoded (see TestEventSize).
func event() *hook.Event { return plugintest.Event(nil) }

// form is ev as the Extism plugin's input: application/x-www-form-urlencoded,
// sorted by name, the encoding hookd's event_read gives a guest.
func form(ev *hook.Event) []byte {
	v := url.Values{}
	for k, x := range ev.Fields {
		v.Set(k, x)
	}
	return []byte(v.Encode())
}

// caller makes one call of a warm instance and returns the answer.
type caller func(ctx context.Context) (string, error)

// --- hookd ---

var (
	engineOnce sync.Once
	engine     *wasmhost.Engine
	engineErr  error
)

// hookdEngine is the engine shared by the test binary, closed by TestMain.
func hookdEngine(tb testing.TB) *wasmhost.Engine {
	tb.Helper()
	engineOnce.Do(func() { engine, engineErr = wasmhost.NewEngine(context.Background(), wasmhost.Options{}) })
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return engine
}

// hookdCaller loads the plugin at path with one warm instance and the
// default limits (250 ms deadline, 256 pages) and calls it with ev.
func hookdCaller(tb testing.TB, path string) caller {
	tb.Helper()
	ctx := context.Background()
	p, err := hookdEngine(tb).Load(ctx, path, wasmhost.Limits{Instances: 1, Timeout: timeout, MemoryPages: memPages}, hostfn.Grants{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	ev := event()
	return func(ctx context.Context) (string, error) {
		out, err := p.Call(ctx, ev)
		if err != nil {
			return "", err
		}
		if out.Status != hostapi.StatusHandled {
			return "", fmt.Errorf("status %d: %s", out.Status, out.Error)
		}
		if out.Reply == nil { // the ABI: no reply set is <nomessage/>
			return noMessage, nil
		}
		return string(out.Reply), nil
	}
}

var (
	goGuestOnce sync.Once
	goGuestDir  string
	goGuestPath string
	goGuestSkip string
)

// goSDKGuest builds, once per test binary, a one-file Go plugin on hookd's
// Go SDK (plugins/pdk) answering <nomessage/>, in a temporary module that
// replaces github.com/hookrt/hookd with this repository. It skips when the
// SDK is not in the repository or does not build (yet).
func goSDKGuest(tb testing.TB) string {
	tb.Helper()
	goGuestOnce.Do(func() {
		root, err := filepath.Abs(repoRoot)
		if err != nil {
			goGuestSkip = err.Error()
			return
		}
		if _, err := os.Stat(filepath.Join(root, "plugins", "pdk")); err != nil {
			goGuestSkip = "hookd's Go SDK (plugins/pdk) is not in this repository yet: " + err.Error()
			return
		}
		gobin, err := exec.LookPath("go")
		if err != nil {
			goGuestSkip = "no go command to build the Go SDK guest"
			return
		}
		dir, err := os.MkdirTemp("", "hookd-extism-bench-")
		if err != nil {
			goGuestSkip = err.Error()
			return
		}
		goGuestDir = dir
		src := `package main

import "github.com/hookrt/hookd/plugins/pdk"

func init() {
	pdk.Handle(func(*pdk.Event) pdk.Reply { return pdk.NoMessage() })
}

func main() {}
`
		mod := "module guest\n\ngo 1.26\n\nrequire github.com/hookrt/hookd v0.0.0\n\nreplace github.com/hookrt/hookd => " + root + "\n"
		for name, text := range map[string]string{"main.go": src, "go.mod": mod} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				goGuestSkip = err.Error()
				return
			}
		}
		cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", "guest.wasm", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			goGuestSkip = fmt.Sprintf("hookd's Go SDK (plugins/pdk) does not build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared: %v\n%s", err, out)
			return
		}
		goGuestPath = filepath.Join(dir, "guest.wasm")
	})
	if goGuestSkip != "" {
		tb.Skip(goGuestSkip)
	}
	return goGuestPath
}

// --- Extism ---

// extismCaller makes one Extism plugin instance of testdata/noop.wasm and
// calls its "run" with the event, form-encoded, within the 250 ms deadline.
// An Extism Plugin is not safe for concurrent calls (the SDK's doc of
// NewPlugin: "Plugins are not thread-safe"; make one instance per goroutine
// with CompiledPlugin.Instance); this benchmark is sequential, so one
// instance, reused for every call, as the SDK recommends for repeated calls.
func extismCaller(tb testing.TB) caller {
	return extismPlugin(tb, "noop", timeout)
}

// extismPlugin makes one Extism plugin instance of testdata/name.wasm with
// the call deadline d.
func extismPlugin(tb testing.TB, name string, d time.Duration) caller {
	tb.Helper()
	ctx := context.Background()
	manifest := extism.Manifest{
		Wasm: []extism.Wasm{extism.WasmFile{Path: filepath.Join("testdata", name+".wasm")}},
		// Manifest.Timeout (ms) > 0: the SDK turns on
		// WithCloseOnContextDone(true) and bounds each Call with
		// context.WithTimeout(d), as hookd does.
		Timeout: uint64(d / time.Millisecond),
		// hookd's default memory limit, for symmetry (no per-call cost).
		Memory: &extism.ManifestMemory{MaxPages: memPages},
	}
	compiled, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = compiled.Close(context.Background()) })
	p, err := compiled.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	input := form(event())
	return func(ctx context.Context) (string, error) {
		rc, out, err := p.CallWithContext(ctx, extismFunc, input)
		if err != nil {
			return "", err
		}
		if rc != 0 {
			return "", fmt.Errorf("extism %s returned %d", extismFunc, rc)
		}
		return string(out), nil
	}
}

// --- the comparison ---

// contenders are the sub-benchmarks of BenchmarkPerCall, in order.
var contenders = []struct {
	name string
	make func(tb testing.TB) caller
}{
	// internal/wasmhost's minimal guest: reply_set("<nomessage/>"), the
	// event never read.
	{"hookd-minimal", func(tb testing.TB) caller {
		return hookdCaller(tb, filepath.Join(repoRoot, "internal", "wasmhost", "testdata", "ok.wasm"))
	}},
	// A Go plugin on hookd's SDK: pdk.NoMessage() (no host call at all).
	{"hookd-go-sdk", func(tb testing.TB) caller { return hookdCaller(tb, goSDKGuest(tb)) }},
	// Extra: a WAT guest that copies the whole event in (event_len +
	// event_read) before replying, the work Extism always does.
	{"hookd-read-event", func(tb testing.TB) caller {
		return hookdCaller(tb, filepath.Join("testdata", "readevent.wasm"))
	}},
	// The hand-written Extism plugin: input_length, alloc, store_u64,
	// 4 x store_u8, output_set.
	{"extism-wat-noop", extismCaller},
}

// BenchmarkPerCall measures one call of a warm instance, on one goroutine,
// with the ~300-byte event and the 250 ms deadline enforced on both hosts.
//
//	go test -run '^$' -bench . -benchtime 20000x -count 3
func BenchmarkPerCall(b *testing.B) {
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			call := c.make(b)
			ctx := context.Background()
			if got, err := call(ctx); err != nil || got != noMessage {
				b.Fatalf("warm-up call: %q, %v", got, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExtismReference calibrates the hand-written Extism guest
// against a real PDK guest: the SDK's own wasm/noop.wasm (TinyGo, export
// run_test, which reads no input and sets no output), called like
// extism-wat-noop (one warm instance, the same input, the 250 ms deadline).
// It is not a <nomessage/> hook, so it is not part of BenchmarkPerCall.
func BenchmarkExtismReference(b *testing.B) {
	b.Run("sdk-noop-tinygo", func(b *testing.B) {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/extism/go-sdk").Output()
		if err != nil {
			b.Skipf("cannot find the Extism SDK's directory: %v", err)
		}
		path := filepath.Join(strings.TrimSpace(string(out)), "wasm", "noop.wasm")
		if _, err := os.Stat(path); err != nil {
			b.Skip(err)
		}
		ctx := context.Background()
		compiled, err := extism.NewCompiledPlugin(ctx, extism.Manifest{
			Wasm:    []extism.Wasm{extism.WasmFile{Path: path}},
			Timeout: uint64(timeout / time.Millisecond),
			Memory:  &extism.ManifestMemory{MaxPages: memPages},
		}, extism.PluginConfig{EnableWasi: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer compiled.Close(ctx)
		p, err := compiled.Instance(ctx, extism.PluginInstanceConfig{})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(ctx)
		input := form(event())
		if _, _, err := p.CallWithContext(ctx, "run_test", input); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := p.CallWithContext(ctx, "run_test", input); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSameOutput checks that every contender answers <nomessage/>, on
// repeated calls of the same warm instance.
func TestSameOutput(t *testing.T) {
	for _, c := range contenders {
		t.Run(c.name, func(t *testing.T) {
			call := c.make(t)
			for i := range 3 {
				got, err := call(context.Background())
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if got != noMessage {
					t.Fatalf("call %d: got %q, want %q", i, got, noMessage)
				}
			}
		})
	}
}

// TestEventSize checks the event is the ~300 bytes the comparison is about,
// and that the Extism plugin's input is as long as the event hookd gives a
// guest (event_len, seen through readevent.wasm's host calls).
func TestEventSize(t *testing.T) {
	ev := event()
	n := len(form(ev))
	if n < 250 || n > 350 {
		t.Fatalf("event is %d bytes form-encoded, want about 300", n)
	}
	ctx := context.Background()
	p, err := hookdEngine(t).Load(ctx, filepath.Join("testdata", "readevent.wasm"), wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	out, err := p.Call(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, hc := range out.HostCalls {
		if hc.Name == "event_len" {
			if hc.Status != int64(n) {
				t.Fatalf("hookd's event is %d bytes, the Extism input %d", hc.Status, n)
			}
			t.Logf("event: %d bytes form-encoded; host calls of readevent: %d", n, len(out.HostCalls))
			return
		}
	}
	t.Fatalf("no event_len in the host calls %+v", out.HostCalls)
}

// TestExtismDeadline checks the Extism side really runs with context-done
// closing: a guest that loops forever is stopped at Manifest.Timeout (here
// 20 ms). Without WithCloseOnContextDone the call would never return.
func TestExtismDeadline(t *testing.T) {
	call := extismPlugin(t, "loop", 20*time.Millisecond)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := call(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the looping guest returned")
		}
		t.Logf("stopped after %s: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(10 * time.Second):
		t.Fatal("the looping guest was not stopped within 10s of its 20ms deadline")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if engine != nil {
		_ = engine.Close(context.Background())
	}
	if goGuestDir != "" {
		_ = os.RemoveAll(goGuestDir)
	}
	os.Exit(code)
}
