package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIDomainsLive drives the domain commands against a real daemon (in
// this process, on SQLite: "the one node") as the operator and as a
// domain's owner: what TestDomainOwnersDoneWhen does not (list, get,
// delete, token list and revoke, rm, logs, summary), with the real API's
// answers and errors.
func TestCLIDomainsLive(t *testing.T) {
	t.Parallel()
	script := httptest.NewServer(&countingScript{got: map[string]int{}})
	defer script.Close()
	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen
	opTok := filepath.Join(dir, "token")
	if err := os.WriteFile(opTok, []byte("op-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
[server]
listen = %q
token_file = "token"
[store]
path = "hookd.db"
[delivery]
poll_interval = "20ms"
[http_events]
per_domain = true
allow_private = ["127.0.0.0/8"]
[[domain]]
id = "fromfile"
script = %q
`, listen, script.URL+"/file"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() { done <- run(ctx, []string{"serve", "-config", cfg}, io.Discard, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	})
	waitHealthy(t, base, nil)
	as := func(tok string, args ...string) (int, string, string) {
		return hookd(append(args, "-addr", base, "-token-file", tok)...)
	}
	must := func(tok string, args ...string) string {
		t.Helper()
		code, out, errb := as(tok, args...)
		if code != 0 {
			t.Fatalf("hookd %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errb)
		}
		return out
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// The operator: a stored domain beside the file's, shown read-only.
	out := must(opTok, "domains", "put", "shop1", write("shop1.toml", fmt.Sprintf("script = %q\nstrict = true\n", script.URL+"/shop")))
	if !strings.Contains(out, "domain:   shop1\n") || !strings.Contains(out, "source:   store\n") || !strings.Contains(out, "revision: 1, ") {
		t.Errorf("domains put:\n%s", out)
	}
	out = must(opTok, "domains", "list")
	if !regexp.MustCompile(`(?m)^fromfile +config +http_events\.domain\.fromfile +http://\S+/file +- +0 +-\nshop1 +store +http_events\.domain\.shop1 +http://\S+/shop +- +1 +\S+ by operator$`).MatchString(out) {
		t.Errorf("domains list:\n%s", out)
	}
	if code, _, errb := as(opTok, "domains", "put", "fromfile", write("ff.json", `{"script": "https://x.example/"}`)); code != 1 || !strings.Contains(errb, "409 Conflict") || !strings.Contains(errb, "config.toml") {
		t.Errorf("put over a config domain: exit %d %s", code, errb)
	}
	if code, _, errb := as(opTok, "domains", "put", "shop1", write("bad.json", `{"scrpit": "x"}`)); code != 1 || !strings.Contains(errb, "400 Bad Request") || !strings.Contains(errb, "scrpit") {
		t.Errorf("put with an unknown key: exit %d %s", code, errb)
	}

	// Tokens: created (alone on stdout), listed, used, revoked.
	tokOut := must(opTok, "domains", "token", "create", "shop1", "-name", "ci", "-ttl", "720h")
	owner := write("owner.token", tokOut)
	second := write("second.token", must(opTok, "domains", "token", "create", "shop1", "-name", "laptop"))
	out = must(opTok, "domains", "token", "list", "shop1")
	if !regexp.MustCompile(`(?m)^dt_\S+ +ci +\S+ +operator +\S+$`).MatchString(out) || !regexp.MustCompile(`(?m)^dt_\S+ +laptop +\S+ +operator +-$`).MatchString(out) {
		t.Errorf("token list:\n%s", out)
	}
	var toks struct {
		Tokens []struct{ ID, Name string }
	}
	if err := json.Unmarshal([]byte(must(opTok, "domains", "token", "list", "shop1", "-json")), &toks); err != nil || len(toks.Tokens) != 2 {
		t.Fatalf("token list -json: %v %+v", err, toks)
	}
	if code, _, errb := as(owner, "domains", "token", "list", "shop1"); code != 1 || !strings.Contains(errb, "404 Not Found") {
		t.Errorf("an owner listing tokens: exit %d %s", code, errb)
	}

	// The owner: its domain only; a plugin pushed, kept, removed.
	if out := must(owner, "domains", "list"); strings.Contains(out, "fromfile") || !strings.Contains(out, "shop1") {
		t.Errorf("the owner's domains list:\n%s", out)
	}
	if code, _, errb := as(owner, "domains", "get", "fromfile"); code != 1 || !strings.Contains(errb, "404 Not Found") {
		t.Errorf("the owner getting another domain: exit %d %s", code, errb)
	}
	wasm := wasmFixture(t, "ok")
	out = must(owner, "plugin", "push", "-domain", "shop1", wasm, "-activate=false")
	if !strings.Contains(out, "domain shop1: plugin version 1 ") || !strings.Contains(out, "stored, not active (hookd plugin activate -domain shop1 1)") {
		t.Errorf("plugin push -activate=false: %q", out)
	}
	if code, _, errb := as(owner, "plugin", "push", "-domain", "shop1", write("junk.wasm", "not wasm")); code != 1 || !strings.Contains(errb, "400 Bad Request") {
		t.Errorf("push of a file that is no module: exit %d %s", code, errb)
	}
	must(owner, "plugin", "push", "-domain", "shop1", wasm)
	out = must(owner, "plugin", "versions", "-domain", "shop1")
	if !regexp.MustCompile(`(?m)^2 +\* +[0-9a-f]{12} +\d+ +\S+ +domain "shop1" token "ci"`).MatchString(out) || !regexp.MustCompile(`(?m)^1 +- `).MatchString(out) {
		t.Errorf("plugin versions:\n%s", out)
	}
	if code, _, errb := as(owner, "plugin", "rm", "-domain", "shop1", "2"); code != 1 || !strings.Contains(errb, "409 Conflict") {
		t.Errorf("rm of the active version: exit %d %s", code, errb)
	}
	if out := must(owner, "plugin", "rm", "-domain", "shop1", "1"); out != "domain shop1: plugin version 1 deleted\n" {
		t.Errorf("plugin rm: %q", out)
	}
	if out := must(owner, "domains", "get", "shop1"); !strings.Contains(out, "plugin:   version 2, ") {
		t.Errorf("domains get after the push:\n%s", out)
	}
	if out := must(owner, "domains", "summary", "shop1"); !strings.Contains(out, "domain:       shop1 (target http_events.domain.shop1)\n") {
		t.Errorf("domains summary:\n%s", out)
	}
	must(owner, "domains", "logs", "shop1", "-limit", "10") // no lines yet: "no plugin log lines" or a table
	out = must(owner, "domains", "audit", "shop1", "-limit", "50")
	for _, want := range []string{"operator", `domain "shop1" token "ci"`} {
		if !strings.Contains(out, want) {
			t.Errorf("domains audit: no %q in\n%s", want, out)
		}
	}
	if code, _, errb := as(owner, "domains", "delete", "shop1"); code != 1 || !strings.Contains(errb, "404 Not Found") {
		t.Errorf("an owner deleting its domain: exit %d %s", code, errb)
	}

	// Revoked: the second token is refused from then on.
	for _, tk := range toks.Tokens {
		if tk.Name == "laptop" {
			if out := must(opTok, "domains", "token", "revoke", "shop1", tk.ID); out != "domain shop1: token "+tk.ID+" revoked\n" {
				t.Errorf("token revoke: %q", out)
			}
		}
	}
	if code, _, errb := as(second, "domains", "get", "shop1"); code != 1 || !strings.Contains(errb, "401 Unauthorized") {
		t.Errorf("a revoked token: exit %d %s", code, errb)
	}

	// The operator deletes the domain.
	if out := must(opTok, "domains", "delete", "shop1"); out != "domain shop1: deleted\n" {
		t.Errorf("domains delete: %q", out)
	}
	if code, _, errb := as(opTok, "domains", "get", "shop1"); code != 1 || !strings.Contains(errb, "404 Not Found") {
		t.Errorf("a deleted domain: exit %d %s", code, errb)
	}
}
