package admin_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/admin"
)

// TestActions: every action calls the backend with what the form says,
// redirects back where it came from, and the next page tells the outcome.
func TestActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		path       string
		form       url.Values
		call       string
		location   string
		flash      string
		flashError bool
	}{
		{"retry", "/admin/deliveries/3/retry", url.Values{"back": {"/admin/dead?target=jwt_webhook"}}, "retry 3",
			"/admin/dead?target=jwt_webhook", "Delivery 3 is queued for another attempt.", false},
		{"retry without back", "/admin/deliveries/3/retry", nil, "retry 3", "/admin/deliveries/3", "Delivery 3 is queued", false},
		{"discard", "/admin/deliveries/2/discard", url.Values{"back": {"/admin/?state=retrying"}}, "discard 2",
			"/admin/?state=retrying", "Delivery 2 is discarded.", false},
		{"bulk replay", "/admin/deliveries/replay", url.Values{"state": {"discarded"}, "target": {"jwt_webhook"},
			"since": {"2026-11-29T09:00:00Z"}, "back": {"/admin/"}},
			"replay state=discarded target=jwt_webhook since=2026-11-29T09:00:00Z", "/admin/",
			"Replayed 3 deliveries discarded for jwt_webhook since 2026-11-29 09:00:00.", false},
		{"bulk replay defaults to dead", "/admin/deliveries/replay", url.Values{}, "replay state=dead target= since=",
			"/admin/dead", "Replayed 3 deliveries dead.", false},
		{"bulk replay of delivered ones", "/admin/deliveries/replay", url.Values{"state": {"delivered"}}, "",
			"/admin/dead", "a replay takes dead, discarded or retrying deliveries", true},
		{"bulk replay bad since", "/admin/deliveries/replay", url.Values{"since": {"soon"}}, "",
			"/admin/dead", `since &#34;soon&#34;: must be a duration`, true},
		{"disable", "/admin/targets/action", url.Values{"name": {"jwt_webhook"}, "action": {"disable"}, "reason": {" receiver migrating "}},
			"disable jwt_webhook: receiver migrating", "/admin/targets", "Target jwt_webhook is disabled.", false},
		{"disable without reason", "/admin/targets/action", url.Values{"name": {"jwt_webhook"}, "action": {"disable"}},
			"disable jwt_webhook: disabled by an operator", "/admin/targets", "Target jwt_webhook is disabled.", false},
		{"pause", "/admin/targets/action", url.Values{"name": {"jwt_webhook"}, "action": {"pause"}, "reason": {"window"}},
			"pause jwt_webhook: window", "/admin/targets", "Target jwt_webhook is paused.", false},
		{"enable", "/admin/targets/action", url.Values{"name": {"http_events.domain.5"}, "action": {"enable"}},
			"enable http_events.domain.5", "/admin/targets", "Target http_events.domain.5 is enabled.", false},
		{"resume", "/admin/targets/action", url.Values{"name": {"http_events.global"}, "action": {"resume"}},
			"resume http_events.global", "/admin/targets", "Target http_events.global is resumed.", false},
		{"reason too long", "/admin/targets/action", url.Values{"name": {"jwt_webhook"}, "action": {"pause"},
			"reason": {strings.Repeat("r", 501)}}, "", "/admin/targets", "at most 500 are kept. Nothing changed.", true},
		{"reload", "/admin/plugins/reload", nil, "reload", "/admin/plugins", "Plugins reloaded.", false},
		{"back elsewhere is ignored", "/admin/deliveries/3/retry", url.Values{"back": {"https://evil.example/"}}, "retry 3",
			"/admin/deliveries/3", "Delivery 3 is queued", false},
		{"back to another host is ignored", "/admin/deliveries/3/retry", url.Values{"back": {"/admin//evil.example"}}, "retry 3",
			"/admin/deliveries/3", "Delivery 3 is queued", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fb := newFake()
			c := setup(t, fb, admin.Options{Token: testToken})
			form := url.Values{"csrf": {c.login(testToken)}}
			for k, v := range tc.form {
				form[k] = v
			}
			r := c.post(tc.path, form)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != tc.location {
				t.Fatalf("%d to %q, want 303 to %q:\n%s", r.status, r.header.Get("Location"), tc.location, r.body)
			}
			calls := strings.Join(fb.Calls(), "; ")
			if calls != tc.call {
				t.Errorf("calls %q, want %q", calls, tc.call)
			}
			page := c.follow(r)
			class := `class="flash"`
			if tc.flashError {
				class = `class="flash flash-error"`
			}
			if !strings.Contains(page.body, class) || !strings.Contains(page.body, tc.flash) {
				t.Errorf("the next page lacks the %s message %q:\n%s", class, tc.flash, page.body)
			}
			if again := c.get(tc.location).body; strings.Contains(again, tc.flash) {
				t.Errorf("the message is shown twice")
			}
		})
	}
}

// TestActionErrors: what the backend refuses is said on the page the
// action came from; an unexpected error is a logged 500 page that does
// not show its text.
func TestActionErrors(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	fb := newFake()
	c := setup(t, fb, admin.Options{Token: testToken, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	csrf := c.login(testToken)

	fb.actErr = fmt.Errorf("delivery 1 is delivered: %w", hook.ErrConflict)
	r := c.post("/admin/deliveries/1/retry", url.Values{"csrf": {csrf}, "back": {"/admin/deliveries/1"}})
	if page := c.follow(r); !strings.Contains(page.body, `class="flash flash-error"`) || !strings.Contains(page.body, "delivery 1 is delivered") {
		t.Errorf("a conflict:\n%s", page.body)
	}
	fb.actErr = fmt.Errorf("target %q: %w", "nope", hook.ErrNotFound)
	r = c.post("/admin/targets/action", url.Values{"csrf": {csrf}, "name": {"nope"}, "action": {"pause"}})
	if page := c.follow(r); !strings.Contains(page.body, `target &#34;nope&#34;: not found`) {
		t.Errorf("an unknown target:\n%s", page.body)
	}
	fb.actErr = errors.New("disk on fire at /var/lib/secret")
	r = c.post("/admin/deliveries/1/discard", url.Values{"csrf": {csrf}})
	if r.status != http.StatusInternalServerError || strings.Contains(r.body, "disk on fire") {
		t.Errorf("an internal error: %d\n%s", r.status, r.body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the internal error is not logged:\n%s", logs.String())
	}
	fb.actErr = fmt.Errorf("store: %w", hook.ErrUnavailable)
	if r := c.post("/admin/deliveries/1/discard", url.Values{"csrf": {csrf}}); r.status != http.StatusServiceUnavailable {
		t.Errorf("an unavailable store: %d", r.status)
	}
	fb.reloadErr = errors.New(`domain "6": plugin guard.wasm: abi version 9 is not supported`)
	r = c.post("/admin/plugins/reload", url.Values{"csrf": {csrf}})
	if page := c.follow(r); !strings.Contains(page.body, "abi version 9 is not supported") || !strings.Contains(page.body, "keep their previous version") {
		t.Errorf("a failed reload:\n%s", page.body)
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"jwt_webhook"}, "action": {"explode"}}, "No action &#34;explode&#34;: use disable, pause, enable or resume."},
		{url.Values{"action": {"pause"}}, "The target name must be 1 to 255 bytes long."},
	} {
		tc.form.Set("csrf", csrf)
		if r := c.post("/admin/targets/action", tc.form); r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("%v: %d\n%s", tc.form, r.status, r.body)
		}
	}
	if r := c.post("/admin/deliveries/0/retry", url.Values{"csrf": {csrf}}); r.status != http.StatusBadRequest {
		t.Errorf("delivery 0: %d", r.status)
	}
}
