package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTargetsListDelivery: below the targets table, hookd targets list
// shows each target's delivery settings that the API answers, one
// setting a line in the server's words, control characters escaped;
// a target without settings gets no block.
func TestTargetsListDelivery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/targets" || r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":"no"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"targets":[
{"name":"jwt_webhook","state":"enabled","breaker":"closed","in_flight":0,"pending":0,
 "delivery":{"headers":["Authorization (from file hook.token)","X-Tenant"],
  "signing":"standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem",
  "tls":"client certificate client.pem (CN=hookd)","proxy":"http://egress:3128",
  "filter":"events NEWSESSION\u001b[2J","rate_limit":"50/s, burst 10: 25/s on this node of 2","ordered_by":"SESSIONID"}},
{"name":"http_events.global","state":"enabled","breaker":"closed","in_flight":0,"pending":0}]}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("HOOKD_TOKEN", "s3cret")
	out, _ := mustHookd(t, "targets", "list", "-addr", srv.URL)
	want := `
delivery of jwt_webhook:
  headers     Authorization (from file hook.token), X-Tenant
  signing     standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem
  tls         client certificate client.pem (CN=hookd)
  proxy       http://egress:3128
  filter      events NEWSESSION\u001b[2J
  rate_limit  50/s, burst 10: 25/s on this node of 2
  ordered_by  SESSIONID
`
	if !strings.HasSuffix(out, want) {
		t.Errorf("targets list:\n%s\nwant it to end with:%s", out, want)
	}
	if strings.Contains(out, "delivery of http_events.global") {
		t.Errorf("a target without delivery settings has a block:\n%s", out)
	}
	// -json is the API's answer as it came: the view included.
	out, _ = mustHookd(t, "targets", "list", "-addr", srv.URL, "-json")
	if !strings.Contains(out, `"ordered_by": "SESSIONID"`) && !strings.Contains(out, `"ordered_by":"SESSIONID"`) {
		t.Errorf("targets list -json lacks the delivery view:\n%s", out)
	}
}
