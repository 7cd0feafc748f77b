package delivery_test

import (
	"encoding/json"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

func TestView(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		s            *hook.DeliverySettings
		defaultProxy string
		want         string // the view as JSON; "null" for nil
	}{
		{"nothing", nil, "", `null`},
		{"zero", &hook.DeliverySettings{}, "", `null`},
		{"zero direct default", &hook.DeliverySettings{}, "direct", `null`},
		{"default proxy only", nil, "http://u:pw@egress:3128", `{"proxy":"http://u:xxxxx@egress:3128 (from [delivery] proxy)"}`},
		{"opts out", &hook.DeliverySettings{Proxy: "direct"}, "http://egress:3128", `{"proxy":"direct (not [delivery] proxy)"}`},
		{"direct without default", &hook.DeliverySettings{Proxy: "direct"}, "", `{"proxy":"direct"}`},
		{"own proxy", &hook.DeliverySettings{Proxy: "https://egress:443"}, "http://other:3128", `{"proxy":"https://egress:443"}`},
		{"everything", &hook.DeliverySettings{
			Headers:        map[string]hook.Secret{"X-Tenant": lit("acme-secret"), "Authorization": file("hook.token")},
			Signing:        "standard-webhooks",
			SigningSecrets: []hook.Secret{file("old.txt"), lit(testSecret), file("new.txt")},
			SigningKey:     "swh.pem",
			TLS:            hook.TLSSettings{ClientCert: "c.pem", ClientKey: "c.key", CA: "ca.pem"},
			Filter: hook.EventFilter{
				Events: []string{"NEWSESSION", "ISL_CP.*"},
				Where:  map[string]hook.Values{"reasonSoftwareType": {"!ISL Light"}, "DOMAIN_ID": {"1", "42", "!7"}},
			},
			RateLimit: 2.5, OrderedBy: "SESSIONID",
		}, "", `{"headers":["Authorization (from file hook.token)","X-Tenant"],` +
			`"signing":"standard-webhooks: v1 with 3 secrets (rotation) from files old.txt, new.txt, v1a with the Ed25519 key in swh.pem",` +
			`"tls":"client certificate c.pem, key c.key; CA ca.pem",` +
			`"filter":"events NEWSESSION, ISL_CP.*; DOMAIN_ID in [\"1\" \"42\"]; DOMAIN_ID not in [\"7\"]; reasonSoftwareType not in [\"ISL Light\"]",` +
			`"rate_limit":"2.5/s, burst 1","ordered_by":"SESSIONID"}`},
		{"one secret", &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}, RateLimit: 50, Burst: 10},
			"", `{"signing":"standard-webhooks: v1 with 1 secret","rate_limit":"50/s, burst 10"}`},
		{"ca only", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "ca.pem"}}, "", `{"tls":"CA ca.pem"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(delivery.View(tc.s, tc.defaultProxy))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("View:\n got %s\nwant %s", b, tc.want)
			}
		})
	}
}
