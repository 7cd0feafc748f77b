package httpevents_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
)

// TestDeliverySettings (issue 18): [http_events.delivery] reaches the
// global script's requests and a [[domain]]'s delivery table its
// script's: headers from files in the private directory, Standard
// Webhooks signatures by each target's own secret (webhook-id the
// event's id); a domain without a table gets neither (its client is the
// shared one); the global script's filter keeps the events of other
// domains from creating a delivery at all.
func TestDeliverySettings(t *testing.T) {
	t.Parallel()
	dir, priv := deliverytest.PrivateDir(t)
	deliverytest.WriteSecretFile(t, priv, "global.token", "Bearer global\n")
	deliverytest.WriteSecretFile(t, priv, "domain7.key", "key-of-7\n")
	globalSecret, globalMAC := deliverytest.Secret(t)
	domainSecret, domainMAC := deliverytest.Secret(t)
	global, d7, d8 := deliverytest.NewReceiver(t, nil), deliverytest.NewReceiver(t, nil), deliverytest.NewReceiver(t, nil)
	gu, _ := url.Parse(global.URL)

	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+`
[http_events]
global = true
global_server = "`+gu.Host+`"
global_path = "/global"
per_domain = true
allow_private = ["127.0.0.0/8"]
[http_events.delivery]
headers = { Authorization = { file = "global.token" } }
signing = "standard-webhooks"
signing_secrets = ["`+globalSecret+`"]
filter = { where = { DOMAIN_ID = "3" } }

[[domain]]
id = "7"
script = "`+d7.URL+`/seven"
[domain.delivery]
headers = { "X-Domain-Key" = { file = "domain7.key" } }
signing = "standard-webhooks"
signing_secrets = ["`+domainSecret+`"]

[[domain]]
id = "8"
script = "`+d8.URL+`/eight"
`, testruntime.Options{Dir: dir})

	emit := func(domain string) string {
		t.Helper()
		id, err := rt.Emit(t.Context(), event(domain, "NEWSESSION"))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	deliverytest.EmitFiltered(t, rt, event("4", "NEWSESSION"), httpevents.GlobalTarget)
	g, e7, e8 := emit("3"), emit("7"), emit("8")
	obs.Wait(t, "three deliveries", func(o []hook.Observation) bool { return hooktest.Count(o, hook.StateDelivered, "") == 3 })

	gr := global.Requests()
	if len(gr) != 1 || gr[0].Path != "/global" {
		t.Fatalf("global script got %d requests (%+v); want the DOMAIN_ID 3 event only", len(gr), gr)
	}
	if got := gr[0].Header.Get("Authorization"); got != "Bearer global" {
		t.Errorf("global: Authorization %q; want the file's line", got)
	}
	deliverytest.CheckSigned(t, gr[0], globalMAC, g)

	r7 := d7.Wait(t, 1)[0]
	if got := r7.Header.Get("X-Domain-Key"); got != "key-of-7" {
		t.Errorf("domain 7: X-Domain-Key %q; want the file's line", got)
	}
	if r7.Header.Get("Authorization") != "" {
		t.Error("domain 7 got the global script's header")
	}
	deliverytest.CheckSigned(t, r7, domainMAC, e7)

	r8 := d8.Wait(t, 1)[0]
	if r8.Header.Get("X-Domain-Key") != "" || r8.Header.Get("webhook-signature") != "" || r8.Header.Get("X-Event-Id") != e8 {
		t.Errorf("domain 8 (no delivery table) got headers %v; want none of another target's", r8.Header)
	}
}

// TestDomainClientKeepsGuard: a domain whose delivery settings give it a
// client of its own still has the SSRF guard: a loopback script not in
// allow_private is refused, for good, and nothing reaches it.
func TestDomainClientKeepsGuard(t *testing.T) {
	t.Parallel()
	e, err := provision(t, nil, nil) // per_domain, no allow_private
	if err != nil {
		t.Fatal(err)
	}
	rcv := deliverytest.NewReceiver(t, nil)
	d := httpevents.Domain{ID: "9", Script: rcv.URL, Delivery: hook.DeliverySettings{Headers: map[string]hook.Secret{"X-Key": {Value: "k"}}}}
	if err := (&httpevents.Domains{d}).Validate(); err != nil {
		t.Fatal(err)
	}
	tg, closeIt, err := e.BuildDomain(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer closeIt(context.Background())
	if tg.Delivery == nil || tg.Delivery.Headers["X-Key"].Value != "k" {
		t.Errorf("target delivery %+v; want the domain's", tg.Delivery)
	}
	ev, err := hook.NewEvent(event("9", "NEWSESSION"), time.Now(), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Handler.Handle(context.Background(), ev)
	if !errors.Is(err, outbound.ErrRefused) || !hook.IsPermanent(err) {
		t.Errorf("Handle = %v; want the guard's permanent refusal", err)
	}
	if n := len(rcv.Requests()); n != 0 {
		t.Errorf("the loopback script got %d requests", n)
	}
}

// TestDomainDeliveryValidate: a [[domain]]'s bad delivery table is
// refused by Validate, naming the domain and the key; a plugin refuses
// the HTTP settings it cannot apply; ordered_by is refused with
// combine_interval, the domain's own (Validate) or inherited (BuildDomain).
func TestDomainDeliveryValidate(t *testing.T) {
	t.Parallel()
	combine := hook.Duration(time.Second)
	for _, tc := range []struct {
		d    httpevents.Domain
		want string
	}{
		{httpevents.Domain{ID: "7", Script: "https://a.example/", Delivery: hook.DeliverySettings{Headers: map[string]hook.Secret{"Host": {Value: "x"}}}},
			`[[domain]] id "7": delivery: headers."Host": `},
		{httpevents.Domain{ID: "7", Script: "https://a.example/", Delivery: hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{""}}}},
			`[[domain]] id "7": delivery: filter`},
		{httpevents.Domain{ID: "7", Script: "guard.wasm", Delivery: hook.DeliverySettings{Headers: map[string]hook.Secret{"X-Key": {Value: "k"}}}},
			`[[domain]] id "7": delivery: headers: applies to a URL script`},
		{httpevents.Domain{ID: "7", Script: "https://a.example/", CombineInterval: &combine, Delivery: hook.DeliverySettings{OrderedBy: "SESSIONID"}},
			`[[domain]] id "7": delivery: ordered_by: `},
	} {
		err := (&httpevents.Domains{tc.d}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q", tc.d.Delivery, err, tc.want)
		}
	}
	// [http_events] combine_interval, inherited by the domain: BuildDomain.
	e, err := provision(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.CombineInterval = combine
	_, _, err = e.BuildDomain(context.Background(), httpevents.Domain{ID: "7", Script: "https://a.example/", Delivery: hook.DeliverySettings{OrderedBy: "SESSIONID"}})
	if err == nil || !strings.Contains(err.Error(), `[[domain]] id "7": delivery: ordered_by: `) {
		t.Errorf("BuildDomain with an inherited combine_interval: %v; want delivery: ordered_by refused", err)
	}
	// [http_events.delivery] is the global script's: without it, refused.
	_, err = parse(t, "[http_events]\nper_domain = true\n[http_events.delivery]\nheaders = { \"X-Key\" = \"k\" }\n")
	if err == nil || !strings.Contains(err.Error(), "[http_events]: delivery: is the global script's (global = true), which is off") {
		t.Errorf("per_domain only: %v; want the table refused, pointing at [domain.delivery]", err)
	}
	// The global script: [http_events] refuses its own table's problems.
	_, err = parse(t, "[http_events]\nglobal = true\nglobal_server = \"localhost:8080\"\ncombine_interval = \"1s\"\n[http_events.delivery]\nordered_by = \"SESSIONID\"\nburst = 2\n")
	if err == nil || !strings.Contains(err.Error(), "[http_events]: delivery: ordered_by: ") || !strings.Contains(err.Error(), "[http_events]: delivery: burst: ") {
		t.Errorf("global: %v; want delivery: ordered_by and delivery: burst refused", err)
	}
}
