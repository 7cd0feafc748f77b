package jwtwebhook_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
)

// TestDeliverySettings (issue 18): [jwt_webhook.delivery] reaches the
// webhook's requests: a header read from a file in the private directory
// (its trailing newline trimmed), a literal one, a Standard Webhooks
// signature whose webhook-id is the event's id; and its filter keeps an
// event of another domain from creating a delivery at all.
func TestDeliverySettings(t *testing.T) {
	t.Parallel()
	dir, priv := deliverytest.PrivateDir(t)
	deliverytest.WriteKey(t, priv, "jwt.pem")
	deliverytest.WriteSecretFile(t, priv, "hook.token", "Bearer from-a-file\n")
	whsec, mac := deliverytest.Secret(t)
	rcv := deliverytest.NewReceiver(t, nil)

	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+`
[jwt_webhook]
url = "`+rcv.URL+`/hook"
private_key = "jwt.pem"
[jwt_webhook.events]
user_create = true
[jwt_webhook.delivery]
headers = { Authorization = { file = "hook.token" }, "X-Tenant" = "acme" }
signing = "standard-webhooks"
signing_secrets = ["`+whsec+`"]
filter = { where = { DOMAIN_ID = "3" } }
`, testruntime.Options{Dir: dir})

	deliverytest.EmitFiltered(t, rt, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "4", "USERNAME": "bob"}, "")
	id, err := rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": "ann"})
	if err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the webhook delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, jwtwebhook.ID) == 1
	})
	reqs := rcv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests; want 1 (the other domain's event filtered out)", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get("Authorization"); got != "Bearer from-a-file" {
		t.Errorf("Authorization %q; want the file's line", got)
	}
	if got := r.Header.Get("X-Tenant"); got != "acme" {
		t.Errorf("X-Tenant %q", got)
	}
	deliverytest.CheckSigned(t, r, mac, id)
}

// TestDeliveryValidate: a bad delivery table is refused at load, each
// problem naming its key under [jwt_webhook]; a file that is missing is
// refused when the module is provisioned (Open, and `hookd check`).
func TestDeliveryValidate(t *testing.T) {
	t.Parallel()
	const base = "[jwt_webhook]\nurl = \"https://h.example/\"\nprivate_key = \"k.pem\"\n[jwt_webhook.events]\nuser_create = true\n[jwt_webhook.delivery]\n"
	for _, tc := range []struct{ table, want string }{
		{`headers = { Connection = "close" }`, `[jwt_webhook]: delivery: headers."Connection": `},
		{`headers = { "X-Event-Id" = "x" }`, `[jwt_webhook]: delivery: headers."X-Event-Id": `},
		{`signing = "standard-webhooks"`, `[jwt_webhook]: delivery: signing`},
		{`burst = 5`, `[jwt_webhook]: delivery: burst: `},
		{`proxy = "socks5://p:1080"`, `[jwt_webhook]: delivery: proxy: `},
		{"rate_limit = -1\nordered_by = \"no such\"", `[jwt_webhook]: delivery: rate_limit: `},
	} {
		_, err := parse(t, base+tc.table)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.table, err, tc.want)
		}
	}
	// Two problems: two lines, each with its prefix.
	_, err := parse(t, base+"rate_limit = -1\nordered_by = \"no such\"")
	if err == nil || strings.Count(err.Error(), "[jwt_webhook]: delivery: ") != 2 {
		t.Errorf("two problems: %v; want two lines naming delivery: rate_limit and delivery: ordered_by", err)
	}
	if _, err := parse(t, base+`headers = { Authorization = { file = "tok" } }`); err != nil {
		t.Errorf("a header from a file: %v", err)
	}
}
