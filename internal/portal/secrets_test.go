package portal

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// specArea finds the settings form's textarea: its first group is the
// settings as the page shows them (HTML-escaped).
var specArea = regexp.MustCompile(`(?s)<textarea name="spec"[^>]*>(.*?)</textarea>`)

// TestSettingsSecretsRoundTrip (issue 17, DESIGN §7): the settings page
// shows a stored domain's header value and signing secret as
// "<redacted>", never the secrets; saving the form as shown, with one
// value edited, keeps them (the receiver still gets the header and a
// signature by the secret); a "<redacted>" where nothing is stored is
// refused, naming the place.
func TestSettingsSecretsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Loopback allowed: the test's receiver is the domain's script.
	rt, _ := testruntime.Open(t, fmt.Sprintf("[store]\npath = \"hookd.db\"\n%s%sallow_private = [\"127.0.0.0/8\"]\n",
		testruntime.DeadAtOnce, testruntime.PerDomainEvents), testruntime.Options{})
	rcv := deliverytest.NewReceiver(t, nil)
	whsec, mac := deliverytest.Secret(t)
	const hdr = "hdr-PORTAL-S3CRET"
	spec := `{"script": "` + rcv.URL + `/alpha", "delivery": {"headers": {"X-Key": "` + hdr + `"}, "signing": "standard-webhooks", "signing_secrets": ["` + whsec + `"]}}`
	if _, err := rt.PutDomain(ctx, hook.Operator(), "alpha", []byte(spec)); err != nil {
		t.Fatal(err)
	}
	tok, err := rt.CreateDomainToken(ctx, hook.Operator(), "alpha", "owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(rt, Options{Logger: testruntime.Logger()}))
	t.Cleanup(srv.Close)
	c := &webuitest.Client{T: t, Base: srv.URL, HTTP: webuitest.NewHTTPClient()}
	csrf := c.Login("/portal", tok.Secret)

	page := c.Get("/portal/settings")
	m := specArea.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no settings form:\n%s", page.Body)
	}
	shown := html.UnescapeString(m[1])
	for _, s := range []string{hdr, whsec} {
		if strings.Contains(shown, s) {
			t.Errorf("the settings form shows the secret %q:\n%s", s, shown)
		}
	}
	if strings.Count(shown, `"<redacted>"`) != 2 || !strings.Contains(page.Body, `id="redacted-note"`) {
		t.Errorf("the settings form; want the header value and the signing secret as \"<redacted>\", and the note saying how to keep them:\n%s", shown)
	}

	for _, s := range []string{hdr, whsec} {
		if strings.Contains(page.Body, s) {
			t.Errorf("the settings page shows the secret %q (its audit table?)", s)
		}
	}
	// Saved as shown, the rate limit edited: the secrets are kept.
	var edit map[string]any
	if err := json.Unmarshal([]byte(shown), &edit); err != nil {
		t.Fatalf("the form's settings are no JSON: %v\n%s", err, shown)
	}
	edit["delivery"].(map[string]any)["rate_limit"] = 9
	body, _ := json.MarshalIndent(edit, "", "  ")
	if got := flashOf(t, c, c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {string(body)}})); !strings.Contains(got, "Settings saved") {
		t.Fatalf("saving the settings as shown: %s", got)
	}
	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	r := rcv.Wait(t, 1)[0]
	if got := r.Header.Get("X-Key"); got != hdr {
		t.Errorf("after the round trip the receiver got X-Key %q; want the stored value", got)
	}
	deliverytest.CheckSigned(t, r, mac, id)

	// A "<redacted>" with nothing stored at its place: refused by name.
	edit["delivery"].(map[string]any)["headers"].(map[string]any)["X-New"] = "<redacted>"
	body, _ = json.Marshal(edit)
	got := flashOf(t, c, c.Post("/portal/settings", url.Values{"csrf": {csrf}, "spec": {string(body)}}))
	if !strings.Contains(got, "flash-error") || !strings.Contains(got, "delivery.headers.X-New: &#34;&lt;redacted&gt;&#34; stands for the stored secret") ||
		!strings.Contains(got, "none is stored there") {
		t.Errorf("a \"<redacted>\" where nothing is stored: %s", got)
	}
}

// flashOf follows the redirect of a form's answer and returns the message
// of the page it leads to.
func flashOf(t *testing.T, c *webuitest.Client, r webuitest.Response) string {
	t.Helper()
	page := c.Follow(r)
	start := strings.Index(page.Body, `<p class="flash`)
	if start < 0 {
		t.Fatalf("no message on %s:\n%s", r.Header.Get("Location"), page.Body)
	}
	end := strings.Index(page.Body[start:], "</p>")
	return page.Body[start : start+end]
}
