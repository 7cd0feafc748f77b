package httpevents_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
)

// TestBuildDomainFromStoredBytes: a stored plugin version (Domain.Module)
// is built by the same BuildDomain as a [[domain]] file: written once to
// <cache dir>/modules/<sha256>.wasm (0600), run as the domain's handler
// (its XMLMSG reply judged as a script's), listed by Plugins() until its
// closer runs.
func TestBuildDomainFromStoredBytes(t *testing.T) {
	t.Parallel()
	e, err := provision(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wasm := mustReadFile(t, fixture(t, "echo.wasm"))
	sum := sha256.Sum256(wasm)
	sha := hex.EncodeToString(sum[:])
	d := httpevents.Domain{ID: "42", Module: wasm, Plugin: wasmscript.Settings{Timeout: hook.Duration(time.Minute), Instances: 1}}
	if err := (&httpevents.Domains{d}).Validate(); err != nil {
		t.Fatalf("a stored module needs no script: %v", err)
	}
	tg, closeIt, err := e.BuildDomain(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != httpevents.DomainTargetPrefix+"42" || tg.Policy.Timeout != 0 {
		t.Errorf("target %q policy %+v", tg.Name, tg.Policy)
	}
	ev, err := hook.NewEvent(event("42", "NEWSESSION", "SESSIONID", "5a1d"), time.Now(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if !tg.Match(ev) {
		t.Error("the target does not match its domain's event")
	}
	res, err := tg.Handler.Handle(context.Background(), ev)
	if err != nil || !strings.Contains(string(res.Commands), "5a1d") {
		t.Fatalf("Handle: %+v, %v; want the plugin's drop of 5a1d", res, err)
	}
	st := e.Plugins()
	if len(st) != 1 || st[0].Domain != "42" || st[0].SHA256 != sha || filepath.Base(st[0].Path) != sha+".wasm" ||
		filepath.Base(filepath.Dir(st[0].Path)) != "modules" {
		t.Fatalf("Plugins() = %+v; want the stored module, at modules/%s.wasm", st, sha)
	}
	fi, err := os.Stat(st[0].Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("module file: %v, %v; want mode 0600", fi, err)
	}
	// The same bytes again (another node's reload, a restart): the same file.
	tg2, close2, err := e.BuildDomain(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := closeIt(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.Plugins(); len(st) != 1 || st[0].Path != filepath.Join(filepath.Dir(st[0].Path), sha+".wasm") {
		t.Errorf("after closing the first: Plugins() = %+v; want only the second", st)
	}
	if _, err := tg.Handler.Handle(context.Background(), ev); err == nil {
		t.Error("a closed handler still runs")
	}
	if _, err := tg2.Handler.Handle(context.Background(), ev); err != nil {
		t.Errorf("the replacement: %v", err)
	}
	if err := close2(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.Plugins(); len(st) != 0 {
		t.Errorf("Plugins() = %+v after both closed", st)
	}
}

// TestBuildDomainJudgesBytesAsFiles: stored bytes and files are refused
// for the same reasons, with the [[domain]] id in front; a tampered
// module (not the SHA-256 it was stored with) is refused before it runs;
// a URL domain is built as at start; with per_domain off nothing is
// built.
func TestBuildDomainJudgesBytesAsFiles(t *testing.T) {
	t.Parallel()
	e, err := provision(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"v2.wasm", "bigmem.wasm", "unknownimport.wasm"} {
		_, _, fileErr := e.BuildDomain(ctx, httpevents.Domain{ID: "7", Script: fixture(t, name)})
		_, _, bytesErr := e.BuildDomain(ctx, httpevents.Domain{ID: "7", Module: mustReadFile(t, fixture(t, name))})
		if fileErr == nil || bytesErr == nil || !strings.HasPrefix(bytesErr.Error(), `[[domain]] id "7": `) {
			t.Fatalf("%s: file %v, bytes %v; want both refused", name, fileErr, bytesErr)
		}
		// The same reason; the stored module is named by its hash, not by
		// the file the host keeps it in.
		sum := sha256.Sum256(mustReadFile(t, fixture(t, name)))
		stored := "module sha256:" + hex.EncodeToString(sum[:])[:12]
		if strings.Contains(bytesErr.Error(), "modules/") || !strings.Contains(bytesErr.Error(), stored) {
			t.Errorf("%s: %v; want the module named %q", name, bytesErr, stored)
		}
		if strings.ReplaceAll(fileErr.Error(), fixture(t, name), "X") != strings.ReplaceAll(bytesErr.Error(), stored, "X") {
			t.Errorf("%s:\nfile:  %v\nbytes: %v\nwant the same reason", name, fileErr, bytesErr)
		}
	}
	_, _, err = e.BuildDomain(ctx, httpevents.Domain{ID: "7", Module: mustReadFile(t, fixture(t, "ok.wasm")),
		Plugin: wasmscript.Settings{SHA256: strings.Repeat("0", 64)}})
	if err == nil || !strings.Contains(err.Error(), "pinned to") {
		t.Errorf("pinned: %v", err)
	}
	tg, closeIt, err := e.BuildDomain(ctx, httpevents.Domain{ID: "8", Script: "http://127.0.0.1:9/events"})
	if err != nil || tg.Name != httpevents.DomainTargetPrefix+"8" || tg.Policy.Timeout != 2*time.Second || closeIt(ctx) != nil {
		t.Errorf("URL domain: %+v, %v", tg, err)
	}
	off := &httpevents.Events{Global: true, GlobalServer: "127.0.0.1:9"}
	if _, _, err := off.BuildDomain(ctx, httpevents.Domain{ID: "9", Script: "http://127.0.0.1:9/"}); err == nil ||
		!strings.Contains(err.Error(), "per_domain is off") {
		t.Errorf("per_domain off: %v", err)
	}
}

// TestDomainJSONKeysAreTOMLKeys: a stored domain's settings are JSON with
// the keys of a [[domain]] entry, so one decodes into the other; the
// module's bytes are never part of it.
func TestDomainJSONKeysAreTOMLKeys(t *testing.T) {
	t.Parallel()
	const doc = `
id = "42"
script = "plugins/guard.wasm"
strict = true
combine_interval = "5s"
[plugin]
memory_pages = 64
timeout = "100ms"
http_allow = ["https://api.example.com"]
state = true
[config]
block = ["10.0.0.0/8"]
`
	var fromTOML httpevents.Domain
	if _, err := toml.Decode(doc, &fromTOML); err != nil {
		t.Fatal(err)
	}
	fromTOML.Module = []byte("\x00asm")
	b, err := json.Marshal(fromTOML)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "script", "strict", "combine_interval", "plugin", "config"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
	if len(keys) != 6 {
		t.Errorf("JSON %s: want exactly the six [[domain]] keys (no module)", b)
	}
	var fromJSON httpevents.Domain
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	fromTOML.Module = nil
	again, _ := json.Marshal(fromJSON)
	if want, _ := json.Marshal(fromTOML); string(again) != string(want) {
		t.Errorf("round trip:\n got %s\nwant %s", again, want)
	}
}

// TestEventsDryRunAndPluginLogs: the module's dry run uses the domain's
// strictness and its plugin host, and keeps nothing; a delivery's log
// lines are the domain's (PluginLogs), with the event's id.
func TestEventsDryRunAndPluginLogs(t *testing.T) {
	t.Parallel()
	e, err := provision(t, httpevents.Domains{
		{ID: "5", Script: fixture(t, "echo.wasm"), Plugin: wasmscript.Settings{Timeout: hook.Duration(time.Minute), Instances: 1}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := hook.NewEvent(event("5", "NEWSESSION", "SESSIONID", "5a1d"), time.Now(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Targets()[0].Handler.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	logs := e.PluginLogs("5")
	if len(logs) != 1 || logs[0].EventID != ev.ID || !strings.Contains(logs[0].Line, "SESSIONID=5a1d") {
		t.Fatalf("PluginLogs = %+v", logs)
	}
	if ds, n := e.LogDomains(); len(ds) != 1 || ds[0] != "5" || n != 1 {
		t.Errorf("LogDomains() = %v, %d", ds, n)
	}
	lax := false
	// result.wasm answers XML that is not XMLMSG: acknowledged, strict or not.
	for _, strict := range []*bool{nil, &lax} {
		res, err := e.DryRun(context.Background(), httpevents.Domain{ID: "5", Strict: strict, Module: mustReadFile(t, filepath.Join("testdata", "result.wasm"))},
			[]*hook.Event{ev}, nil, false)
		if err != nil || len(res) != 1 || res[0].Verdict != wasmscript.VerdictAcknowledged || len(res[0].Commands) != 0 {
			t.Errorf("strict %v: %+v, %v", strict, res, err)
		}
	}
	// trap.wasm traps: retried (not failed for good).
	res, err := e.DryRun(context.Background(), httpevents.Domain{ID: "5", Module: mustReadFile(t, fixture(t, "trap.wasm"))}, []*hook.Event{ev}, nil, false)
	if err != nil || len(res) != 1 || res[0].Verdict != wasmscript.VerdictRetry || !strings.Contains(res[0].Error, "trapped") {
		t.Errorf("trap: %+v, %v", res, err)
	}
	if got := e.PluginLogs("5"); len(got) != 1 {
		t.Errorf("after dry runs: %d lines; a dry run keeps none", len(got))
	}
	if st := e.Plugins(); len(st) != 1 {
		t.Errorf("Plugins() = %+v; dry runs are not listed", st)
	}
	if _, err := e.DryRun(context.Background(), httpevents.Domain{ID: "5", Script: "https://x.example/"}, []*hook.Event{ev}, nil, false); !errors.Is(err, hook.ErrInvalid) {
		t.Errorf("URL script: %v", err)
	}
}
