package portal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui/browsertest"
)

// alphaMark is in alpha's plugin config and events: beta's owner must
// never see it.
const alphaMark = "ALPHA-PRIVATE-41c8"

// TestPortalBrowser drives the portal in Chromium as a domain's owner
// would: log in with alpha's token, upload the session-guard plugin
// without activating it, dry-run it on two events (one from a blocked
// network: the drop command it would send; one from an address that is
// no IP: its warning), activate it, and see the deliveries of alpha's
// events and one delivery's attempts; activate a broken version 2, see
// its dead letter say why, roll back to version 1 and replay it; read the
// plugin's log. Then beta's owner
// logs in and sees none of it: not in the lists, not by id. The pages
// raise no console problem (a CSP violation would be one).
func TestPortalBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium; -short skips it")
	}
	exe := browsertest.Chromium(t, "the portal")
	e := newEnv(t)
	module := filepath.Join(t.TempDir(), "session-guard.wasm")
	if err := os.WriteFile(module, e.guard, 0o600); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, exe, e.srv.URL, browsertest.Options{
		Screenshots: os.Getenv(envScreenshots), FullPage: true, Expected: expectedConsole})

	// Log in through the form: a wrong token first.
	b.Open("/portal/", "form.login")
	if loc := b.Location(); loc != e.srv.URL+"/portal/login" {
		t.Fatalf("without a session the portal shows %s; want the login form", loc)
	}
	b.Shot("login")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), "hkd_dt_dt_wrong_token"))
	b.Submit("form.login button", ".flash-error")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), e.tokA))
	b.Submit("form.login button", "#deliveries")
	if got := b.Text("#who"); !strings.Contains(got, "alpha") {
		t.Errorf("the header names %q; want domain alpha", got)
	}

	// Upload, not activated.
	b.Open("/portal/plugin", "#upload")
	b.Do(chromedp.SetUploadFiles(chromedp.CSS(`#upload input[name="module"]`), []string{module}),
		chromedp.SetValue(chromedp.CSS(`#upload textarea[name="settings"]`),
			`{"config":{"block":["10.0.0.0/8"],"secret":"`+alphaMark+`"}}`),
		chromedp.Click(chromedp.CSS(`#upload input[name="activate"]`))) // off
	b.Submit("#upload button", ".flash")
	if got := b.Text(".flash"); !strings.HasPrefix(got, "Version 1 stored (") {
		t.Fatalf("after the upload the page says %q", got)
	}
	if n := b.Count(`#versions tr[data-version="1"]:not([data-active])`); n != 1 {
		t.Errorf("version 1 listed inactive: %d rows", n)
	}

	// Dry run of version 1 on two events.
	b.Do(chromedp.SetValue(chromedp.CSS(`#dryrun select[name="version"]`), "1"),
		chromedp.SetValue(chromedp.CSS(`#dryrun textarea[name="events"]`),
			`[{"MODULE":"ISL_LIGHT","EVENT":"NEWSESSION","DOMAIN_ID":"alpha","SESSIONID":"s-blocked","reasonAddress":"10.1.2.3"},`+
				`{"MODULE":"ISL_LIGHT","EVENT":"NEWSESSION","DOMAIN_ID":"alpha","SESSIONID":"s-odd","reasonAddress":"not-an-ip"}]`))
	b.Submit("#dryrun button", "#candidate")
	if got := b.Text("#candidate"); !strings.Contains(got, "version 1 on 2 events") {
		t.Errorf("the dry run says %q", got)
	}
	results := b.Text("main")
	if !strings.Contains(results, "s-blocked") || !strings.Contains(strings.ToLower(results), "drop") {
		t.Errorf("the dry run does not show the drop command for the blocked session:\n%s", results)
	}
	if !strings.Contains(results, `reasonAddress "not-an-ip" is not an IP address`) {
		t.Errorf("the dry run does not show the plugin's warning:\n%s", results)
	}
	b.Shot("dryrun")
	if ds, _ := e.rt.ListDeliveries(t.Context(), hook.DeliveryFilter{Target: "http_events.domain.alpha"}); len(ds) != 0 {
		t.Errorf("the dry run made %d deliveries", len(ds))
	}

	// Activate it.
	b.Open("/portal/plugin", `#versions tr[data-version="1"] button.activate`)
	b.Submit(`#versions tr[data-version="1"] button.activate`, `#active[data-version="1"]`)
	if got := b.Text(".flash"); !strings.HasPrefix(got, "Version 1 is active on every node") {
		t.Errorf("after activating the page says %q", got)
	}
	b.Shot("plugin")

	// Alpha's events: one from an address that is no IP (a warning in the
	// plugin's log), one from an address it lets through.
	var alphaEvents []string
	for _, addr := range []string{"not-an-ip-" + alphaMark, "192.0.2.9"} {
		id, err := e.rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "alpha",
			"SESSIONID": "alpha-s-1", "reasonAddress": addr, "NOTE": alphaMark})
		if err != nil {
			t.Fatal(err)
		}
		alphaEvents = append(alphaEvents, id)
	}
	obs := e.obs.Wait(t, "alpha's deliveries", func(obs []hook.Observation) bool {
		return countEvents(obs, alphaEvents, hook.StateDelivered) == len(alphaEvents)
	})
	var alphaDelivery int64
	for _, ob := range obs {
		if ob.EventID == alphaEvents[0] && ob.State == hook.StateDelivered {
			alphaDelivery = ob.DeliveryID
		}
	}
	b.Open("/portal/", "#deliveries")
	for _, id := range alphaEvents {
		if n := b.Count(fmt.Sprintf(`tr[data-event=%q][data-state="delivered"]`, id)); n != 1 {
			t.Errorf("event %s: %d delivered rows", id, n)
		}
	}
	if got := b.Text("#summary"); !strings.Contains(got, "delivered 2") {
		t.Errorf("the summary says %q", got)
	}
	b.Shot("deliveries")
	b.Open(fmt.Sprintf("/portal/deliveries/%d", alphaDelivery), "#attempts")
	if got := b.Text("#event"); !strings.Contains(got, alphaMark) {
		t.Errorf("the delivery's event: %q", got)
	}
	b.Shot("delivery")

	// Version 2 forgets the secret: a NEWSESSION fails for good and is a
	// dead letter, which says why. Rolling back to version 1 and
	// replaying it delivers it.
	b.Open("/portal/plugin", "#upload")
	b.Do(chromedp.SetUploadFiles(chromedp.CSS(`#upload input[name="module"]`), []string{module}),
		chromedp.SetValue(chromedp.CSS(`#upload textarea[name="settings"]`), `{"config":{"block":["10.0.0.0/8"]}}`))
	b.Submit("#upload button", `#active[data-version="2"]`)
	deadEvent, err := e.rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "alpha",
		"SESSIONID": "alpha-s-2", "reasonAddress": "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	e.obs.Wait(t, "alpha's dead letter", func(obs []hook.Observation) bool {
		return countEvents(obs, []string{deadEvent}, hook.StateDead) == 1
	})
	deadRow := fmt.Sprintf(`tr[data-event=%q][data-state="dead"]`, deadEvent)
	b.Open("/portal/dead", deadRow)
	if got := b.Text(deadRow + " td.err"); !strings.Contains(got, "secret") {
		t.Errorf("the dead letter's error: %q", got)
	}
	b.Shot("dead")
	b.Open("/portal/plugin", `#versions tr[data-version="1"] button.activate`)
	b.Submit(`#versions tr[data-version="1"] button.activate`, `#active[data-version="1"]`)
	b.Open("/portal/dead", deadRow)
	b.Submit(deadRow+" button", ".flash")
	if got := b.Text(".flash"); !strings.HasSuffix(got, "is queued for another attempt.") {
		t.Errorf("after the replay the page says %q", got)
	}
	e.obs.Wait(t, "the replayed dead letter", func(obs []hook.Observation) bool {
		return countEvents(obs, []string{deadEvent}, hook.StateDelivered) == 1
	})

	// The plugin's log, once this node has flushed it to the store (every
	// second): the page is loaded again until the line is there.
	e.waitLog(t, "alpha", alphaMark)
	b.Open("/portal/logs", "#logs")
	if got := b.Text("#logs"); !strings.Contains(got, alphaMark) || !strings.Contains(got, "not an IP address") {
		t.Errorf("the plugin log: %q", got)
	}
	b.Shot("logs")
	b.Open("/portal/settings", "#domain")
	b.Shot("settings")
	b.Open("/portal/sessions?id=alpha-s-1", "section.event")
	b.Shot("sessions")

	// Beta's owner sees none of it.
	b.Submit(`#tools button`, "form.login")
	b.Do(chromedp.SendKeys(chromedp.CSS("#token"), e.tokB))
	b.Submit("form.login button", "#deliveries")
	if got := b.Text("#who"); !strings.Contains(got, "beta") {
		t.Fatalf("the header names %q; want domain beta", got)
	}
	for _, p := range []struct{ path, sel string }{
		{"/portal/", "#deliveries"}, {"/portal/dead", "#deliveries"}, {"/portal/plugin", "#versions"},
		{"/portal/logs", "#logs"}, {"/portal/settings", "#domain"}, {"/portal/?event_id=" + alphaEvents[0], "#deliveries"},
	} {
		b.Open(p.path, p.sel)
		body := b.Text("body")
		for _, m := range append([]string{alphaMark, "alpha-s-1", "alpha-owner"}, alphaEvents...) {
			if strings.Contains(body, m) && !strings.Contains(p.path, m) {
				t.Errorf("beta's %s shows alpha's %q:\n%s", p.path, m, body)
			}
		}
	}
	b.Open(fmt.Sprintf("/portal/deliveries/%d", alphaDelivery), ".problem")
	if got := b.Text(".problem"); !strings.Contains(got, "not found") {
		t.Errorf("beta opening alpha's delivery: %q", got)
	}
	b.Open("/portal/sessions?id=alpha-s-1", "#no-events")
	if problems := b.Problems(); len(problems) > 0 {
		t.Errorf("the pages wrote to the console:\n%s", strings.Join(problems, "\n"))
	}
}

// countEvents counts the observations of events in state.
func countEvents(obs []hook.Observation, events []string, state hook.DeliveryState) int {
	n := 0
	for _, ob := range obs {
		for _, id := range events {
			if ob.EventID == id && ob.State == state {
				n++
			}
		}
	}
	return n
}
