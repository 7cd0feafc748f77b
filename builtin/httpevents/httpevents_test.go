package httpevents_test

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

const nomessage = `<?xml version="1.0"?>
<nomessage/>`

func dropFor(session string) string {
	return `<module secret="s3cret"><islLight><session id="` + session + `"><drop/></session></islLight></module>`
}

func hostPort(r *hooktest.Receiver) string { return strings.TrimPrefix(r.URL, "http://") }

func TestRouting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		global, perDomain bool
		wantGlobal, want5 int
	}{
		{"both", true, true, 4, 2},
		{"global only", true, false, 4, 0},
		{"per-domain only", false, true, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			global := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
			d5 := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
			d6 := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
			obs := hooktest.NewObservations()
			rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
global = %v
global_server = %q
global_path = "/isl-cp-example-events-to-sql"
global_strict = true
per_domain = %v
allow_private = ["127.0.0.0/8"]
[[domain]]
id = "5"
script = "%s/d5"
[[domain]]
id = "6"
script = "%s/d6"
`, tc.global, hostPort(global), tc.perDomain, d5.URL, d6.URL), hookrt.WithObserver(obs.Observe))
			ctx := context.Background()
			var ids []string
			for _, ev := range []map[string]string{
				event("5", "NEW SESSION", "SESSIONID", "a1", "reasonSoftwareType", "desk"),
				event("5", "STOP", "SESSIONID", "a1"),
				event("7", "START"),
				{"MODULE": "ISL_PRONTO", "EVENT": "JOIN", "DOMAIN_ID": "6", "nick": "Ann Lee", "start-time": "x&y=z"},
			} {
				id, err := rt.Emit(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			want := tc.wantGlobal + tc.want5 + map[bool]int{true: 1}[tc.perDomain]
			obs.Wait(t, "all deliveries", func(o []hook.Observation) bool { return hooktest.Count(o, "delivered", "") == want })
			if got := len(global.Requests()); got != tc.wantGlobal {
				t.Errorf("global got %d requests, want %d", got, tc.wantGlobal)
			}
			if got := len(d5.Requests()); got != tc.want5 {
				t.Errorf("domain 5 got %d requests, want %d", got, tc.want5)
			}
			if !tc.global {
				return
			}
			reqs := global.Requests()
			first := reqs[0]
			if first.Path != "/isl-cp-example-events-to-sql" || first.Method != "POST" ||
				first.Header.Get("Content-Type") != "application/x-www-form-urlencoded; charset=utf-8" ||
				!strings.HasPrefix(first.Header.Get("User-Agent"), "hookd/") {
				t.Errorf("request %s %s %v", first.Method, first.Path, first.Header)
			}
			byID := map[string]map[string][]string{}
			for _, r := range reqs {
				f := form(t, r.Body)
				byID[f.Get("EVENT_ID")] = f
				if r.Header.Get("X-Event-Id") != f.Get("EVENT_ID") {
					t.Errorf("X-Event-Id %q != EVENT_ID %q", r.Header.Get("X-Event-Id"), f.Get("EVENT_ID"))
				}
			}
			f := byID[ids[0]]
			if f == nil || f["EVENT"][0] != "NEW SESSION" || f["reasonSoftwareType"][0] != "desk" || f["TIMESTAMP"][0] == "" {
				t.Errorf("NEW SESSION event fields %v", f)
			}
			if p := byID[ids[3]]; p == nil || p["nick"][0] != "Ann Lee" || p["start-time"][0] != "x&y=z" {
				t.Errorf("pronto event fields %v", p)
			}
		})
	}
}

// TestReplies runs every kind of answer against a strict and a lax script.
// As the proxy's documentation has it, a strict script must answer valid
// XML: any well-formed XML acknowledges, an XMLMSG document is forwarded
// whole (commands hookd does not know included), and what was not
// executed is said in the attempt's summary.
func TestReplies(t *testing.T) {
	t.Parallel()
	type answer struct {
		name string
		mode func(r *hooktest.Receiver) http.HandlerFunc
		// strictErr is what a strict script's failure says; "" = acknowledged.
		strictErr string
		// lax is the final state of a lax script's delivery.
		lax hook.DeliveryState
		// summary is (the start of) what the attempt record says of an
		// acknowledged answer, strict or lax; "" = not checked.
		summary, laxSummary string
	}
	const (
		notExecuted = "acknowledged: XML not an XMLMSG document, nothing executed (root element "
		transfer    = `<module secret="s"><islLight><session id="s9"><transfer to="desk-2"/></session></islLight><islPronto><chat id="7"><close/></chat></islPronto></module>`
	)
	answers := []answer{
		{"nomessage", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, nomessage) }, "", "delivered", "nomessage", ""},
		{"drop", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, dropFor("s9")) }, "", "delivered", "xmlmsg: drop s9", ""},
		{"html", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, "<html><body>ok</body></html>") }, "", "delivered", notExecuted + "<html>", ""},
		{"result", func(*hooktest.Receiver) http.HandlerFunc {
			return hooktest.Status(200, `<?xml version="1.0"?>`+"\n<result>saved</result>\n")
		}, "", "delivered", notExecuted + "<result>", ""},
		{"unknown", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, transfer) }, "", "delivered", "xmlmsg: 2 unknown to hookd, forwarded", ""},
		{"empty", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, "") }, "HTTP 200 but empty body", "delivered", "", "empty reply (not strict: accepted)"},
		{"text", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(200, "OK") }, "HTTP 200 but body is not XML", "delivered", "", "reply not XML (not strict: ignored)"},
		{"500", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Status(500, "<html>oops</html>") }, "HTTP 500", "delivered", "", "HTTP 500 (not strict: accepted)"},
		{"timeout", func(r *hooktest.Receiver) http.HandlerFunc { return r.Block() }, "timeout after", "dead", "", ""},
		{"reset", func(*hooktest.Receiver) http.HandlerFunc { return hooktest.Reset }, "connection closed by the server", "dead", "", ""},
	}
	var cfg strings.Builder
	cfg.WriteString("[http_events]\nper_domain = true\nper_domain_strict = false\nsave_to_session = true\ntimeout = \"300ms\"\nallow_private = [\"127.0.0.0/8\"]\n")
	recv := map[string]*hooktest.Receiver{}
	for _, a := range answers {
		for _, strict := range []bool{true, false} {
			id := fmt.Sprintf("%s-%v", a.name, strict)
			r := hooktest.NewReceiver(t, nil)
			r.Set(a.mode(r))
			recv[id] = r
			fmt.Fprintf(&cfg, "[[domain]]\nid = %q\nscript = %q\nstrict = %v\n", id, r.URL+"/events", strict)
		}
	}
	obs := hooktest.NewObservations()
	var (
		cmds = make(chan string, 10)
		sink = hook.HandlerFunc(func(ctx context.Context, ev *hook.Event) (hook.Result, error) {
			cmds <- ev.Get(hook.CommandFieldTarget) + " " + ev.Get("SESSIONID") + " " + ev.Get(hook.CommandFieldXML)
			return hook.Result{}, nil
		})
	)
	rt := start(t, teststore.SQLite(t), cfg.String(), hookrt.WithObserver(obs.Observe), hookrt.WithCommandSink(sink))
	ctx := context.Background()
	for id := range recv {
		if _, err := rt.Emit(ctx, event(id, "START", "SESSIONID", "s9")); err != nil {
			t.Fatal(err)
		}
	}
	target := func(id string) string { return httpevents.DomainTargetPrefix + id }
	obs.Wait(t, "every script judged", func(o []hook.Observation) bool {
		for _, a := range answers {
			if a.strictErr == "" {
				if hooktest.Count(o, "delivered", target(a.name+"-true")) != 1 {
					return false
				}
			} else if hooktest.Count(o, "retrying", target(a.name+"-true")) < 2 {
				return false
			}
			if hooktest.Count(o, a.lax, target(a.name+"-false")) != 1 {
				return false
			}
		}
		return true
	})
	for _, o := range obs.Seen() {
		for _, a := range answers {
			if o.Target == target(a.name+"-true") && o.State == "retrying" && !strings.Contains(o.Reason, a.strictErr) {
				t.Errorf("%s strict: reason %q; want it to contain %q", a.name, o.Reason, a.strictErr)
			}
		}
	}
	// Lax scripts got one attempt per answer (three for transport errors).
	for _, a := range answers {
		want := map[hook.DeliveryState]int{"delivered": 1, "dead": 3}[a.lax]
		if got := len(recv[a.name+"-false"].Requests()); got != want {
			t.Errorf("%s lax: %d requests, want %d", a.name, got, want)
		}
	}
	// The drop and the unknown commands reached the command sink, strict
	// and lax, with the session; the unknown ones whole.
	var drops, unknown int
	for range 4 {
		c := <-cmds
		switch {
		case !strings.Contains(c, " s9 ") || !strings.Contains(c, `<session id="s9">`):
			t.Errorf("command %q", c)
		case strings.Contains(c, "<drop"):
			drops++
		case strings.Contains(c, `<transfer to="desk-2"/>`) && strings.Contains(c, `<islPronto><chat id="7"><close/></chat></islPronto>`):
			unknown++
		default:
			t.Errorf("command %q", c)
		}
	}
	if drops != 2 || unknown != 2 {
		t.Errorf("%d drop and %d unknown documents forwarded; want 2 of each", drops, unknown)
	}
	// The attempt records say what each acknowledged answer came to.
	evs, err := rt.SessionEvents(ctx, "s9")
	if err != nil {
		t.Fatal(err)
	}
	summaries := map[string]string{}
	for _, ev := range evs {
		for _, o := range ev.Targets {
			summaries[strings.TrimPrefix(o.Target, httpevents.DomainTargetPrefix)] = o.Summary
		}
	}
	for _, a := range answers {
		for strict, want := range map[bool]string{true: a.summary, false: cmp.Or(a.laxSummary, a.summary)} {
			id := fmt.Sprintf("%s-%v", a.name, strict)
			if want != "" && !strings.HasPrefix(summaries[id], want) {
				t.Errorf("%s: summary %q; want %q", id, summaries[id], want)
			}
		}
	}
	// Fix every strict script: each is acknowledged once, then left alone.
	for _, a := range answers {
		if a.strictErr != "" {
			recv[a.name+"-true"].Set(hooktest.Status(200, nomessage))
		}
	}
	obs.Wait(t, "fixed strict scripts acknowledged", func(o []hook.Observation) bool {
		for _, a := range answers {
			if hooktest.Count(o, "delivered", target(a.name+"-true")) != 1 {
				return false
			}
		}
		return true
	})
}

// TestSSRF: a domain owner's script on loopback or a metadata address is
// refused at dial time, unless allow_private lets it through.
func TestSSRF(t *testing.T) {
	t.Parallel()
	// Each case has a receiver of its own, so that the cases run at once
	// and still tell whether their script was reached. The script is
	// given as a template: {{url}} is the case's receiver, {{port}} its
	// port.
	for _, tc := range []struct {
		name, allow, script, want string
	}{
		{"loopback", "", "{{url}}", "loopback"},
		{"localhost name", "", "http://localhost:{{port}}/", "loopback"},
		{"metadata", "", "http://169.254.169.254/latest/meta-data/", "metadata"},
		{"allowed", `"127.0.0.0/8"`, "{{url}}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := hooktest.NewReceiver(t, hooktest.Status(200, nomessage))
			_, port, _ := net.SplitHostPort(hostPort(r))
			tc.script = strings.NewReplacer("{{url}}", r.URL, "{{port}}", port).Replace(tc.script)
			before := len(r.Requests())
			obs := hooktest.NewObservations()
			rt := start(t, teststore.SQLite(t), fmt.Sprintf(`
[http_events]
per_domain = true
per_domain_strict = true
allow_private = [%s]
[[domain]]
id = "1"
script = %q
`, tc.allow, tc.script), hookrt.WithObserver(obs.Observe))
			if _, err := rt.Emit(context.Background(), event("1", "START")); err != nil {
				t.Fatal(err)
			}
			seen := obs.Wait(t, "a final outcome", func(o []hook.Observation) bool {
				return hooktest.Count(o, "dead", "")+hooktest.Count(o, "delivered", "") == 1
			})
			last := seen[len(seen)-1]
			if tc.want == "" {
				if last.State != "delivered" || len(r.Requests()) != before+1 {
					t.Fatalf("allowed script: %+v", last)
				}
				return
			}
			if last.State != "dead" || !strings.Contains(last.Reason, tc.want) || !strings.Contains(last.Reason, "refused") {
				t.Fatalf("got %s %q; want dead, refused as %s", last.State, last.Reason, tc.want)
			}
			if len(r.Requests()) != before {
				t.Error("the refused script was reached")
			}
		})
	}
}
