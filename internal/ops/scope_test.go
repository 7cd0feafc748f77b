package ops_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// twoDomains opens a real runtime on a SQLite file with domains 5 and 6,
// whose scripts answer 500: with a 2h retry and a 1h maximum age, each
// delivery is dead after its first attempt. It emits, for each domain, one
// event of the shared session s-1, and for domain 6 one of session s-6,
// and waits until all four are dead.
func twoDomains(t *testing.T, st hookrt.StoreConfig) *hookrt.Runtime {
	t.Helper()
	d5 := hooktest.NewReceiver(t, hooktest.Status(http.StatusInternalServerError, "down"))
	d6 := hooktest.NewReceiver(t, hooktest.Status(http.StatusInternalServerError, "down"))
	rt, obs := testruntime.Open(t, fmt.Sprintf(`%s%sallow_private = ["127.0.0.0/8"]
[[domain]]
id = "5"
script = %q
[[domain]]
id = "6"
script = %q
`, testruntime.DeadAtOnce, testruntime.PerDomainEvents, d5.URL, d6.URL), testruntime.Options{Store: &st})
	for _, ev := range []map[string]string{
		{"DOMAIN_ID": "5", "SESSIONID": "s-1", "EVENT": "START"},
		{"DOMAIN_ID": "6", "SESSIONID": "s-1", "EVENT": "START"},
		{"DOMAIN_ID": "6", "SESSIONID": "s-6", "EVENT": "START"},
		{"DOMAIN_ID": "5", "SESSIONID": "s-5", "EVENT": "STOP"},
	} {
		ev["MODULE"] = "ISL_LIGHT"
		if _, err := rt.Emit(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	obs.Wait(t, "four dead deliveries", func(o []hook.Observation) bool { return hooktest.Count(o, hook.StateDead, "") == 4 })
	return rt
}

// TestScope: a domain's owner sees and acts on its own target's
// deliveries only; everything of another domain is "not found", exactly
// as what does not exist, and is left unchanged. The operator sees all.
// On SQLite and PostgreSQL.
func TestScope(t *testing.T) {
	t.Parallel()
	teststore.EachStore(t, testScope)
}

func testScope(t *testing.T, st hookrt.StoreConfig) {
	rt := twoDomains(t, st)
	ctx := t.Context()
	o := ops.New(rt, ops.Options{Config: func() ([]byte, error) { return []byte("[store]\n"), nil }})
	op, five := o.Scope(hook.Operator()), o.Scope(hook.Principal{Domain: "5", TokenID: "dt_1", TokenName: "ci"})
	t5, t6 := ops.DomainTarget("5"), ops.DomainTarget("6")
	if five.Target() != t5 || op.Target() != "" {
		t.Fatalf("targets %q %q", five.Target(), op.Target())
	}

	all, err := op.Deliveries(ctx, hook.DeliveryFilter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("the operator sees %d deliveries (%v), want 4", len(all), err)
	}
	var mine, theirs int64
	for _, d := range all {
		if d.Target == t5 {
			mine = d.ID
		} else {
			theirs = d.ID
		}
	}
	ds, err := five.Deliveries(ctx, hook.DeliveryFilter{State: hook.StateDead})
	if err != nil || len(ds) != 2 || ds[0].Target != t5 || ds[1].Target != t5 {
		t.Errorf("domain 5 lists %+v, %v; want its two", ds, err)
	}
	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, hook.ErrNotFound) {
			t.Errorf("%s: %v, want not found", what, err)
		}
	}
	_, err = five.Deliveries(ctx, hook.DeliveryFilter{Target: t6})
	notFound("list of domain 6's target", err)
	_, err = five.Delivery(ctx, theirs)
	notFound("domain 6's delivery", err)
	_, err = five.Delivery(ctx, 999999)
	notFound("an unknown delivery", err)
	notFound("retry of domain 6's delivery", five.Retry(ctx, theirs, true))
	notFound("discard of domain 6's delivery", five.Discard(ctx, theirs))
	_, err = five.Replay(ctx, hook.DeliveryFilter{State: hook.StateDead, Target: t6}, false)
	notFound("replay of domain 6's target", err)
	if d, err := op.Delivery(ctx, theirs); err != nil || d.State != hook.StateDead {
		t.Errorf("domain 6's delivery changed: %+v, %v", d, err)
	}

	if d, err := five.Delivery(ctx, mine); err != nil || d.Target != t5 || d.Event["DOMAIN_ID"] != "5" {
		t.Errorf("its own delivery: %+v, %v", d, err)
	}
	if err := five.Discard(ctx, mine); err != nil {
		t.Errorf("discard its own: %v", err)
	}
	n, err := five.Replay(ctx, hook.DeliveryFilter{State: hook.StateDead}, false)
	if err != nil || n != 1 {
		t.Errorf("replay of its dead deliveries: %d, %v; want 1 (the other dead ones are domain 6's)", n, err)
	}
	if ds, _ := op.Deliveries(ctx, hook.DeliveryFilter{Target: t6, State: hook.StateDead}); len(ds) != 2 {
		t.Errorf("domain 6 has %d dead deliveries left, want 2", len(ds))
	}

	evs, err := five.SessionEvents(ctx, "s-1")
	if err != nil || len(evs) != 1 || evs[0].Fields["DOMAIN_ID"] != "5" || len(evs[0].Targets) != 1 || evs[0].Targets[0].Target != t5 {
		t.Errorf("the shared session, as domain 5: %+v, %v", evs, err)
	}
	if evs, err := op.SessionEvents(ctx, "s-1"); err != nil || len(evs) != 2 {
		t.Errorf("the shared session, as the operator: %d events, %v", len(evs), err)
	}
	_, err = five.SessionEvents(ctx, "s-6")
	notFound("domain 6's session", err)
	_, err = five.SessionEvents(ctx, "none")
	notFound("a session that does not exist", err)

	if ts, err := five.Targets(ctx); err != nil || len(ts) != 1 || ts[0].Name != t5 {
		t.Errorf("domain 5's targets: %+v, %v", ts, err)
	}
	if names, err := five.TargetNames(ctx, t6); err != nil || len(names) != 1 {
		t.Errorf("domain 5's target menu: %q, %v", names, err)
	}
	if ts, _ := op.Targets(ctx); len(ts) != 2 {
		t.Errorf("the operator sees %d targets, want 2", len(ts))
	}
	_, err = five.Stats()
	notFound("stats", err)
	_, err = five.Config()
	notFound("config", err)
	if b, err := op.Config(); err != nil || string(b) != "[store]\n" {
		t.Errorf("the operator's config: %q, %v", b, err)
	}
	if st, err := op.Stats(); err != nil || st.Interval != ops.StatsInterval {
		t.Errorf("the operator's stats: %+v, %v", st, err)
	}
	// A domain whose target this node does not run (nothing stored yet):
	// nothing of its to replay, and no error names the targets it does
	// run (the engine's not-found lists them).
	seven := o.Scope(hook.Principal{Domain: "7"})
	if n, err := seven.Replay(ctx, hook.DeliveryFilter{State: hook.StateDead}, false); n != 0 || err != nil {
		t.Errorf("replay for a domain without a target: %d, %v", n, err)
	}
	if ds, err := seven.Deliveries(ctx, hook.DeliveryFilter{}); len(ds) != 0 || (err != nil && strings.Contains(err.Error(), t5)) {
		t.Errorf("list for a domain without a target: %+v, %v", ds, err)
	}
	if _, err := seven.Delivery(ctx, mine); err == nil || strings.Contains(err.Error(), t5) {
		t.Errorf("domain 5's delivery, asked by domain 7: %v", err)
	}

	if ps := five.Plugins(); len(ps) != 0 {
		t.Errorf("plugins: %+v", ps)
	}
}
