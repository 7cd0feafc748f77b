package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestEveryCommandReachesTheProxy: a script's XMLMSG document reaches the
// proxy's XMLMSG endpoint ([commands] xmlmsg_url, a real loopback server)
// whole: the islLight drop hookd knows and the commands it does not (a
// transfer, another product, a database query), with the secret, for the
// proxy to decide.
func TestEveryCommandReachesTheProxy(t *testing.T) {
	const reply = `<?xml version="1.0"?>
<module secret="s3cret">
  <islLight>
    <session id="5a1d"><drop/><transfer to="desk-2"/></session>
  </islLight>
  <islPronto><chat id="c1"><close reason="spam &amp; abuse"/></chat></islPronto>
  <queryDatabase><domains/></queryDatabase>
</module>`
	script := hooktest.NewReceiver(t, hooktest.Status(200, reply))
	proxy := hooktest.NewReceiver(t, hooktest.Status(200, ""))
	cfg, err := hookrt.ParseConfig([]byte(`
[delivery]
retry_schedule = ["50ms"]
jitter = 0
poll_interval = "20ms"
[http_events]
global = true
global_server = "`+strings.TrimPrefix(script.URL, "http://")+`"
global_path = "/events"
global_strict = true
[commands]
xmlmsg_url = "`+proxy.URL+`/xmlmsg"
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = teststore.SQLite(t)
	obs := hooktest.NewObservations()
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(obs.Observe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Close(ctx)
	})
	if _, err := rt.Emit(context.Background(), map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "SESSIONID": "5a1d"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the commands delivered to the proxy", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", hook.CommandsTarget) == 1
	})
	reqs := proxy.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the proxy got %d requests, want 1", len(reqs))
	}
	doc := string(reqs[0].Body)
	for _, want := range []string{
		`<module secret="s3cret">`,
		`<session id="5a1d"><drop/><transfer to="desk-2"/></session>`,
		`<islPronto><chat id="c1"><close reason="spam &amp; abuse"/></chat></islPronto>`,
		`<queryDatabase><domains/></queryDatabase>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the proxy's document lacks %s:\n%s", want, doc)
		}
	}
	if ct := reqs[0].Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") || reqs[0].Path != "/xmlmsg" {
		t.Errorf("POST %s with %s", reqs[0].Path, ct)
	}
}
