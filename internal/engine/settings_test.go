package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/engine"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/storetest"
)

// TestDeliveryFilter: a target's delivery filter is ANDed with its Match
// when events are routed: an event either refuses gets no delivery at
// all (not a dead or discarded one), and the other targets are not
// affected.
func TestDeliveryFilter(t *testing.T) {
	ctx := context.Background()
	obs := hooktest.NewObservations()
	ok := hook.HandlerFunc(okHandler)
	filtered := hook.Target{Name: "filtered", Handler: ok,
		Match: func(ev *hook.Event) bool { return ev.Fields["TO"] != "nobody" },
		Delivery: &hook.DeliverySettings{Filter: hook.EventFilter{
			Events: []string{"TEST.*"},
			Where:  map[string]hook.Values{"DOMAIN_ID": {"1", "42"}},
		}}}
	e := openRated(t, storetest.SQLite(t), nil, obs, filtered, hook.Target{Name: "all", Handler: ok})
	events := []map[string]string{
		{"MODULE": "TEST", "EVENT": "E", "DOMAIN_ID": "42"},                // kept
		{"MODULE": "TEST", "EVENT": "E", "DOMAIN_ID": "7"},                 // where refuses
		{"MODULE": "OTHER", "EVENT": "E", "DOMAIN_ID": "1"},                // events refuses
		{"MODULE": "TEST", "EVENT": "E", "DOMAIN_ID": "1", "TO": "nobody"}, // Match refuses
	}
	ids, err := e.EmitMany(ctx, events)
	if err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "5 deliveries delivered", func(seen []hook.Observation) bool {
		return hooktest.Count(seen, hook.StateDelivered, "") >= 5
	})
	ds, err := e.DB().ListDeliveries(ctx, hook.DeliveryFilter{Target: "filtered"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].EventID != ids[0] {
		t.Fatalf("target filtered has deliveries %+v; want one, of event %s", ds, ids[0])
	}
	if all, err := e.DB().ListDeliveries(ctx, hook.DeliveryFilter{Target: "all"}); err != nil || len(all) != 4 {
		t.Fatalf("target all has %d deliveries (%v); want 4", len(all), err)
	}
}

// TestDeliverySettingsRefused: SetTargets and CheckTargets refuse a target
// whose delivery settings are invalid, naming the target and the key, and
// change nothing.
func TestDeliverySettingsRefused(t *testing.T) {
	ok := hook.HandlerFunc(okHandler)
	bad := []struct {
		name string
		s    hook.DeliverySettings
		want string
	}{
		{"filter", hook.DeliverySettings{Filter: hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {}}}}, `filter.where."DOMAIN_ID"`},
		{"rate", hook.DeliverySettings{RateLimit: -1}, "rate_limit"},
		{"burst", hook.DeliverySettings{Burst: 5}, "burst"},
	}
	e := openRated(t, storetest.SQLite(t), nil, hooktest.NewObservations(), hook.Target{Name: "x", Handler: ok})
	for _, c := range bad {
		tgt := hook.Target{Name: "x", Handler: ok, Delivery: &c.s}
		for what, err := range map[string]error{
			"CheckTargets": engine.CheckTargets([]hook.Target{tgt}),
			"SetTargets":   e.SetTargets(context.Background(), []hook.Target{tgt}, nil),
		} {
			if err == nil || !strings.Contains(err.Error(), `target "x"`) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %s of %+v = %v; want an error naming target \"x\" and %s", c.name, what, c.s, err, c.want)
			}
		}
	}
	if v := rateViewOf(t, e, "x"); v != nil {
		t.Errorf("target x has delivery settings %+v after refused changes; want none", v)
	}
	// ordered_by with a combined target is refused too.
	combined := hook.Target{Name: "x", Handler: batchOK{}, Policy: hook.Policy{Combine: 1e9},
		Delivery: &hook.DeliverySettings{OrderedBy: "SESSIONID"}}
	if err := engine.CheckTargets([]hook.Target{combined}); err == nil || !strings.Contains(err.Error(), "ordered_by") {
		t.Errorf("ordered_by on a combined target: %v; want refused", err)
	}
}

type batchOK struct{}

func (batchOK) Handle(context.Context, *hook.Event) (hook.Result, error) { return hook.Result{}, nil }
func (batchOK) HandleBatch(context.Context, []*hook.Event) (hook.Result, error) {
	return hook.Result{}, nil
}

// rateViewOf is target name's delivery view, nil when it has none.
func rateViewOf(t *testing.T, e *engine.Engine, name string) *hook.DeliveryView {
	t.Helper()
	sts, err := e.TargetStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Name == name {
			return st.Delivery
		}
	}
	t.Fatalf("no target %s in %+v", name, sts)
	return nil
}
