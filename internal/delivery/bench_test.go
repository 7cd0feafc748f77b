package delivery_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// BenchmarkPrepare is what a target's delivery settings add to one
// attempt, beyond the request itself: the headers set, the body read back
// through GetBody and signed. A 1 KiB body, the size of a typical HTTP
// event form.
func BenchmarkPrepare(b *testing.B) {
	p := newPrivate(b)
	_, keyPEM := deliverytest.KeyPEM(b)
	p.write("swh.pem", keyPEM, 0o600)
	body := bytes.Repeat([]byte("x"), 1<<10)
	for _, bc := range []struct {
		name string
		s    hook.DeliverySettings
	}{
		{"headers", hook.DeliverySettings{Headers: map[string]hook.Secret{"Authorization": lit("Bearer x"), "X-Tenant": lit("acme")}}},
		{"v1", hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret)}}},
		{"v1x2", hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret), lit(testSecret2)}}},
		{"v1a", hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "swh.pem"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := delivery.Build(&bc.s, p.env())
			if err != nil {
				b.Fatal(err)
			}
			prepare := h.Options(outbound.Options{}).Prepare
			req, _ := http.NewRequest(http.MethodPost, "http://receiver.example/", bytes.NewReader(body))
			req.Header.Set("X-Event-Id", "0190b8d6-5c6a-7f3e-9d1c-2b7a4e8f1a2b")
			b.ReportAllocs()
			for b.Loop() {
				r := *req
				r.Header = req.Header.Clone()
				if err := prepare(&r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
