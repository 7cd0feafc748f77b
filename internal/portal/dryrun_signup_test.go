package portal

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// TestDryRunSignupsForm: the portal's dry-run form takes sign-ups; the
// signup-guard example, uploaded for the test (not stored), decides each
// and the result page's table says what (allowed, refused with the
// plugin's reason, and refused past its bound: its count lives in memory
// for the run), with its log in the row's details. With sign-ups alone
// no recorded event is run (the domain has none), and sign-ups that are
// not an array of sign-ups, or carry a password, are refused by name.
func TestDryRunSignupsForm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs a runtime; -short skips it")
	}
	t.Parallel()
	guard, err := os.ReadFile(plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/signup-guard"))
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := testruntime.Open(t, fmt.Sprintf("[store]\npath = \"hookd.db\"\n%s[plugins]\ncache_dir = %q\n",
		testruntime.PerDomainEvents, plugintest.CacheDir(t)), testruntime.Options{})
	tok, err := rt.CreateDomainToken(t.Context(), hook.Operator(), "gamma", "gamma-owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(rt, Options{}))
	t.Cleanup(srv.Close)
	c := &webuitest.Client{T: t, Base: srv.URL, HTTP: webuitest.NewHTTPClient()}
	csrf := c.Login("/portal", tok.Secret)

	if page := c.Get("/portal/plugin"); !strings.Contains(page.Body, `<textarea name="signups"`) {
		t.Errorf("the plugin page's dry-run form has no sign-ups box:\n%s", page.Body)
	}
	settings := `{"plugin":{"state":true},"config":{"allow":["acme.example"],"max":1}}`
	signups := `[{"username":"ann","email":"ann@acme.example","fullname":"Ann Ång"},{"username":"eve","email":"eve@elsewhere.example"},` +
		`{"username":"bob","email":"bob@acme.example"}]`
	r := c.Upload("/portal/plugin/test", url.Values{"csrf": {csrf}, "settings": {settings}, "signups": {signups}}, guard)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "on 0 events and 3 sign-ups") || strings.Contains(r.Body, `class="event result"`) {
		t.Fatalf("dry run of sign-ups: %d\n%s", r.Status, r.Body)
	}
	rows := regexp.MustCompile(`(?s)<tr class="signup result" data-decision="(\w+)">.*?</tr>`).FindAllStringSubmatch(r.Body, -1)
	if len(rows) != 3 || rows[0][1] != "allow" || rows[1][1] != "refuse" || rows[2][1] != "refuse" {
		t.Fatalf("sign-up rows %q", rows)
	}
	if !strings.Contains(rows[0][0], "Ann Ång") || !strings.Contains(rows[1][0], "Sign-ups to this domain are open to addresses at acme.example only.") ||
		!strings.Contains(rows[2][0], "This domain takes no more sign-ups (its limit is 1).") {
		t.Errorf("the rows do not say who and why:\n%s", rows)
	}
	if !strings.Contains(r.Body, `signup-guard: allowed &#34;ann&#34;, sign-up 1`) {
		t.Errorf("ann's log line is not on the page:\n%s", r.Body)
	}
	if vs, _ := rt.PluginVersions(t.Context(), hook.Operator(), "gamma"); len(vs) != 0 {
		t.Errorf("the dry run stored %d versions", len(vs))
	}

	for _, c2 := range []struct{ signups, want string }{
		{`{"username":"ann"}`, "signups: must be a JSON array of sign-ups"},
		{`[{"username":"ann","password":"hunter2"}]`, `unknown field &#34;password&#34;`},
		{`[{"email":"ann@acme.example"}]`, "signups[0].username: empty"},
	} {
		r := c.Upload("/portal/plugin/test", url.Values{"csrf": {csrf}, "settings": {settings}, "signups": {c2.signups}}, guard)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, c2.want) {
			t.Errorf("signups %s: %d, want 400 saying %q:\n%s", c2.signups, r.Status, c2.want, r.Body)
		}
	}
}
