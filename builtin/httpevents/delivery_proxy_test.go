package httpevents_test

import (
	"net/url"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/outbound/outboundtest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
)

// TestDefaultProxy (issue 18): [delivery] proxy carries the global
// script's requests and those of a domain without settings of its own
// (the shared, guarded client; the proxy on loopback is allowed by
// allow_private), while a domain with proxy = "direct" goes around it.
func TestDefaultProxy(t *testing.T) {
	t.Parallel()
	proxy := outboundtest.NewProxy(t, outboundtest.ProxyOptions{})
	global, d7, d8 := deliverytest.NewReceiver(t, nil), deliverytest.NewReceiver(t, nil), deliverytest.NewReceiver(t, nil)
	host := func(r *deliverytest.Receiver) string { u, _ := url.Parse(r.URL); return u.Host }

	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+`proxy = "`+proxy.URL.String()+`"
[http_events]
global = true
global_server = "`+host(global)+`"
per_domain = true
allow_private = ["127.0.0.0/8"]

[[domain]]
id = "7"
script = "`+d7.URL+`/seven"
[domain.delivery]
rate_limit = 1000

[[domain]]
id = "8"
script = "`+d8.URL+`/eight"
[domain.delivery]
proxy = "direct"
`, testruntime.Options{})
	for _, domain := range []string{"7", "8"} {
		if _, err := rt.Emit(t.Context(), event(domain, "NEWSESSION")); err != nil {
			t.Fatal(err)
		}
	}
	obs.Wait(t, "four deliveries", func(o []hook.Observation) bool { return hooktest.Count(o, hook.StateDelivered, "") == 4 })
	if n := proxy.Tunnels(host(global)); n == 0 {
		t.Error("global script: no tunnel; want its requests through the proxy")
	}
	if n := proxy.Tunnels(host(d7)); n != 1 {
		t.Errorf("domain 7 (no proxy of its own): %d tunnels; want 1", n)
	}
	if n := proxy.Tunnels(host(d8)); n != 0 {
		t.Errorf("domain 8 (proxy = \"direct\"): %d tunnels; want none", n)
	}
	if len(global.Requests()) != 2 || len(d7.Requests()) != 1 || len(d8.Requests()) != 1 {
		t.Errorf("requests: global %d, 7 %d, 8 %d; want 2, 1, 1", len(global.Requests()), len(d7.Requests()), len(d8.Requests()))
	}
}
