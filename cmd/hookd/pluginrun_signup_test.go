package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
)

// TestPluginRunSignup: `hookd plugin run FILE.wasm -signup SIGNUP.json`
// asks the signup-guard example's on_signup about one sign-up, with the
// [[domain]] settings of -config (its allow-list, state on), and prints
// the decision and the plugin's reason; a plugin that cannot decide (no
// allow-list without -config) is exit 1; -event and -signup together, or
// a sign-up with a password, are usage errors.
func TestPluginRunSignup(t *testing.T) {
	t.Parallel()
	guard := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/signup-guard")
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cfg := write("config.toml", fmt.Sprintf(`
[store]
path = "hookd.db"
[http_events]
per_domain = true
[[domain]]
id = "acme"
script = %q
[domain.plugin]
timeout = "1m"
state = true
[domain.config]
allow = ["acme.example"]
`, guard))
	ann := write("ann.json", `{"username": "ann", "email": "ann@acme.example"}`)
	eve := write("eve.json", `{"username": "eve", "email": "eve@elsewhere.example"}`)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-signup", ann, "-config", cfg}, 0, "signup:   ann <ann@acme.example> to acme\ndecision: allow\n"},
		{[]string{"-signup", eve, "-config", cfg}, 0, "decision: refuse\nreason:   Sign-ups to this domain are open to addresses at acme.example only.\n"},
		{[]string{"-signup", ann}, 1, "decision: error\n"},
		{[]string{"-signup", ann, "-event", ann}, 2, "-event and -signup: give one"},
		{[]string{"-signup", write("pw.json", `{"username": "ann", "password": "x"}`)}, 2, `unknown field "password"`},
	} {
		var out, errb bytes.Buffer
		args := append([]string{"plugin", "run", guard}, tc.args...)
		code := run(context.Background(), args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("hookd %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(args, " "), code, out.String(), errb.String(), tc.code, tc.want)
		}
	}
}

// TestPluginRunSignupLanguage: plugin run -signup asks the plugin in the
// language the daemon would (webapi.Service.SignupLanguage): "de-AT" as
// "de", none as -config's [webapi] language, or the default without one.
// The SDK's sign-up guest refuses "echo" with the fields it read.
func TestPluginRunSignupLanguage(t *testing.T) {
	t.Parallel()
	guest := plugintest.Build(t, "github.com/hookrt/hookd/plugins/pdk/internal/signupguest")
	dir := t.TempDir()
	write := fileWriter(t, dir)
	cfg := write("config.toml", fmt.Sprintf(`
[store]
path = "hookd.db"
[webapi]
url = "http://127.0.0.1:9/api"
language = "fr"
[http_events]
per_domain = true
[[domain]]
id = "acme"
script = %q
[domain.plugin]
timeout = "1m"
`, guest))
	for _, tc := range []struct {
		signup string
		args   []string
		want   string
	}{
		{`{"username": "echo", "language": "de-AT"}`, []string{"-config", cfg}, "language=de;"},
		{`{"username": "echo"}`, []string{"-config", cfg}, "language=fr;"},
		{`{"username": "echo"}`, nil, "language=en;"},
	} {
		args := append([]string{"plugin", "run", guest, "-signup", write("s.json", tc.signup)}, tc.args...)
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		if code != 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("hookd %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), code, out.String(), errb.String(), tc.want)
		}
	}
}
