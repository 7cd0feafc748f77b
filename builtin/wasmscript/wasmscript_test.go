package wasmscript_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// fixture is a hand-written plugin of internal/wasmhost/testdata.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "internal", "wasmhost", "testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newHost(t *testing.T) *wasmscript.Host {
	t.Helper()
	h, err := wasmscript.NewHost(context.Background(), wasmscript.HostOptions{PrivateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// testTimeout is the call deadline of plugins that are meant to finish:
// the most Settings allow, not the production 250 ms, which a call on a
// loaded machine (under -race) may wait for a CPU longer than.
const testTimeout = hook.Duration(time.Minute)

func event(sessionID string) *hook.Event {
	ev, err := hook.NewEvent(map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "5", "SESSIONID": sessionID},
		time.Now(), "test")
	if err != nil {
		panic(err)
	}
	return ev
}

// TestLoadJudgesModules: Load is the one judgement of a module that serve,
// plugin check and plugin run share: the ABI, the declared memory against
// memory_pages, hookd_v1_init, the settings and the grants.
func TestLoadJudgesModules(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	for _, tc := range []struct {
		name    string
		spec    wasmscript.Spec
		wantErr string // "" loads
	}{
		{"minimal guest", wasmscript.Spec{Path: fixture(t, "ok")}, ""},
		{"memory declared over the default 256 pages", wasmscript.Spec{Path: fixture(t, "bigmem")}, "over limit of 256 pages"},
		{"memory declared within memory_pages", wasmscript.Spec{Path: fixture(t, "bigmem"), Settings: wasmscript.Settings{MemoryPages: 300}}, ""},
		{"init refuses the config", wasmscript.Spec{Path: fixture(t, "init"), Config: map[string]any{"a": 1}}, "hookd_v1_init returned 7: config not accepted"},
		{"init accepts an empty config", wasmscript.Spec{Path: fixture(t, "init")}, ""},
		{"another ABI version", wasmscript.Spec{Path: fixture(t, "v2")}, "it exports hookd_v2_on_event"},
		{"settings out of range", wasmscript.Spec{Path: fixture(t, "ok"), Settings: wasmscript.Settings{MemoryPages: 1}}, "memory_pages: must be between 2 and 32768"},
		{"a key that is not there", wasmscript.Spec{Path: fixture(t, "sign"), Settings: wasmscript.Settings{Keys: []string{"relay.pem"}}}, "plugin.keys"},
		{"an origin that is not one", wasmscript.Spec{Path: fixture(t, "http"), Settings: wasmscript.Settings{HTTPAllow: []string{"https://x.example/path"}}}, "plugin.http_allow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Settings.Instances = 1
			s, err := h.Load(context.Background(), tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
			case err == nil && len(s.SHA256()) != 64:
				t.Errorf("SHA256 %q", s.SHA256())
			}
		})
	}
}

// TestHandleJudgesLikeAScript: a plugin's answer means what a script's
// reply means, strict or not.
func TestHandleJudgesLikeAScript(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	load := func(name string, strict bool) *wasmscript.Script {
		t.Helper()
		s, err := h.Load(context.Background(), wasmscript.Spec{Domain: "5", Path: fixture(t, name), Strict: strict,
			Settings: wasmscript.Settings{Instances: 1, Timeout: testTimeout}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()

	res, err := load("echo", true).Handle(ctx, event("5a1d"))
	if err != nil || !strings.Contains(string(res.Commands), `<session id="5a1d">`) || !strings.Contains(string(res.Commands), "<drop/>") || res.Summary != "xmlmsg: drop 5a1d" {
		t.Errorf("echo: summary %q, commands %q, %v; want its XMLMSG drop as commands", res.Summary, res.Commands, err)
	}
	if res, err := load("ok", true).Handle(ctx, event("1")); err != nil || res.Commands != nil {
		t.Errorf("<nomessage/>: %+v, %v", res, err)
	}
	if _, err := load("fail", true).Handle(ctx, event("1")); err == nil || hook.IsPermanent(err) || !strings.Contains(err.Error(), "upstream not ready") {
		t.Errorf("status 1: %v; want a retryable error with the plugin's message", err)
	}
	if _, err := load("fatal", true).Handle(ctx, event("1")); !hook.IsPermanent(err) {
		t.Errorf("status 2: %v; want a permanent error", err)
	}
	if _, err := load("trap", true).Handle(ctx, event("1")); err == nil || hook.IsPermanent(err) || !strings.Contains(err.Error(), "trapped") {
		t.Errorf("trap: %v; want a retryable error", err)
	}
	// flaky.wat's first call replies "1": not XML.
	if _, err := load("flaky", true).Handle(ctx, event("1")); err == nil || !strings.Contains(err.Error(), "replied but") {
		t.Errorf("strict, reply not XMLMSG: %v; want a failure", err)
	}
	if res, err := load("flaky", false).Handle(ctx, event("1")); err != nil || !strings.Contains(res.Summary, "not strict: ignored") {
		t.Errorf("lax, reply not XMLMSG: %+v, %v; want it accepted", res, err)
	}
}

// TestReload: a changed file is swapped in; a broken one is refused and the
// running version keeps serving.
func TestReload(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	path := filepath.Join(t.TempDir(), "p.wasm")
	copyFile(t, fixture(t, "ok"), path)
	s, err := h.Load(context.Background(), wasmscript.Spec{Path: path, Settings: wasmscript.Settings{Instances: 1, Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	before := s.SHA256()
	copyFile(t, fixture(t, "fail"), path)
	if err := h.Reload(context.Background()); err != nil || s.SHA256() == before {
		t.Fatalf("reload of a valid file: %v, sha %s -> %s", err, before, s.SHA256())
	}
	swapped := s.SHA256()
	copyFile(t, fixture(t, "v2"), path)
	if err := h.Reload(context.Background()); err == nil || s.SHA256() != swapped {
		t.Fatalf("reload of a broken file: %v, sha %s; want an error and the running version kept", err, s.SHA256())
	}
	if _, err := s.Handle(context.Background(), event("1")); err == nil || !strings.Contains(err.Error(), "upstream not ready") {
		t.Errorf("after the refused reload the fail.wasm version still answers: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    wasmscript.Settings
		want string
	}{
		{wasmscript.Settings{}, ""},
		{wasmscript.Settings{MemoryPages: 64, Timeout: hook.Duration(time.Second), Instances: 8, Keys: []string{"a.pem"}}, ""},
		{wasmscript.Settings{MemoryPages: 40000}, "memory_pages"},
		{wasmscript.Settings{Timeout: hook.Duration(2 * time.Minute)}, "timeout: must be between 1ms and 1m"},
		{wasmscript.Settings{MaxReply: 2 << 20}, "max_reply"},
		{wasmscript.Settings{Instances: 1000}, "instances"},
		{wasmscript.Settings{AllowPrivate: []string{"nonsense"}}, "allow_private"},
		{wasmscript.Settings{HTTPMaxRequests: -1}, "must not be negative"},
		{wasmscript.Settings{Keys: []string{""}}, "keys: a key name is empty"},
	} {
		err := tc.s.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
	var p *wasmscript.Plugins
	if p.CacheDirOrDefault() != wasmscript.DefaultCacheDir || p.ReloadIntervalOrDefault() != wasmscript.DefaultReloadInterval {
		t.Error("a missing [plugins] section does not give the defaults")
	}
	short := hook.Duration(time.Millisecond)
	if err := (&wasmscript.Plugins{ReloadInterval: &short}).Validate(); err == nil {
		t.Error("a 1ms reload interval was accepted")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
