package admin_test

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/webui/browsertest"
)

// envScreenshots is the directory the Domains pages' screenshots go to,
// the variable of cmd/hookd's TestAdminBrowser: with
// HOOKD_ADMIN_SCREENSHOTS=docs/admin both tests write docs/admin/*.png
// (domains.png, domain.png, token.png come from this one). CI leaves it
// unset, so the tests write nothing into the tree.
const envScreenshots = "HOOKD_ADMIN_SCREENSHOTS"

// TestDomainsBrowser drives the Domains pages in Chromium as an operator
// would: log in, find the stored domain in the list, make a token for its
// owner on its page (shown once), log in to the portal with that token
// in the same browser, revoke the token on the admin page, and see the
// portal ask for a token again at the owner's next page. The pages raise
// no console problem (a CSP violation would be one).
func TestDomainsBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium; -short skips it")
	}
	exe := browsertest.Chromium(t, "the admin page's Domains pages")
	e := newDomainsEnv(t)
	// Alpha's owner has uploaded two versions of a plugin, the first
	// active, so that its page has versions and a trail to show.
	guard, err := os.ReadFile(plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/session-guard"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, op := t.Context(), hook.Operator()
	// A plugin makes its own requests: alpha's delivery headers go first.
	if _, err := e.rt.PutDomain(ctx, op, "alpha", []byte(`{"script":"http://127.0.0.1:9/alpha","strict":true,"delivery":{"rate_limit":50,"ordered_by":"SESSIONID"}}`)); err != nil {
		t.Fatal(err)
	}
	settings := []byte(`{"config":{"block":["10.0.0.0/8"],"secret":"` + alphaSecret + `"}}`)
	if _, err := e.rt.PushPlugin(ctx, op, "alpha", guard, settings, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.PushPlugin(ctx, op, "alpha", guard, []byte(`{"config":{"block":["192.0.2.0/24"],"secret":"`+alphaSecret+`"}}`), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.CreateDomainToken(ctx, op, "alpha", "ci", 0); err != nil {
		t.Fatal(err)
	}

	base := e.srv.URL
	b := browsertest.New(t, exe, base, browsertest.Options{Screenshots: os.Getenv(envScreenshots)})
	b.Open("/admin/", "form.login")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), testToken))
	b.Submit("form.login button", "#deliveries")

	// The list, from the menu.
	b.Submit(`nav a[href="/admin/domains"]`, `#domains tr[data-domain="alpha"]`)
	if got := b.Text(`#domains tr[data-domain="alpha"]`); !strings.Contains(got, "store") || !strings.Contains(got, "version 1") ||
		!strings.Contains(got, "http_events.domain.alpha") {
		t.Errorf("alpha's row: %q", got)
	}
	if got := b.Text(`#domains tr[data-domain="cfg"]`); !strings.Contains(got, "config file") {
		t.Errorf("cfg's row: %q", got)
	}
	b.Shot("domains")

	// A token for alpha's owner: name and TTL, shown once.
	b.Submit(`#domains tr[data-domain="alpha"] a`, "#new-token")
	b.Do(chromedp.SendKeys(chromedp.CSS(`#new-token input[name="name"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#new-token input[name="ttl"]`), "720h"))
	b.Submit("#new-token button", "#secret")
	secret := strings.TrimSpace(b.Text("#secret"))
	if !tokenRE.MatchString(secret) {
		t.Fatalf("the new token's page shows %q", secret)
	}
	b.Shot("token")
	b.Submit("#back", "#tokens")
	if strings.Contains(b.Text("main"), secret) {
		t.Error("the domain's page shows the token again")
	}
	row := `#tokens tbody tr[data-token]`
	if n := b.Count(row); n != 2 {
		t.Errorf("%d tokens listed; want ci and alice", n)
	}
	if got := b.Text("#spec"); strings.Contains(got, alphaSecret) {
		t.Errorf("the spec shows the plugin config's secret:\n%s", got)
	}
	b.Shot("domain")

	// The owner logs in to the portal with it (the same browser: the
	// cookies are scoped to /admin/ and /portal/).
	b.Open("/portal/", "form.login")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), secret))
	b.Submit("form.login button", "#deliveries")
	if got := b.Text("#who"); !strings.Contains(got, "alpha") {
		t.Fatalf("the portal's header names %q; want domain alpha", got)
	}
	b.Open("/portal/settings", "#domain")

	// Revoked on the admin page: the portal's next page asks for a token.
	b.Open("/admin/domains/alpha", `#tokens button[aria-label="Revoke token alice"]`)
	b.Submit(`#tokens button[aria-label="Revoke token alice"]`, ".flash")
	if got := b.Text(".flash"); !strings.HasPrefix(got, "Token alice (dt_") || !strings.Contains(got, "of domain alpha is revoked") {
		t.Errorf("after the revoke the page says %q", got)
	}
	if n := b.Count(`#tokens button[aria-label="Revoke token alice"]`); n != 0 {
		t.Error("alice's token is still listed")
	}
	b.Open("/portal/settings", "form.login")
	if loc := b.Location(); loc != base+"/portal/login" {
		t.Errorf("the owner's next portal page is %s; want the login form", loc)
	}

	for _, m := range b.Problems() {
		t.Errorf("console: %s", m)
	}
}
