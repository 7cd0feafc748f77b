package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// TestOwnerFlow is the portal's plugin and settings forms over a real
// runtime, without a browser: what each refusal says, a dry run on the
// domain's recorded events, the active version kept from deletion, the
// settings saved and audited, and a revoked token ending the session.
func TestOwnerFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs a runtime; -short skips it")
	}
	t.Parallel()
	e := newEnv(t)
	c := e.client()
	csrf := c.Login("/portal", e.tokA)
	flash := func(r webuitest.Response) string {
		t.Helper()
		page := c.Follow(r)
		start := strings.Index(page.Body, `<p class="flash`)
		if start < 0 {
			t.Fatalf("no message on %s:\n%s", r.Header.Get("Location"), page.Body)
		}
		end := strings.Index(page.Body[start:], "</p>")
		return page.Body[start : start+end]
	}

	// Refusals name what was wrong.
	if got := flash(c.Upload("/portal/plugin/upload", url.Values{"csrf": {csrf}}, []byte("\x00asm but not really"))); !strings.Contains(got, "flash-error") ||
		!strings.Contains(got, "upload refused") {
		t.Errorf("a module that is no WebAssembly: %s", got)
	}
	if got := flash(c.Upload("/portal/plugin/upload", url.Values{"csrf": {csrf}, "settings": {`{"plugin": {`}}, e.guard)); !strings.Contains(got, "settings is not valid JSON") {
		t.Errorf("settings that are no JSON: %s", got)
	}
	if got := flash(c.Upload("/portal/plugin/upload", url.Values{"csrf": {csrf}, "settings": {`{"plugin":{"allow_private":["10.0.0.0/8"]}}`}}, e.guard)); !strings.Contains(got, "only by the operator") {
		t.Errorf("a grant only the operator may give: %s", got)
	}
	if got := flash(c.Upload("/portal/plugin/upload", url.Values{"csrf": {csrf}}, nil)); !strings.Contains(got, "choose a .wasm file") {
		t.Errorf("no file: %s", got)
	}

	// Version 1, active; events recorded for alpha.
	settings := `{"config":{"block":["10.0.0.0/8"],"secret":"s3"}}`
	if got := flash(c.Upload("/portal/plugin/upload", url.Values{"csrf": {csrf}, "settings": {settings}, "activate": {"1"}}, e.guard)); !strings.Contains(got, "Version 1 stored and active") {
		t.Fatalf("upload: %s", got)
	}
	var ids []string
	for _, addr := range []string{"10.9.9.9", "192.0.2.44"} {
		id, err := e.rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "alpha",
			"SESSIONID": "flow-" + addr, "reasonAddress": addr})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	e.obs.Wait(t, "alpha's deliveries", func(obs []hook.Observation) bool {
		return countEvents(obs, ids, hook.StateDelivered) == 2
	})

	// A dry run of an upload on the last 5 recorded events: both, with
	// the drop for the blocked address; nothing new is stored.
	r := c.Upload("/portal/plugin/test", url.Values{"csrf": {csrf}, "settings": {settings}, "last": {"5"}}, e.guard)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "the uploaded file") || strings.Count(r.Body, `class="event result"`) != 2 ||
		!strings.Contains(r.Body, "flow-10.9.9.9") || !strings.Contains(r.Body, "&lt;drop/&gt;") {
		t.Errorf("dry run on recorded events: %d\n%s", r.Status, r.Body)
	}
	if vs, _ := e.rt.PluginVersions(t.Context(), hook.Operator(), "alpha"); len(vs) != 1 {
		t.Errorf("the dry run stored a version: %d versions", len(vs))
	}
	if r := c.Upload("/portal/plugin/test", url.Values{"csrf": {csrf}, "version": {"1"}, "last": {"500"}}, nil); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Body, "from 1 to 50") {
		t.Errorf("last 500: %d\n%s", r.Status, r.Body)
	}
	if r := c.Upload("/portal/plugin/test", url.Values{"csrf": {csrf}, "version": {"1"}, "events": {`{"EVENT":"x"}`}}, nil); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Body, "must be a JSON array") {
		t.Errorf("events that are no array: %d\n%s", r.Status, r.Body)
	}

	// The active version cannot be deleted.
	if got := flash(c.Post("/portal/plugin/versions/1/delete", url.Values{"csrf": {csrf}})); !strings.Contains(got, "flash-error") {
		t.Errorf("deleting the active version: %s", got)
	}

	// Settings: a bad key is refused by name; a good change is saved and
	// audited with who made it.
	if got := flash(c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {`{"strikt": true}`}})); !strings.Contains(got, "strikt") {
		t.Errorf("an unknown key: %s", got)
	}
	if got := flash(c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {`{"strict": false, "combine_interval": "2s"}`}})); !strings.Contains(got, "Settings saved") {
		t.Fatalf("saving settings: %s", got)
	}
	page := c.Get("/portal/settings")
	if !strings.Contains(page.Body, "combine_interval") || !strings.Contains(page.Body, `token &#34;alpha-owner&#34;`) {
		t.Errorf("the settings page after saving:\n%s", page.Body)
	}

	// Delivery settings of a script: a file is the operator's to name;
	// literal ones are saved, and the page shows them as the domain's
	// target applies them (once the runtime has applied the revision).
	if got := flash(c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {`{"script": "https://alpha.example/events", "delivery": {"headers": {"Authorization": {"file": "hook.token"}}}}`}})); !strings.Contains(got, "flash-error") ||
		!strings.Contains(got, "may not name files") {
		t.Errorf("a header from a file, by a domain token: %s", got)
	}
	if got := flash(c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {`{"script": "https://alpha.example/events", "delivery": {"headers": {"X-Tenant": "alpha"}, "rate_limit": 5}}`}})); !strings.Contains(got, "Settings saved") {
		t.Fatalf("saving delivery settings: %s", got)
	}
	for tick := time.NewTicker(20 * time.Millisecond); ; {
		page = c.Get("/portal/settings")
		if strings.Contains(page.Body, `<span class="mono">X-Tenant</span>`) && strings.Contains(page.Body, "<dt>Rate limit</dt><dd>5/s") {
			tick.Stop()
			break
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatalf("the settings page never showed the saved delivery settings:\n%s", page.Body)
		}
	}

	// Revoking the token ends the session at the next request.
	who, err := e.rt.AuthenticateDomainToken(t.Context(), e.tokA)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rt.RevokeDomainToken(t.Context(), hook.Operator(), "alpha", who.TokenID); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/portal/"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/portal/login" {
		t.Errorf("after the token was revoked: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := c.Post("/portal/login", url.Values{"token": {e.tokA}}); r.Status != http.StatusUnauthorized {
		t.Errorf("logging in with the revoked token: %d", r.Status)
	}
}
