package httpevents_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// seedEvents are the HTTP events of ISL's public event catalogue (ISL
// Light, ISL Pronto, ISL Groop), with fields of each module spelled as the
// proxy spells them: upper case, camelCase, dashes, values with spaces and
// form metacharacters.
var seedEvents = []map[string]string{
	{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "SESSIONID": "5a1d", "CPUSER_ID": "17"},
	{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "SESSIONID": "5a1e", "CPUSER_ID": "17"},
	{"MODULE": "ISL_LIGHT", "EVENT": "CODE", "SESSIONID": "5a1d", "CODE": "123 456 789"},
	{"MODULE": "ISL_LIGHT", "EVENT": "GETCODE", "SESSIONID": "5a1d"},
	{"MODULE": "ISL_LIGHT", "EVENT": "START", "SESSIONID": "5a1d", "reasonSoftwareType": "client", "reasonAddress": "192.0.2.7"},
	{"MODULE": "ISL_LIGHT", "EVENT": "RECONNECT", "SESSIONID": "5a1d", "reasonSoftwareType": "desk"},
	{"MODULE": "ISL_LIGHT", "EVENT": "INVALID", "SESSIONID": "5a1d"},
	{"MODULE": "ISL_LIGHT", "EVENT": "MESSAGE", "SESSIONID": "5a1d", "message": "Thanks & bye = done"},
	{"MODULE": "ISL_LIGHT", "EVENT": "STOP", "SESSIONID": "5a1d", "reason": "closed by desk"},
	{"MODULE": "ISL_LIGHT", "EVENT": "TERMINATED", "SESSIONID": "5a1f"},
	{"MODULE": "ISL_PRONTO", "EVENT": "START", "CHATID": "c1", "CHAT_HTTP_ID": "h1", "nick": "Ann Lee", "start-time": "1700000000", "email": "ann@example.com"},
	{"MODULE": "ISL_PRONTO", "EVENT": "JOIN", "CHATID": "c1", "nick": "Bob"},
	{"MODULE": "ISL_PRONTO", "EVENT": "MESSAGE", "CHATID": "c1", "message": "50% off? a+b"},
	{"MODULE": "ISL_PRONTO", "EVENT": "LEAVE", "CHATID": "c1"},
	{"MODULE": "ISL_PRONTO", "EVENT": "STOP", "CHATID": "c1"},
	{"MODULE": "ISL_GROOP", "EVENT": "SESSION_CREATE", "SESSION_ID": "g1", "USER_NICK": "ann", "USER_EID": "ext-9"},
	{"MODULE": "ISL_GROOP", "EVENT": "SESSION_START", "SESSION_ID": "g1"},
	{"MODULE": "ISL_GROOP", "EVENT": "SESSION_ACTIVE", "SESSION_ID": "g1", "ACTIVE": "1"},
	{"MODULE": "ISL_GROOP", "EVENT": "SESSION_DELETE", "SESSION_ID": "g1"},
}

// TestSeedEventsEndToEnd: every event of the catalogue reaches, once, the
// global script (configured as the seed has it: server host:port and a
// path, strict) and its domain's script (not strict), through real
// loopback servers, as a form of exactly the fields emitted plus
// EVENT_ID, TIMESTAMP and SERVERID: no name or value rewritten ("NEW
// SESSION" included).
func TestSeedEventsEndToEnd(t *testing.T) {
	t.Parallel()
	global := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
	domain := hooktest.NewReceiver(t, hooktest.Status(200, "saved"))
	obs := hooktest.NewObservations()
	rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
global = true
global_server = %q
global_path = "/isl-cp-example-events-to-sql.aspx"
global_strict = true
per_domain = true
per_domain_strict = false
allow_private = ["127.0.0.0/8"]
[[domain]]
id = "5"
script = "%s/events"
`, hostPort(global), domain.URL), hookrt.WithObserver(obs.Observe))
	ctx := context.Background()
	sent := map[string]map[string]string{}
	for i, f := range seedEvents {
		f = maps.Clone(f)
		f["DOMAIN_ID"], f["SERVERID"], f["TIMESTAMP"] = "5", "grid-1", fmt.Sprint(1700000000+i)
		id, err := rt.Emit(ctx, f)
		if err != nil {
			t.Fatalf("%s %s: %v", f["MODULE"], f["EVENT"], err)
		}
		sent[id] = f
	}
	n := len(seedEvents)
	obs.Wait(t, "every event at both scripts", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", httpevents.GlobalTarget) == n &&
			hooktest.Count(o, "delivered", httpevents.DomainTargetPrefix+"5") == n
	})
	for name, r := range map[string]*hooktest.Receiver{"global": global, "domain": domain} {
		reqs := r.Requests()
		if len(reqs) != n {
			t.Errorf("%s script got %d requests, want %d", name, len(reqs), n)
		}
		got := map[string]bool{}
		for _, req := range reqs {
			if name == "global" && req.Path != "/isl-cp-example-events-to-sql.aspx" {
				t.Errorf("global script called at %s", req.Path)
			}
			form := form(t, req.Body)
			id := form.Get("EVENT_ID")
			want, ok := sent[id]
			if !ok || got[id] {
				t.Errorf("%s script: EVENT_ID %q unknown or repeated", name, id)
				continue
			}
			got[id] = true
			if len(form) != len(want)+1 {
				t.Errorf("%s script: %s %s carries %d fields, want %d: %v", name, want["MODULE"], want["EVENT"], len(form), len(want)+1, form)
			}
			for k, v := range want {
				if vs := form[k]; len(vs) != 1 || vs[0] != v {
					t.Errorf("%s script: %s %s field %s = %q, want %q as emitted", name, want["MODULE"], want["EVENT"], k, vs, v)
				}
			}
		}
	}
}
