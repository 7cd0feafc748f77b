package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// TestPluginTestSignups: `hookd plugin test -signups FILE` asks a
// candidate's on_signup on a running hookd (one process, SQLite) about
// each sign-up of the file, with the signup-guard example uploaded for
// the test: allowed, refused with its reason, and a guard without its
// config that cannot decide (exit 1); with sign-ups alone no event runs
// (the domain has none recorded); a sign-up file with a password is
// refused before anything is sent (exit 2).
func TestPluginTestSignups(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "a hookd process and a plugin built")
	guard := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/signup-guard")
	dir := t.TempDir()
	write := fileWriter(t, dir)
	token := write("token", "op-s3cret\n")
	listen := freeAddr(t)
	cfg := write("config.toml", fmt.Sprintf(`
[server]
listen = %q
token_file = "token"
[store]
path = "data/hookd.db"
[http_events]
per_domain = true
[plugins]
cache_dir = %q
`, listen, plugintest.CacheDir(t)))
	d := startDaemon(t, cfg)
	base := "http://" + listen
	waitHealthy(t, base, d.exited)

	signups := write("signups.json", `[{"username": "ann", "email": "ann@acme.example", "language": "de"},
		{"username": "eve", "email": "eve@elsewhere.example"}]`)
	settings := write("settings.json", `{"plugin": {"timeout": "1m", "state": true}, "config": {"allow": ["acme.example"]}}`)
	cli := []string{"plugin", "test", "-addr", base, "-token-file", token, "-domain", "7", "-module", guard, "-signups", signups}
	out, _ := mustHookd(t, append(cli, "-settings", settings)...)
	for _, want := range []string{
		"signup:   ann <ann@acme.example> to 7\ndecision: allow\n",
		"signup:   eve <eve@elsewhere.example> to 7\ndecision: refuse\nreason:   Sign-ups to this domain are open to addresses at acme.example only.\n",
		`log:      info signup-guard: allowed "ann", sign-up 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plugin test -signups: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "event:") {
		t.Errorf("sign-ups alone ran events:\n%s", out)
	}
	if out, _ := mustHookd(t, append(cli, "-settings", settings, "-json")...); !strings.Contains(out, `"decision":"refuse"`) {
		t.Errorf("plugin test -signups -json:\n%s", out)
	}

	noConfig := write("noconfig.json", `{"plugin": {"timeout": "1m", "state": true}}`)
	code, out, errb := hookd(append(cli, "-settings", noConfig)...)
	if code != 1 || !strings.Contains(out, "decision: error\n") || !strings.Contains(errb, "2 of 2 sign-ups could not be decided") {
		t.Errorf("a guard without its config: exit %d\n%s\n%s", code, out, errb)
	}
	password := write("password.json", `{"username": "ann", "password": "hunter2"}`)
	code, _, errb = hookd("plugin", "test", "-addr", base, "-token-file", token, "-domain", "7", "-module", guard, "-signups", password)
	if code != 2 || !strings.Contains(errb, `unknown field "password"`) {
		t.Errorf("a sign-up with a password: exit %d %s", code, errb)
	}
}
