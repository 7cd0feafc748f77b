package delivery_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

func TestCheckOwner(t *testing.T) {
	t.Parallel()
	literal := &hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"Authorization": lit("Bearer x")},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{lit(testSecret)},
		Filter:         hook.EventFilter{Events: []string{"NEWSESSION"}},
		RateLimit:      5, OrderedBy: "SESSIONID",
	}
	for _, s := range []*hook.DeliverySettings{nil, {}, literal} {
		if err := delivery.CheckOwner(s); err != nil {
			t.Errorf("CheckOwner(%+v): %v", s, err)
		}
	}
	err := delivery.CheckOwner(&hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"Authorization": file("operator.token"), "X-A": lit("ok")},
		SigningSecrets: []hook.Secret{lit(testSecret), file("whsec.txt")},
		SigningKey:     "swh.pem",
		TLS:            hook.TLSSettings{ClientCert: "c.pem", ClientKey: "c.key", CA: "ca.pem"},
		Proxy:          "direct",
	})
	if err == nil {
		t.Fatal("CheckOwner: nil, want refusals")
	}
	want := []string{
		`headers."Authorization": a domain token may not name files`,
		`signing_secrets[1]: a domain token may not name files`,
		`signing_key: a domain token`, `tls.client_cert: a domain token`, `tls.client_key: a domain token`, `tls.ca: a domain token`,
		`proxy: a domain token may not set the egress proxy`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("CheckOwner: %d problems %q, want %d", len(lines), err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d: %q, want it to start %q", i, lines[i], w)
		}
	}
}
