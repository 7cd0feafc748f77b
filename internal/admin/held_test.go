package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/admin"
	"github.com/hookrt/hookd/internal/engine"
)

// TestHeldShown: the deliveries page and a delivery's page show why a
// delivery is held, and the targets page how a breaker last changed, in
// the backend's words.
func TestHeldShown(t *testing.T) {
	t.Parallel()
	fb := newFake()
	id := fb.deliveries[0].ID
	fb.deliveries[0].Held = "held: breaker open until 05:38:04 UTC"
	fb.targets[0].BreakerChange = "opened 05:37:34 UTC: HTTP 500: database is down (open until 05:38:04 UTC)"
	fb.detail[id] = &fb.deliveries[0]
	c := setup(t, fb, admin.Options{Token: testToken})
	c.login(testToken)
	row := regexp.MustCompile(fmt.Sprintf(`(?s)<tr data-id="%d".*?</tr>`, id)).FindString(c.get("/admin/").body)
	if !strings.Contains(row, `<div class="why held">held: breaker open until 05:38:04 UTC</div>`) {
		t.Errorf("the deliveries page's row:\n%s", row)
	}
	if page := c.get(fmt.Sprintf("/admin/deliveries/%d", id)).body; !strings.Contains(page, `<div class="why held" id="held">held: breaker open until 05:38:04 UTC</div>`) {
		t.Errorf("the delivery's page:\n%s", page)
	}
	if page := c.get("/admin/targets").body; !strings.Contains(page, `<div class="why breaker-change">opened 05:37:34 UTC: HTTP 500: database is down (open until 05:38:04 UTC)</div>`) {
		t.Errorf("the targets page:\n%s", page)
	}
}

// TestReplayConfirm: a replay refused because of its target's state
// answers a page that names the state and replays nothing; its button
// replays anyway (force), back where the operator was.
func TestReplayConfirm(t *testing.T) {
	t.Parallel()
	fb := newFake()
	fb.refused = fmt.Errorf("target jwt_webhook is disabled by operator (receiver retired): its replayed deliveries would go straight back to dead; enable it first, or force the replay: %w", engine.ErrReplayRefused)
	c := setup(t, fb, admin.Options{Token: testToken})
	csrf := c.login(testToken)
	for _, tc := range []struct {
		path  string
		form  url.Values
		force string
	}{
		{"/admin/deliveries/replay", url.Values{"state": {"dead"}, "target": {"jwt_webhook"}, "back": {"/admin/dead"}},
			"replay -force state=dead target=jwt_webhook"},
		{"/admin/deliveries/3/retry", url.Values{"back": {"/admin/?state=retrying"}}, "retry -force 3"},
	} {
		tc.form.Set("csrf", csrf)
		r := c.post(tc.path, tc.form)
		if r.status != http.StatusOK || !strings.Contains(r.body, "target jwt_webhook is disabled by operator (receiver retired)") ||
			!strings.Contains(r.body, "Replay anyway") {
			t.Fatalf("%s refused: %d\n%s", tc.path, r.status, r.body)
		}
		if calls := fb.Calls(); len(calls) != 0 {
			t.Errorf("%s: calls %q before the confirmation", tc.path, calls)
		}
		form := regexp.MustCompile(`(?s)<form method="post" action="([^"]+)" class="buttons" id="confirm">(.*?)</form>`).FindStringSubmatch(r.body)
		if form == nil || form[1] != tc.path {
			t.Fatalf("no confirm form posting to %s:\n%s", tc.path, r.body)
		}
		again := url.Values{}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(form[2], -1) {
			again.Add(m[1], m[2])
		}
		r = c.post(tc.path, again)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.form.Get("back") {
			t.Errorf("%s confirmed: %d to %q, want 303 to %q", tc.path, r.status, r.header.Get("Location"), tc.form.Get("back"))
		}
		if calls := strings.Join(fb.Calls(), "; "); calls != tc.force {
			t.Errorf("calls %q, want %q", calls, tc.force)
		}
		fb.mu.Lock()
		fb.calls = nil
		fb.mu.Unlock()
	}
}
