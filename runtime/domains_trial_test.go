package runtime_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestActivationBuildsOnce: on the node that makes a change that
// activates a plugin version (a push that activates, an activation, a
// rollback, new settings), the build that judged the change is the one that runs: the
// plugin is loaded once per change, not twice, and the handler that runs
// answers events (it was not closed with the judging). A push that does
// not activate builds once, to judge, and closes it.
func TestActivationBuildsOnce(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)), hookrt.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	op := hook.Operator()
	loads := func() int {
		n := 0
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `msg="domain plugin loaded"`) && strings.Contains(l, " domain=71 ") {
				n++
			}
		}
		return n
	}
	answers := func(sha string) {
		t.Helper()
		waitRunning(t, rt, "71", true, sha)
		h, ok := hookrt.DomainHandler(rt, "71")
		if !ok {
			t.Fatal("no handler for domain 71")
		}
		ev, err := hook.NewEvent(map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "71", "SESSIONID": "s1"}, time.Now(), "node-0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Handle(ctx, ev); err != nil {
			t.Fatalf("the running handler: %v", err)
		}
	}
	v1, sum1 := replyModule(t, "once1")
	v2, sum2 := replyModule(t, "once2")
	steps := []struct {
		what  string
		do    func() error
		loads int
		runs  string
	}{
		{"push v1 and activate", func() error { return second(rt.PushPlugin(ctx, op, "71", v1, nil, true)) }, 1, sum1},
		{"push v2 without activating", func() error { return second(rt.PushPlugin(ctx, op, "71", v2, nil, false)) }, 1, sum1},
		{"activate v2", func() error { return second(rt.ActivatePlugin(ctx, op, "71", 2)) }, 1, sum2},
		{"roll back to v1", func() error { return second(rt.ActivatePlugin(ctx, op, "71", 1)) }, 1, sum1},
		{"put new settings", func() error { return second(rt.PutDomain(ctx, op, "71", []byte(`{"script": "", "strict": true}`))) }, 1, sum1},
	}
	for _, st := range steps {
		before := loads()
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		answers(st.runs)
		if got := loads() - before; got != st.loads {
			t.Fatalf("%s: the plugin was loaded %d times on this node; want %d\n%s", st.what, got, st.loads, logs.String())
		}
	}
}
