package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/testsupport"
)

// TestDomainOwnersDoneWhen is issue 17's "done when", from outside, with
// three hookd processes on one PostgreSQL: a domain owner's token uploads
// a plugin with the CLI, dry-runs it against the domain's recorded events,
// activates it, and every node runs it; a rollback likewise; the plugin
// refuses a sign-up with its reason; and a second domain's token sees
// none of it on any route of the API, on any node.
//
// The figures (from a command returning to every node running the new
// version, as the nodes' sign-up answers show) are logged, not asserted:
// a loaded 2-core machine cannot promise them. G.md records them.
func TestDomainOwnersDoneWhen(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "three hookd processes and a plugin built")
	wasm := plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/signup-guard")
	c := startDomainCluster(t)
	a, b, z := c.nodes[0], c.nodes[1], c.nodes[2]
	write := func(name, body string) string {
		p := filepath.Join(c.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// The operator stores two domains whose events go to a script, grants
	// their plugins room for the Go runtime's heap (512 pages; an owner
	// may not take more than the default by itself), and gives each owner
	// a token.
	spec := write("spec.json", fmt.Sprintf(`{"script": %q, "strict": true}`, c.scriptURL+"/events"))
	c.cli(t, a, c.opToken, "domains", "put", ownDomain, spec)
	c.cli(t, b, c.opToken, "domains", "put", otherDomain, spec)
	ownTok, ownTokID := c.createToken(t, a, ownDomain, "ci")
	otherTok, _ := c.createToken(t, z, otherDomain, "other")

	// Recorded events: each node takes some; the script acknowledges them.
	for i := range 4 {
		emit(t, c.nodes[i%3], ownDomain, fmt.Sprintf("s-%s-%d", ownDomain, i))
	}
	emit(t, b, otherDomain, "s-"+otherDomain)
	c.waitDelivered(t, a, ownTok, 4)
	c.waitDelivered(t, a, otherTok, 1)

	// v1 allows example.com; v2 example.org. Each refuses the others with
	// its own words.
	settings := func(v, allow string) string {
		return write("settings-"+v+".json", fmt.Sprintf(`{"plugin": {"timeout": "1m", "state": true},
			"config": {"allow": [%q], "message": "%s: only %s may sign up here"}}`, allow, v, allow))
	}
	v1, v2 := settings("v1", "example.com"), settings("v2", "example.org")
	runs := func(v, refusedEmail string) func(domainNode) bool {
		return func(n domainNode) bool {
			code, reason := c.signup(t, n, "probe", refusedEmail)
			return code == "refused" && strings.HasPrefix(reason, v+": ")
		}
	}

	// The owner uploads v1 and activates it at once (the domain ran a
	// script until now).
	out, _ := c.cli(t, b, ownTok, "plugin", "push", "-domain", ownDomain, wasm, "-settings", v1)
	pushed := time.Now()
	if !strings.Contains(out, "plugin version 1 ") || !strings.Contains(out, "active on every node") {
		t.Fatalf("plugin push v1: %q", out)
	}
	c.waitEveryNode(t, "push v1 (activated)", pushed, runs("v1", "bob@example.org"))

	// A sign-up the plugin refuses: its reason is the WebAPI's answer,
	// and the External WebAPI is not asked; one it allows goes on to it.
	code, reason := c.signup(t, z, "refused-user", "eve@example.org")
	if code != "refused" || reason != "v1: only example.com may sign up here" {
		t.Errorf("a sign-up the plugin refuses: %s %q", code, reason)
	}
	if _, asked := c.webapiHit.Load("refused-user"); asked {
		t.Errorf("the External WebAPI was asked about a sign-up the plugin refused")
	}
	if code, reason := c.signup(t, a, "allowed-user", "ann@example.com"); code != "ok" {
		t.Errorf("a sign-up the plugin allows: %s %q", code, reason)
	}
	if _, asked := c.webapiHit.Load("allowed-user"); !asked {
		t.Errorf("a sign-up the plugin allowed did not reach the External WebAPI")
	}

	// v2 is stored, not active; every node still runs v1.
	out, _ = c.cli(t, a, ownTok, "plugin", "push", "-domain", ownDomain, wasm, "-settings", v2, "-activate=false")
	if !strings.Contains(out, "plugin version 2 ") || !strings.Contains(out, "stored, not active") {
		t.Fatalf("plugin push v2 -activate=false: %q", out)
	}
	for _, n := range c.nodes {
		if !runs("v1", "bob@example.org")(n) {
			t.Errorf("%s: a version pushed with -activate=false runs", n.name)
		}
	}

	// The dry run of v2 against the recorded events: each acknowledged,
	// nothing delivered, nothing stored.
	delivered := c.events.count(ownDomain)
	out, _ = c.cli(t, z, ownTok, "plugin", "test", "-domain", ownDomain, "-version", "2", "-last", "10", "-json")
	var dry struct {
		Results []struct {
			EventID string `json:"event_id"`
			Verdict string `json:"verdict"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &dry); err != nil || len(dry.Results) != 4 {
		t.Fatalf("plugin test -version 2 -last 10: %v %s", err, out)
	}
	for _, r := range dry.Results {
		if r.Verdict != "acknowledged" {
			t.Errorf("dry run of event %s: %s", r.EventID, r.Verdict)
		}
	}
	// And of a module uploaded for the test, on events given.
	events := write("events.json", `[{"MODULE":"ISL_LIGHT","EVENT":"START","DOMAIN_ID":"`+ownDomain+`","SESSIONID":"dry"}]`)
	out, _ = c.cli(t, a, ownTok, "plugin", "test", "-domain", ownDomain, "-module", wasm, "-settings", v2, "-events", events)
	if !strings.Contains(out, "verdict:  acknowledged") {
		t.Errorf("plugin test -module -events:\n%s", out)
	}
	if n := c.events.count(ownDomain); n != delivered {
		t.Errorf("the dry runs delivered: the script got %d events, %d before", n, delivered)
	}
	if out, _ := c.cli(t, a, ownTok, "plugin", "versions", "-domain", ownDomain, "-json"); strings.Count(out, `"version":`) != 2 {
		t.Errorf("the dry runs stored a version: %s", out)
	}

	// Activate v2: every node runs it.
	c.cli(t, b, ownTok, "plugin", "activate", "-domain", ownDomain, "2")
	c.waitEveryNode(t, "activate v2", time.Now(), runs("v2", "alice@example.com"))

	// Roll back to v1: every node runs it again.
	c.cli(t, z, ownTok, "plugin", "activate", "-domain", ownDomain, "1")
	c.waitEveryNode(t, "roll back to v1", time.Now(), runs("v1", "carol@example.org"))

	// The plugin, not the script, now takes the domain's events.
	emit(t, b, ownDomain, "s-after")
	c.waitDelivered(t, a, ownTok, 5)
	if n := c.events.count(ownDomain); n != delivered {
		t.Errorf("an event after the plugin was activated went to the script (%d events, %d before)", n, delivered)
	}

	// The owner sees the changes, made by its token, in the audit trail.
	out, _ = c.cli(t, a, ownTok, "domains", "audit", ownDomain)
	if n := strings.Count(out, `token "ci"`); n < 4 {
		t.Errorf("domains audit: %d changes by the owner's token, want 2 pushes and 2 activations:\n%s", n, out)
	}

	// The owner's portal, on a node that took none of these commands,
	// shows the two versions.
	if status, body := portalGet(t, portalClient(t, z, ownTok), z.base+"/portal/plugin"); status != http.StatusOK || !strings.Contains(body, ownDomain) {
		t.Errorf("the owner's portal plugin page: %d %.500s", status, body)
	}

	c.checkIsolation(t, otherTok, isolationMarks{
		ownDomain:  ownDomain,
		ownTokenID: ownTokID,
		ownSession: "s-" + ownDomain + "-0",
	})

	// After the walk, the owner's domain is as it was: v1 active on every
	// node, both versions kept.
	for _, n := range c.nodes {
		if !runs("v1", "dave@example.org")(n) {
			t.Errorf("%s: the domain no longer runs v1 after the other domain's requests", n.name)
		}
	}
	if out, _ := c.cli(t, a, c.opToken, "plugin", "versions", "-domain", ownDomain); !regexp.MustCompile(`(?m)^1 +\* `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^2 +- `).MatchString(out) {
		t.Errorf("plugin versions after the other domain's requests:\n%s", out)
	}
}

// createToken creates a domain token with the operator's token and returns
// the file holding it and its id.
func (c *domainCluster) createToken(t *testing.T, n domainNode, domain, name string) (file, id string) {
	t.Helper()
	out, _ := c.cli(t, n, c.opToken, "domains", "token", "create", domain, "-name", name, "-json")
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" || tok.ID == "" {
		t.Fatalf("domains token create %s -json: %v %s", domain, err, out)
	}
	return c.writeToken(t, domain, tok.Token), tok.ID
}

// deliveredPatience bounds waitDelivered.
var deliveredPatience = daemontest.Patience

// waitDelivered waits until the domain token's deliveries list (the CLI,
// on node n) shows at least want delivered.
func (c *domainCluster) waitDelivered(t *testing.T, n domainNode, tokenFile string, want int) {
	t.Helper()
	for deadline := time.Now().Add(deliveredPatience); ; time.Sleep(20 * time.Millisecond) {
		out, _ := c.cli(t, n, tokenFile, "deliveries", "list", "-state", "delivered", "-json")
		if strings.Count(out, `"state":"delivered"`) >= want {
			return
		}
		if time.Now().After(deadline) {
			all, _ := c.cli(t, n, c.opToken, "deliveries", "list")
			t.Fatalf("%d deliveries not delivered: %s\nthe operator sees:\n%s\nthe script got %v", want, out, all, c.events.snapshot())
		}
	}
}

// isolationMarks are what of the owner's domain must appear in no answer
// to the other domain's token.
type isolationMarks struct {
	ownDomain, ownTokenID, ownSession string
}

// checkIsolation walks every route of the API, as the daemon's own
// /v1/openapi.json lists them (so a new route is walked without an edit
// here), on every node, with the other domain's token against the owner's
// resources: each must answer 404, or (a list the token may read) 2xx
// without a trace of the owner's domain. Never 403, 401 or any other
// status that would say the resource exists.
func (c *domainCluster) checkIsolation(t *testing.T, otherTokFile string, m isolationMarks) {
	t.Helper()
	raw, _ := os.ReadFile(otherTokFile)
	otherTok := strings.TrimSpace(string(raw))
	status, spec := call(t, "GET", c.nodes[0].base+"/v1/openapi.json", "op-s3cret", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %d %s", status, spec)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	// A delivery of the owner's domain, as the operator sees it.
	_, list := call(t, "GET", c.nodes[0].base+"/v1/deliveries?target=http_events.domain."+m.ownDomain+"&limit=1", "op-s3cret", "", nil)
	var dl struct {
		Deliveries []struct {
			ID      int64  `json:"id"`
			EventID string `json:"event_id"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(list, &dl); err != nil || len(dl.Deliveries) == 0 {
		t.Fatalf("the owner's deliveries: %v %s", err, list)
	}
	delivery := fmt.Sprint(dl.Deliveries[0].ID)
	marks := []string{m.ownDomain, m.ownTokenID, m.ownSession, dl.Deliveries[0].EventID}
	// Each route is asked twice: about the owner's resources, and about
	// resources that exist nowhere. The two answers must be the same (the
	// names swapped): a 404 that tells them apart says what exists.
	own := map[string]string{"domain": m.ownDomain, "delivery": delivery, "session": m.ownSession, "token": m.ownTokenID}
	none := map[string]string{"domain": "nosuch0", "delivery": "999999999", "session": "no-such-session", "token": "dt_0000000000000000"}
	paramRe := regexp.MustCompile(`\{[^}]+\}`)
	fill := func(path string, v map[string]string) string {
		return paramRe.ReplaceAllStringFunc(path, func(p string) string {
			switch {
			case p == "{id}" && strings.HasPrefix(path, "/v1/domains/"):
				return v["domain"]
			case p == "{id}" && strings.HasPrefix(path, "/v1/deliveries/"):
				return v["delivery"]
			case p == "{id}" && strings.HasPrefix(path, "/v1/sessions/"):
				return v["session"]
			case p == "{version}":
				return "1"
			case p == "{token}":
				return v["token"]
			case p == "{name}":
				return "http_events.domain." + v["domain"]
			case p == "{action}":
				return "pause"
			}
			return "x"
		})
	}
	swap := func(body []byte) string {
		s := string(body)
		for k, v := range none {
			s = strings.ReplaceAll(s, v, own[k])
		}
		return s
	}
	walked := 0
	for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
		if !strings.HasPrefix(path, "/v1/") {
			continue // the probes and the JWK set: public, no domain's data
		}
		for method := range doc.Paths[path] {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "PUT", "POST", "DELETE", "PATCH"}, method) {
				continue
			}
			var body []byte
			ct := ""
			if method != "GET" && method != "DELETE" {
				body, ct = []byte(`{}`), "application/json"
			}
			concrete := fill(path, own)
			for _, n := range c.nodes {
				walked++
				status, got := call(t, method, n.base+concrete, otherTok, ct, body)
				if status >= 200 && status < 300 {
					for _, mk := range marks {
						if mk != "" && strings.Contains(string(got), mk) {
							t.Errorf("%s: %s %s with the other domain's token: %d names %q: %.300s", n.name, method, concrete, status, mk, got)
						}
					}
					continue
				}
				nStatus, nGot := call(t, method, n.base+fill(path, none), otherTok, ct, body)
				if status != http.StatusNotFound || nStatus != status || swap(nGot) != string(got) {
					t.Errorf("%s: %s %s with the other domain's token: %d %.300s; about what exists nowhere: %d %.300s; want the same 404",
						n.name, method, concrete, status, got, nStatus, nGot)
				}
			}
		}
	}
	t.Logf("isolation: %d requests (every route of /v1/openapi.json on 3 nodes) with the other domain's token", walked)
	// The portal, on every node: the other domain's owner logs in and sees
	// its own domain only; the owner's delivery is a 404 page.
	for _, n := range c.nodes {
		cl := portalClient(t, n, otherTokFile)
		for _, page := range []string{"/portal/", "/portal/dead", "/portal/sessions", "/portal/plugin", "/portal/logs", "/portal/settings",
			"/portal/deliveries/" + delivery} {
			status, body := portalGet(t, cl, n.base+page)
			for _, mk := range marks {
				if strings.Contains(body, mk) {
					t.Errorf("%s: portal %s with the other domain's token: %d names %q", n.name, page, status, mk)
				}
			}
			if want := strings.HasPrefix(page, "/portal/deliveries/"); want != (status == http.StatusNotFound) || (!want && status != http.StatusOK) {
				t.Errorf("%s: portal %s with the other domain's token: %d", n.name, page, status)
			}
		}
	}
	// The CLI says so too.
	for _, args := range [][]string{
		{"domains", "get", m.ownDomain},
		{"plugin", "versions", "-domain", m.ownDomain},
		{"domains", "logs", m.ownDomain},
	} {
		code, _, errb := hookd(append(args, "-addr", c.nodes[1].base, "-token-file", otherTokFile)...)
		if code != 1 || !strings.Contains(errb, "404 Not Found") {
			t.Errorf("hookd %s with the other domain's token: exit %d %s", strings.Join(args, " "), code, errb)
		}
	}
}
