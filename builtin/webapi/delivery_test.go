package webapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
)

// TestDeliverySettings (issue 18): [webapi.delivery] reaches the
// notifications and, its HTTP part, the synchronous sign-up calls to the
// same service: a header from a file in the private directory and a
// Standard Webhooks signature on both (a notification's webhook-id is
// its event's id); its filter keeps an event of another domain from
// creating a notification at all.
func TestDeliverySettings(t *testing.T) {
	t.Parallel()
	dir, priv := deliverytest.PrivateDir(t)
	deliverytest.WriteSecretFile(t, priv, "webapi.token", "Bearer from-a-file\n")
	whsec, mac := deliverytest.Secret(t)
	rcv := deliverytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result": {"code": "ok"}}`)
	})
	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+`
[webapi]
url = "`+rcv.URL+`/webapi"
signup = true
notification = true
notification_params = '"userName": {{name}}'
[webapi.delivery]
headers = { Authorization = { file = "webapi.token" } }
signing = "standard-webhooks"
signing_secrets = ["`+whsec+`"]
filter = { where = { DOMAIN_ID = "3" } }
`, testruntime.Options{Dir: dir})

	deliverytest.EmitFiltered(t, rt, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "4", "USERNAME": "bob"}, "")
	id, err := rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": "ann"})
	if err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the notification delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, webapi.NotificationTarget) == 1
	})
	if res, err := rt.Signup(t.Context(), webapi.SignupRequest{Username: "cy", Domain: "3"}); err != nil || res.Outcome != webapi.Allowed {
		t.Fatalf("Signup = %+v, %v; want allowed", res, err)
	}
	reqs := rcv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want the notification and the sign-up call", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer from-a-file" {
			t.Errorf("request %d: Authorization %q; want the file's line", i, got)
		}
	}
	deliverytest.CheckSigned(t, reqs[0], mac, id)
	deliverytest.CheckSigned(t, reqs[1], mac, "") // a call has no event: a fresh id
}

// TestDeliveryValidate: a bad [webapi.delivery] is refused by Validate,
// each problem naming its key; a missing file stops Provision.
func TestDeliveryValidate(t *testing.T) {
	t.Parallel()
	s := &webapi.Service{URL: "https://accounts.example/webapi", UseSignup: true, Delivery: &hook.DeliverySettings{
		Headers: map[string]hook.Secret{"User-Agent": {Value: "me"}}, SigningSecrets: []hook.Secret{{File: "whsec.txt"}}}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), `delivery: headers."User-Agent": `) || !strings.Contains(err.Error(), "delivery: signing") {
		t.Errorf("Validate = %v; want delivery: headers.\"User-Agent\" and delivery: signing…", err)
	}
	s = &webapi.Service{URL: "https://accounts.example/webapi", UseSignup: true, Delivery: &hook.DeliverySettings{RateLimit: 5}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "delivery: filter, rate_limit, burst and ordered_by apply to the notifications, and notification is off") {
		t.Errorf("a rate limit without notifications: %v; want it refused", err)
	}
	s = &webapi.Service{URL: "https://accounts.example/webapi", UseSignup: true, Delivery: &hook.DeliverySettings{
		TLS: hook.TLSSettings{ClientCert: "client.pem", ClientKey: "client.key"}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	err = s.Provision(context.Background(), hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "delivery: tls") {
		t.Errorf("Provision = %v; want the missing client certificate named under delivery: tls", err)
	}
}
