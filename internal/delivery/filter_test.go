package delivery_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

func ev(fields ...string) *hook.Event {
	m := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i]] = fields[i+1]
	}
	return &hook.Event{ID: "e1", Fields: m}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	var (
		newSession  = ev("MODULE", "ISL_LIGHT", "EVENT", "NEWSESSION", "DOMAIN_ID", "42", "reasonSoftwareType", "ISL Light")
		newSpaced   = ev("MODULE", "ISL_LIGHT", "EVENT", "NEW SESSION", "DOMAIN_ID", "1")
		sessionEnd  = ev("MODULE", "ISL_LIGHT", "EVENT", "SESSION_END", "DOMAIN_ID", "7")
		userCreate  = ev("MODULE", "ISL_CP", "EVENT", "USER_CREATE", "DOMAIN_ID", "42")
		noDomain    = ev("MODULE", "ISL_CP", "EVENT", "USER_CREATE")
		otherModule = ev("MODULE", "ISL_GROOP", "EVENT", "NEWSESSION", "DOMAIN_ID", "42")
	)
	all := []*hook.Event{newSession, newSpaced, sessionEnd, userCreate, noDomain, otherModule}
	for _, tc := range []struct {
		name string
		f    hook.EventFilter
		want []*hook.Event // the events kept, of all
	}{
		{"by name", hook.EventFilter{Events: []string{"NEWSESSION"}}, []*hook.Event{newSession, newSpaced, otherModule}},
		{"alias in config", hook.EventFilter{Events: []string{"NEW SESSION"}}, []*hook.Event{newSession, newSpaced, otherModule}},
		{"module wildcard", hook.EventFilter{Events: []string{"ISL_CP.*"}}, []*hook.Event{userCreate, noDomain}},
		{"module and name", hook.EventFilter{Events: []string{"ISL_LIGHT.NEWSESSION"}}, []*hook.Event{newSession, newSpaced}},
		{"module and alias", hook.EventFilter{Events: []string{"ISL_LIGHT.NEW SESSION"}}, []*hook.Event{newSession, newSpaced}},
		{"any of several", hook.EventFilter{Events: []string{"SESSION_END", "ISL_CP.*"}}, []*hook.Event{sessionEnd, userCreate, noDomain}},
		{"where in", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"1", "42"}}}, []*hook.Event{newSession, newSpaced, userCreate, otherModule}},
		{"where not", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"!42"}}}, []*hook.Event{newSpaced, sessionEnd, noDomain}},
		{"where present", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"!"}}}, []*hook.Event{newSession, newSpaced, sessionEnd, userCreate, otherModule}},
		{"where missing", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {""}}}, []*hook.Event{noDomain}},
		{"where in and not", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"42", "7", "!1"}}}, []*hook.Event{newSession, sessionEnd, userCreate, otherModule}},
		{"all conditions", hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"42"}, "reasonSoftwareType": {"ISL Light"}}}, []*hook.Event{newSession}},
		{"names and where", hook.EventFilter{Events: []string{"NEWSESSION"}, Where: map[string]hook.Values{"DOMAIN_ID": {"42"}}}, []*hook.Event{newSession, otherModule}},
		{"case-sensitive", hook.EventFilter{Events: []string{"newsession"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keep, err := delivery.Filter(&hook.DeliverySettings{Filter: tc.f})
			if err != nil {
				t.Fatal(err)
			}
			var got []*hook.Event
			for _, e := range all {
				if keep(e) {
					got = append(got, e)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("kept %d events %v, want %d %v", len(got), names(got), len(tc.want), names(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("kept %v, want %v", names(got), names(tc.want))
				}
			}
		})
	}
}

func names(evs []*hook.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Module()+"."+e.Get("EVENT")+"/"+e.DomainID())
	}
	return out
}

func TestFilterNone(t *testing.T) {
	t.Parallel()
	for _, s := range []*hook.DeliverySettings{nil, {}, {RateLimit: 5, Headers: map[string]hook.Secret{"X-A": lit("1")}}} {
		keep, err := delivery.Filter(s)
		if keep != nil || err != nil {
			t.Errorf("Filter(%+v) = %v, %v; want nil, nil (no filter costs nothing)", s, keep != nil, err)
		}
	}
}

func TestFilterInvalid(t *testing.T) {
	t.Parallel()
	// Only the filter's own keys: a bad header is Validate's business.
	_, err := delivery.Filter(&hook.DeliverySettings{
		Headers: map[string]hook.Secret{"Host": lit("x")},
		Filter:  hook.EventFilter{Events: []string{"A.B.C"}, Where: map[string]hook.Values{"X": nil}},
	})
	if err == nil || !strings.Contains(err.Error(), `filter.events[0]: "A.B.C" has two dots`) ||
		!strings.Contains(err.Error(), `filter.where."X": no values`) || strings.Contains(err.Error(), "Host") {
		t.Errorf("Filter error: %v", err)
	}
}

func TestFilterAllocs(t *testing.T) {
	keep, err := delivery.Filter(&hook.DeliverySettings{Filter: hook.EventFilter{
		Events: []string{"NEWSESSION", "ISL_CP.*", "ISL_LIGHT.SESSION_END"},
		Where:  map[string]hook.Values{"DOMAIN_ID": {"1", "42", "!7"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := ev("MODULE", "ISL_LIGHT", "EVENT", "SESSION_END", "DOMAIN_ID", "42")
	if n := testing.AllocsPerRun(100, func() { keep(e) }); n != 0 {
		t.Errorf("the filter allocates %v times per event, want 0", n)
	}
}

func BenchmarkFilter(b *testing.B) {
	keep, err := delivery.Filter(&hook.DeliverySettings{Filter: hook.EventFilter{
		Events: []string{"NEWSESSION", "ISL_CP.*", "ISL_LIGHT.SESSION_END"},
		Where:  map[string]hook.Values{"DOMAIN_ID": {"1", "42", "!7"}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	e := ev("MODULE", "ISL_LIGHT", "EVENT", "SESSION_END", "DOMAIN_ID", "42")
	for b.Loop() {
		keep(e)
	}
}
