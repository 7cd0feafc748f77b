package runtime_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hookrt/hookd/internal/testsupport"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// domainsConfig is a config that runs per-domain scripts (loopback
// allowed, for the test's receivers) with one TOML [[domain]], "cfg1".
func domainsConfig(t testing.TB, st hookrt.StoreConfig) *hookrt.Config {
	cfg := testConfig(st)
	cfg.Dir = t.TempDir() // the plugins' module cache goes under it
	cfg.Modules[httpevents.ID] = &httpevents.Events{PerDomain: true, AllowPrivate: []string{"127.0.0.0/8"}}
	cfg.Modules[httpevents.DomainID] = &httpevents.Domains{{ID: "cfg1", Script: "http://127.0.0.1:9/cfg1?token=sesame"}}
	return cfg
}

// openDomains opens a runtime with domains as data started (Open starts
// them; StartDomains checks that, and is a no-op then).
func openDomains(t testing.TB, cfg *hookrt.Config, opts ...hookrt.Option) *hookrt.Runtime {
	t.Helper()
	rt := open(t, cfg, opts...)
	if err := hookrt.StartDomains(context.Background(), rt, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hookrt.StopDomains(context.Background(), rt) }) // before Close (cleanups run last first)
	return rt
}

// replyModule is a tiny plugin (testdata/domains/result.wat) whose
// answer, and so whose SHA-256, differs by tag (5 bytes).
func replyModule(t *testing.T, tag string) ([]byte, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/domains/result.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if len(tag) != 5 {
		t.Fatalf("tag %q must be 5 bytes", tag)
	}
	b = bytes.Replace(b, []byte("saved"), []byte(tag), 1)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// waitRunning waits until rt runs domain id as want says (ok: a target at
// all; then, when sha is not "", that plugin).
func waitRunning(t *testing.T, rt *hookrt.Runtime, id string, want bool, sha string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // a bound for a hung test, not a budget
	for {
		got, ok := hookrt.RunningDomain(rt, id)
		if ok == want && (!want || sha == "" || got == sha) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("domain %s: running %q (%v); want %v %q", id, got, ok, want, sha)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustErr(t *testing.T, err error, kind error, contains string) {
	t.Helper()
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %v; want %v containing %q", err, kind, contains)
	}
}

// TestStoredDomainLifecycle: a stored domain is judged as at start
// (unknown keys, a TOML id, a disk path refused with errors that say
// what is allowed), runs at once on the node that stored it and receives
// its events, is audited with who changed it, is seen only by the
// operator and its own token, and leaves the engine when deleted.
func TestStoredDomainLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		got := make(chan string, 10)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case got <- r.URL.Path:
			default:
			}
			_, _ = w.Write([]byte("<nomessage/>"))
		}))
		defer recv.Close()
		obs := newObservations()
		cfg := domainsConfig(t, st)
		rt := openDomains(t, cfg, hookrt.WithObserver(obs.observe))
		op := hook.Operator()

		ds, err := rt.Domains(ctx, op)
		if err != nil || len(ds) != 1 || ds[0].ID != "cfg1" || ds[0].Source != hook.DomainFromConfig {
			t.Fatalf("Domains = %+v, %v; want the TOML domain only", ds, err)
		}
		if spec := string(ds[0].Spec); strings.Contains(spec, "sesame") || !strings.Contains(spec, "127.0.0.1:9/cfg1") {
			t.Fatalf("the TOML domain is shown as %s; want its secrets redacted", spec)
		}
		_, err = rt.PutDomain(ctx, op, "cfg1", []byte(`{"script":"http://127.0.0.1:9/x"}`))
		mustErr(t, err, hook.ErrConflict, `domain "cfg1" is defined in config.toml ([[domain]]); change it there`)
		_, err = rt.PutDomain(ctx, op, "42", []byte(`{"script":"`+recv.URL+`/a","scirpt":"x"}`))
		mustErr(t, err, hook.ErrInvalid, `unknown field "scirpt"`)
		_, err = rt.PutDomain(ctx, op, "42", []byte(`{"script":"/etc/hookd/guard.wasm"}`))
		mustErr(t, err, hook.ErrInvalid, "http:// or https:// URL")
		_, err = rt.PutDomain(ctx, op, "42", []byte(`{"id":"43","script":"`+recv.URL+`/a"}`))
		mustErr(t, err, hook.ErrInvalid, `id "43" differs`)
		_, err = rt.PutDomain(ctx, op, "42", []byte(`{}`))
		mustErr(t, err, hook.ErrInvalid, "has none; upload one first")
		if _, ok := hookrt.RunningDomain(rt, "42"); ok {
			t.Fatal("a refused domain runs")
		}

		info, err := rt.PutDomain(ctx, op, "42", []byte(`{"script":"`+recv.URL+`/a","strict":true}`))
		if err != nil {
			t.Fatal(err)
		}
		if info.Source != hook.DomainFromStore || info.Revision != 1 || info.UpdatedBy != "operator" || info.Target != "http_events.domain.42" {
			t.Fatalf("PutDomain = %+v", info)
		}
		first, ok := hookrt.RunningDomain(rt, "42")
		if !ok {
			t.Fatal("the stored domain does not run on the node that stored it when PutDomain returns")
		}
		if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "42", "USERNAME": "ann"}); err != nil {
			t.Fatal(err)
		}
		if p := <-got; p != "/a" {
			t.Fatalf("delivered to %s; want /a", p)
		}
		obs.wait(t, "delivered to the stored domain", func(o []hook.Observation) bool { return count("delivered", "http_events.domain.42")(o) == 1 })

		tok, err := rt.CreateDomainToken(ctx, op, "42", "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		owner, err := rt.AuthenticateDomainToken(ctx, tok.Secret)
		if err != nil || owner.Domain != "42" || owner.TokenName != "ci" {
			t.Fatalf("AuthenticateDomainToken = %+v, %v", owner, err)
		}
		info, err = rt.PutDomain(ctx, owner, "42", []byte(`{"script":"`+recv.URL+`/b"}`))
		if err != nil || info.Revision != 2 {
			t.Fatalf("owner's PutDomain = %+v, %v", info, err)
		}
		if now, _ := hookrt.RunningDomain(rt, "42"); now == first {
			t.Fatal("the changed domain still runs its first handler")
		}
		// The owner sees its own domain only, and every other is not found.
		ds, err = rt.Domains(ctx, owner)
		if err != nil || len(ds) != 1 || ds[0].ID != "42" {
			t.Fatalf("owner's Domains = %+v, %v", ds, err)
		}
		for name, err := range map[string]error{
			"Domain(cfg1)":      second(rt.Domain(ctx, owner, "cfg1")),
			"PutDomain(43)":     second(rt.PutDomain(ctx, owner, "43", []byte(`{"script":"`+recv.URL+`"}`))),
			"DeleteDomain(42)":  rt.DeleteDomain(ctx, owner, "42"),
			"CreateToken(42)":   second(rt.CreateDomainToken(ctx, owner, "42", "x", 0)),
			"DomainTokens(42)":  second(rt.DomainTokens(ctx, owner, "42")),
			"DomainAudit(cfg1)": second(rt.DomainAudit(ctx, owner, "cfg1", 10)),
			"PluginLogs(43)":    second(rt.PluginLogs(ctx, owner, "43", 10)),
			"Summary(43)":       second(rt.DomainSummary(ctx, owner, "43")),
			"Versions(43)":      second(rt.PluginVersions(ctx, owner, "43")),
		} {
			if !errors.Is(err, hook.ErrNotFound) {
				t.Errorf("%s by domain 42's token: %v; want not found", name, err)
			}
		}
		audit, err := rt.DomainAudit(ctx, owner, "42", 10)
		if err != nil || len(audit) != 3 {
			t.Fatalf("audit = %+v, %v", audit, err)
		}
		if audit[0].Action != "domain.put" || audit[0].Actor != owner.String() || audit[1].Action != "token.create" || audit[2].Actor != "operator" {
			t.Fatalf("audit = %+v; want the owner's put, the token, the operator's put", audit)
		}
		sum, err := rt.DomainSummary(ctx, owner, "42")
		if err != nil || sum.Deliveries["delivered"] != 1 {
			t.Fatalf("summary = %+v, %v", sum, err)
		}

		// A delivery that waits (its receiver is down) is discarded with
		// the domain, not left waiting for ever.
		if _, err := rt.PutDomain(ctx, op, "42", []byte(`{"script":"http://127.0.0.1:9/down","strict":true}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "42", "USERNAME": "bob"}); err != nil {
			t.Fatal(err)
		}
		obs.wait(t, "a failed attempt", func(o []hook.Observation) bool { return count("retrying", "http_events.domain.42")(o) >= 1 })
		if err := rt.DeleteDomain(ctx, op, "42"); err != nil {
			t.Fatal(err)
		}
		if sum, err := rt.DomainSummary(ctx, op, "42"); err != nil || sum.Deliveries["discarded"] != 1 || sum.Deliveries["retrying"]+sum.Deliveries["pending"] != 0 {
			t.Fatalf("after delete: %+v, %v; want the waiting delivery discarded", sum, err)
		}
		if _, ok := hookrt.RunningDomain(rt, "42"); ok {
			t.Fatal("a deleted domain still runs")
		}
		if _, err := rt.Domain(ctx, op, "42"); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("Domain after delete: %v", err)
		}
		if _, err := rt.AuthenticateDomainToken(ctx, tok.Secret); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("the deleted domain's token still authenticates: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// TestStoredDomainsNeedPerDomain: without [http_events] per_domain a
// stored domain would receive nothing, and is refused saying so.
func TestStoredDomainsNeedPerDomain(t *testing.T) {
	cfg := testConfig(storetest.SQLite(t))
	rt := openDomains(t, cfg)
	_, err := rt.PutDomain(context.Background(), hook.Operator(), "1", []byte(`{"script":"http://127.0.0.1:9/"}`))
	mustErr(t, err, hook.ErrConflict, "no [http_events] section")
}

// TestDomainTokenLife: a token is shown once and stored as a hash; a
// wrong secret, a revoked token and an expired one authenticate nothing,
// with the same answer; [domains] token_max_ttl bounds a token's life.
func TestDomainTokenLife(t *testing.T) {
	ctx := context.Background()
	cfg := domainsConfig(t, storetest.SQLite(t))
	cfg.Domains.TokenMaxTTL = hook.Duration(time.Hour)
	rt := openDomains(t, cfg)
	op := hook.Operator()
	tok, err := rt.CreateDomainToken(ctx, op, "7", "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Secret, "hkd_dt_") || tok.ExpiresAt == nil || time.Until(*tok.ExpiresAt) > time.Hour {
		t.Fatalf("token = %+v; want a secret and the max ttl as its expiry", tok)
	}
	list, err := rt.DomainTokens(ctx, op, "7")
	if err != nil || len(list) != 1 || list[0].Secret != "" || list[0].ID != tok.ID {
		t.Fatalf("DomainTokens = %+v, %v; want the token without its secret", list, err)
	}
	b, _ := json.Marshal(list)
	if strings.Contains(string(b), tok.Secret[len(tok.Secret)-64:]) {
		t.Fatal("the listed token holds its secret")
	}
	_, err = rt.CreateDomainToken(ctx, op, "7", "long", 2*time.Hour)
	mustErr(t, err, hook.ErrInvalid, "token_max_ttl")
	_, err = rt.CreateDomainToken(ctx, op, "7", "", 0)
	mustErr(t, err, hook.ErrInvalid, "name:")

	wrong := tok.Secret[:len(tok.Secret)-1] + map[bool]string{true: "0", false: "1"}[strings.HasSuffix(tok.Secret, "1")]
	for _, bad := range []string{wrong, "hkd_dt_nothex_x", "", tok.Secret + "0"} {
		if _, err := rt.AuthenticateDomainToken(ctx, bad); !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("AuthenticateDomainToken(%q) = %v; want not found", bad, err)
		}
	}
	short, err := rt.CreateDomainToken(ctx, op, "7", "short", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.AuthenticateDomainToken(ctx, short.Secret); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := rt.AuthenticateDomainToken(ctx, short.Secret); errors.Is(err, hook.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired token still authenticates")
		}
	}
	if err := rt.RevokeDomainToken(ctx, op, "7", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.AuthenticateDomainToken(ctx, tok.Secret); !errors.Is(err, hook.ErrNotFound) {
		t.Fatalf("a revoked token: %v; want not found", err)
	}
	if err := rt.RevokeDomainToken(ctx, op, "8", short.ID); !errors.Is(err, hook.ErrNotFound) {
		t.Fatalf("revoking through another domain: %v; want not found", err)
	}
}

// TestStoredPluginVersions: a pushed plugin is checked as serve would
// (garbage and oversized modules refused, nothing stored), runs at once
// when activated, a stored-only push changes nothing, activating an older
// version rolls back, and the running version cannot be deleted.
func TestStoredPluginVersions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		cfg := domainsConfig(t, st)
		cfg.Domains.MaxPluginVersions = 3
		rt := openDomains(t, cfg)
		tok, err := rt.CreateDomainToken(ctx, hook.Operator(), "9", "owner", 0)
		if err != nil {
			t.Fatal(err)
		}
		owner, err := rt.AuthenticateDomainToken(ctx, tok.Secret)
		if err != nil {
			t.Fatal(err)
		}
		v1mod, v1sum := replyModule(t, "one..")
		v2mod, v2sum := replyModule(t, "two..")

		_, err = rt.PushPlugin(ctx, owner, "9", []byte("not wasm"), nil, true)
		mustErr(t, err, hook.ErrInvalid, "")
		_, err = rt.PushPlugin(ctx, owner, "9", v1mod, []byte(`{"plugin":{"keys":["webhook.pem"]}}`), true)
		mustErr(t, err, hook.ErrInvalid, "plugin.keys")
		_, err = rt.PushPlugin(ctx, owner, "9", v1mod, []byte(`{"plugin":{"memory_pages":4096}}`), true)
		mustErr(t, err, hook.ErrInvalid, "plugin.memory_pages: a domain token may set at most 256")
		_, err = rt.PushPlugin(ctx, owner, "9", v1mod, []byte(`{"plugin":{"memory_pagez":4}}`), true)
		mustErr(t, err, hook.ErrInvalid, "memory_pagez")
		_, err = rt.PushPlugin(ctx, owner, "10", v1mod, nil, true)
		mustErr(t, err, hook.ErrNotFound, "")
		if vs, err := rt.PluginVersions(ctx, owner, "9"); err != nil || len(vs) != 0 {
			t.Fatalf("versions after refusals = %+v, %v", vs, err)
		}

		v1, err := rt.PushPlugin(ctx, owner, "9", v1mod, []byte(`{"plugin":{"timeout":"2s"},"config":{"greeting":"hi"}}`), true)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.SHA256 != v1sum || !v1.Active || v1.CreatedBy != owner.String() {
			t.Fatalf("push = %+v", v1)
		}
		waitRunning(t, rt, "9", true, v1sum) // at once: PushPlugin applied it before returning
		info, err := rt.Domain(ctx, owner, "9")
		if err != nil || info.Plugin == nil || info.Plugin.Version != 1 {
			t.Fatalf("Domain = %+v, %v", info, err)
		}
		v2, err := rt.PushPlugin(ctx, owner, "9", v2mod, nil, false)
		if err != nil || v2.Version != 2 || v2.Active {
			t.Fatalf("stored-only push = %+v, %v", v2, err)
		}
		if got, _ := hookrt.RunningDomain(rt, "9"); got != v1sum {
			t.Fatal("a push with activate=false changed what runs")
		}
		if _, err := rt.ActivatePlugin(ctx, owner, "9", 2); err != nil {
			t.Fatal(err)
		}
		waitRunning(t, rt, "9", true, v2sum)
		if _, err := rt.ActivatePlugin(ctx, owner, "9", 1); err != nil { // rollback
			t.Fatal(err)
		}
		waitRunning(t, rt, "9", true, v1sum)
		mustErr(t, rt.DeletePluginVersion(ctx, owner, "9", 1), hook.ErrConflict, "activate another first")
		if err := rt.DeletePluginVersion(ctx, owner, "9", 2); err != nil {
			t.Fatal(err)
		}
		big := make([]byte, cfg.Domains.MaxPluginSize+1)
		_, err = rt.PushPlugin(ctx, owner, "9", big, nil, false)
		mustErr(t, err, hook.ErrInvalid, "max_plugin_size")
		for i := 0; i < 2; i++ {
			if _, err := rt.PushPlugin(ctx, owner, "9", v2mod, nil, false); err != nil {
				t.Fatal(err)
			}
		}
		_, err = rt.PushPlugin(ctx, owner, "9", v2mod, nil, false)
		mustErr(t, err, hook.ErrConflict, "max_plugin_versions = 3")

		// A URL domain that gets a plugin activated runs the plugin.
		if _, err := rt.PutDomain(ctx, hook.Operator(), "9", []byte(`{"script":"http://127.0.0.1:9/u"}`)); err != nil {
			t.Fatal(err)
		}
		if got, _ := hookrt.RunningDomain(rt, "9"); got == v1sum {
			t.Fatal("the URL script does not run after PutDomain")
		}
		if _, err := rt.ActivatePlugin(ctx, hook.Operator(), "9", 1); err != nil {
			t.Fatal(err)
		}
		waitRunning(t, rt, "9", true, v1sum)
		audit, _ := rt.DomainAudit(ctx, owner, "9", 100)
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action)
		}
		if want := "plugin.activate domain.put plugin.push plugin.push plugin.delete plugin.activate plugin.activate plugin.push plugin.push"; strings.Join(actions, " ") != want+" token.create" {
			t.Errorf("audit actions = %v", actions)
		}
	})
}

// TestDomainsOnThreeNodes: three runtimes on one PostgreSQL; a stored
// domain put on one node, and a plugin activated (then rolled back) on
// another, run on all three: at once by NOTIFY, or within the watcher's
// poll without it. The time is
// measured and logged, not asserted (a loaded 2-core machine decides it);
// the figure is 2 s.
func TestDomainsOnThreeNodes(t *testing.T) {
	for _, mode := range []string{"listen", "poll"} {
		t.Run(mode, func(t *testing.T) { threeNodes(t, mode == "poll") })
	}
}

// threeNodes is TestDomainsOnThreeNodes with the PostgreSQL listener
// (changes arrive by NOTIFY) or without it (by the poll alone).
func threeNodes(t *testing.T, pollOnly bool) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	var nodes []*hookrt.Runtime
	for i := range 3 {
		cfg := domainsConfig(t, st)
		cfg.Server.ServerID = fmt.Sprint("node-", i)
		rt := openDomains(t, cfg)
		if pollOnly {
			if err := hookrt.StartDomainsPolling(ctx, rt, cfg); err != nil {
				t.Fatal(err)
			}
		}
		nodes = append(nodes, rt)
	}
	op := hook.Operator()
	everywhere := func(what, id, sha string, from time.Time) time.Duration {
		t.Helper()
		for _, n := range nodes {
			waitRunning(t, n, id, true, sha)
		}
		d := time.Since(from)
		t.Logf("%s: running on all 3 nodes %s after the call returned", what, d.Round(time.Millisecond))
		return d
	}
	start := time.Now()
	if _, err := nodes[0].PutDomain(ctx, op, "77", []byte(`{"script":"http://127.0.0.1:9/77"}`)); err != nil {
		t.Fatal(err)
	}
	everywhere("PutDomain on node 0", "77", "", start)

	v1mod, v1sum := replyModule(t, "nodeA")
	v2mod, v2sum := replyModule(t, "nodeB")
	start = time.Now()
	if _, err := nodes[1].PushPlugin(ctx, op, "77", v1mod, nil, true); err != nil {
		t.Fatal(err)
	}
	everywhere("PushPlugin (activate) on node 1", "77", v1sum, start)
	if _, err := nodes[2].PushPlugin(ctx, op, "77", v2mod, nil, false); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := nodes[2].ActivatePlugin(ctx, op, "77", 2); err != nil {
		t.Fatal(err)
	}
	everywhere("ActivatePlugin on node 2", "77", v2sum, start)
	start = time.Now()
	if _, err := nodes[0].ActivatePlugin(ctx, op, "77", 1); err != nil {
		t.Fatal(err)
	}
	everywhere("rollback (ActivatePlugin 1) on node 0", "77", v1sum, start)
	start = time.Now()
	if err := nodes[1].DeleteDomain(ctx, op, "77"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitRunning(t, n, "77", false, "")
	}
	t.Logf("DeleteDomain on node 1: gone from all 3 nodes %s after the call returned", time.Since(start).Round(time.Millisecond))
}

// TestDomainTokenKeepsGrants: what the operator granted a domain's plugin
// (more memory, here) its owner may keep when pushing a new build, but
// not raise; without the grant the owner gets the defaults at most.
func TestDomainTokenKeepsGrants(t *testing.T) {
	ctx := context.Background()
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)))
	op := hook.Operator()
	tok, err := rt.CreateDomainToken(ctx, op, "11", "owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := rt.AuthenticateDomainToken(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := replyModule(t, "grant")
	_, err = rt.PushPlugin(ctx, owner, "11", mod, []byte(`{"plugin":{"memory_pages":1024}}`), true)
	mustErr(t, err, hook.ErrInvalid, "plugin.memory_pages: a domain token may set at most 256")
	if _, err := rt.PushPlugin(ctx, op, "11", mod, []byte(`{"plugin":{"memory_pages":1024}}`), true); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PushPlugin(ctx, owner, "11", mod, []byte(`{"plugin":{"memory_pages":1024}}`), true); err != nil {
		t.Fatalf("the owner keeping the operator's grant: %v", err)
	}
	_, err = rt.PushPlugin(ctx, owner, "11", mod, []byte(`{"plugin":{"memory_pages":2048}}`), true)
	mustErr(t, err, hook.ErrInvalid, "at most 1024")
	info, err := rt.Domain(ctx, owner, "11")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PutDomain(ctx, owner, "11", info.Spec); err != nil { // GET, PUT back
		t.Fatalf("the owner putting back what it read: %v", err)
	}
}

// TestStoredDomainBuildRetry: a node that cannot build a stored domain
// (here its module cache cannot be created) keeps what it ran, and builds
// it again, until it runs what the other nodes run.
func TestStoredDomainBuildRetry(t *testing.T) {
	hookrt.SetBuildRetry(t, 100*time.Millisecond)
	st := storetest.Postgres(t)
	ctx := context.Background()
	good := openDomains(t, domainsConfig(t, st))
	cfg := domainsConfig(t, st)
	blocker := cfg.Dir + "/data"
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o600); err != nil { // data/wasm-cache cannot be made
		t.Fatal(err)
	}
	bad := openDomains(t, cfg)
	mod, sum := replyModule(t, "retry")
	if _, err := good.PushPlugin(ctx, hook.Operator(), "12", mod, nil, true); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, good, "12", true, sum)
	// The other node tries, fails, and keeps trying: it runs nothing for
	// the domain until its cache can be made.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, ok := hookrt.RunningDomain(bad, "12"); ok {
			t.Fatal("the node without a module cache runs the plugin")
		}
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, bad, "12", true, sum)
}

// TestStoredDomainShadowedByConfig: a node whose config.toml defines a
// [[domain]] with the id of a stored domain runs the file's entry and
// lists it once; the store's entry still runs on the nodes without it.
func TestStoredDomainShadowedByConfig(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	plain := openDomains(t, domainsConfig(t, st))
	if _, err := plain.PutDomain(ctx, hook.Operator(), "sh", []byte(`{"script":"http://127.0.0.1:9/stored"}`)); err != nil {
		t.Fatal(err)
	}
	cfg := domainsConfig(t, st)
	cfg.Modules[httpevents.DomainID] = &httpevents.Domains{{ID: "sh", Script: "http://127.0.0.1:9/file"}}
	shadowed := openDomains(t, cfg)
	ds, err := shadowed.Domains(ctx, hook.Operator())
	if err != nil || len(ds) != 1 || ds[0].Source != hook.DomainFromConfig {
		t.Fatalf("Domains on the node with the [[domain]] = %+v, %v; want the file's entry once", ds, err)
	}
	_, err = shadowed.PutDomain(ctx, hook.Operator(), "sh", []byte(`{"script":"http://127.0.0.1:9/x"}`))
	mustErr(t, err, hook.ErrConflict, "defined in config.toml")
	if _, ok := hookrt.RunningDomain(shadowed, "sh"); !ok {
		t.Fatal("the file's [[domain]] does not run")
	}
	waitRunning(t, plain, "sh", true, "")
	if ds, _ := plain.Domains(ctx, hook.Operator()); len(ds) != 2 || ds[1].ID != "sh" || ds[1].Source != hook.DomainFromStore {
		t.Fatalf("Domains on the plain node = %+v; want cfg1 and the stored sh", ds)
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testsupport.LogBuffer

// TestStoredPluginNotActivated: a plugin pushed without activation to a
// domain with no record creates a domain that runs nothing, quietly (not
// a failed build retried for ever), until a version is activated.
func TestStoredPluginNotActivated(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)), hookrt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	op := hook.Operator()
	mod, sum := replyModule(t, "later")
	if _, err := rt.PushPlugin(ctx, op, "13", mod, nil, false); err != nil {
		t.Fatal(err)
	}
	// Another change makes this node sync before it returns.
	if _, err := rt.PutDomain(ctx, op, "14", []byte(`{"script":"http://127.0.0.1:9/14"}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := hookrt.RunningDomain(rt, "13"); ok {
		t.Fatal("a domain whose only version is not active runs")
	}
	if strings.Contains(logs.String(), "failed to build") {
		t.Fatalf("a domain with nothing to run was logged as a failed build:\n%s", logs.String())
	}
	if _, err := rt.ActivatePlugin(ctx, op, "13", 1); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, rt, "13", true, sum)
}
