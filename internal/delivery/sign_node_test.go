package delivery_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/testsupport/nodetest"
)

// Signatures judged by the specification's own code, not hookd's: the npm
// packages standardwebhooks and svix for v1, Node's crypto for v1a (the
// libraries do not implement it). Skips without node/npm unless
// HOOKD_REQUIRE_NODE=1.

// signed is one request as Sign leaves it, as a nodetest.Check.
func signed(s *delivery.Signer, id string, at time.Time, body string) nodetest.Check {
	h := http.Header{}
	s.Sign(h, id, at, []byte(body))
	c := nodetest.Check{Headers: map[string]string{}, Body: body}
	for k := range h {
		c.Headers[k] = h.Get(k) // Go's canonical case (Webhook-Id): the libraries lower it
	}
	return c
}

func with(c nodetest.Check, secret, publicKey string, now int64) nodetest.Check {
	c.Secret, c.PublicKey, c.Now = secret, publicKey, now
	return c
}

func TestSignVerifiedByLibraries(t *testing.T) {
	old, cur, other := randomSecret(t, 24), randomSecret(t, 64), randomSecret(t, 32)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	wrongPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rotating, err := delivery.NewSigner([][]byte{old, cur}, key)
	if err != nil {
		t.Fatal(err)
	}
	onlyCur, err := delivery.NewSigner([][]byte{cur}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := "0193a0b4-7c1e-7d2f-9a8b-0123456789ab"
	body := `{"EVENT":"USER_CREATE","MODULE":"ISL_CP","USERNAME":"zoë@example.com","note":"a \"quoted\" line\nand ☃"}`
	big := `{"data":"` + strings.Repeat("x", 60<<10) + `"}`
	form := "EVENT=USER_CREATE&MODULE=ISL_CP&USERNAME=zo%C3%AB"
	xml := `<?xml version="1.0" encoding="UTF-8"?><event name="USER_CREATE"/>`
	formTampered := signed(rotating, id, now, form)
	formTampered.Body = strings.Replace(form, "CREATE", "DELETE", 1)

	good := signed(rotating, id, now, body)
	tampered := good
	tampered.Body = strings.Replace(body, "USER_CREATE", "USER_DELETE", 1)
	otherID := good
	otherID.Headers = map[string]string{"Webhook-Id": "another", "Webhook-Timestamp": good.Headers["Webhook-Timestamp"], "Webhook-Signature": good.Headers["Webhook-Signature"]}
	replayed := signed(rotating, id, now.Add(-6*time.Minute), body) // beyond the 5 minutes
	early := signed(rotating, id, now.Add(6*time.Minute), body)
	late := signed(rotating, id, now.Add(-4*time.Minute), body) // within them

	type tc struct {
		name   string
		check  nodetest.Check
		accept bool
	}
	cases := []tc{
		{"v1 with the old secret", with(good, whsec(old), "", 0), true},
		{"v1 with the new secret", with(good, whsec(cur), "", 0), true},
		{"v1 with the new secret, unpadded", with(good, strings.TrimRight(whsec(cur), "="), "", 0), true},
		{"v1 bare base64 secret", with(good, strings.TrimPrefix(whsec(old), "whsec_"), "", 0), true},
		{"v1a", with(good, "", delivery.PublicKey(pub), 0), true},
		{"v1 with a secret hookd does not have", with(good, whsec(other), "", 0), false},
		{"v1a with a wrong key", with(good, "", delivery.PublicKey(wrongPub), 0), false},
		{"tampered body, v1", with(tampered, whsec(cur), "", 0), false},
		{"tampered body, v1a", with(tampered, "", delivery.PublicKey(pub), 0), false},
		{"another webhook-id, v1", with(otherID, whsec(old), "", 0), false},
		{"another webhook-id, v1a", with(otherID, "", delivery.PublicKey(pub), 0), false},
		{"replayed 6 minutes later, v1", with(replayed, whsec(cur), "", 0), false},
		{"replayed 6 minutes later, v1a", with(replayed, "", delivery.PublicKey(pub), 0), false},
		{"timestamp 6 minutes ahead", with(early, whsec(old), delivery.PublicKey(pub), 0), false},
		{"4 minutes late, still within the tolerance", with(late, whsec(old), delivery.PublicKey(pub), 0), true},
		// The same request, seen by a clock 6 minutes on: a replay.
		{"the good request replayed by the clock", with(good, whsec(cur), delivery.PublicKey(pub), now.Add(6*time.Minute).Unix()), false},
		{"60 KiB body", with(signed(rotating, id, now, big), whsec(cur), delivery.PublicKey(pub), 0), true},
		// http_events posts a form, commands XML: the libraries verify the
		// signature, then fail to parse the body as JSON (a note, not a
		// refusal); a changed form is refused.
		{"form body", with(signed(rotating, id, now, form), whsec(old), delivery.PublicKey(pub), 0), true},
		{"XML body", with(signed(rotating, id, now, xml), whsec(cur), "", 0), true},
		{"tampered form body", with(formTampered, whsec(old), delivery.PublicKey(pub), 0), false},
		// After the rotation hookd signs with the new secret only: the old
		// one no longer verifies, the new one does.
		{"after the rotation, the old secret", with(signed(onlyCur, id, now, body), whsec(old), "", 0), false},
		{"after the rotation, the new secret", with(signed(onlyCur, id, now, body), whsec(cur), "", 0), true},
	}
	checks := make([]nodetest.Check, len(cases))
	for i, c := range cases {
		checks[i] = c.check
	}
	verdicts := nodetest.Verify(t, checks...)
	for i, c := range cases {
		v := verdicts[i]
		switch {
		case c.accept && !v.Accepted():
			t.Errorf("%s: want accepted by every verifier, got %v", c.name, v)
		case !c.accept && !v.Refused():
			t.Errorf("%s: want refused by every verifier, got %v", c.name, v)
		}
		if c.check.Secret != "" && (v.StandardWebhooks == nil || v.Svix == nil) {
			t.Errorf("%s: a library did not answer: %v", c.name, v)
		}
		// The note is only for a verified body that is not JSON.
		if json := strings.HasPrefix(c.check.Body, "{"); c.check.Secret != "" && c.accept && json == (v.StandardWebhooks.Note != "" || v.Svix.Note != "") {
			t.Errorf("%s: note %q / %q for a body that is JSON: %v", c.name, v.StandardWebhooks.Note, v.Svix.Note, json)
		}
	}
	if t.Failed() {
		t.Logf("headers of the good request: %v", good.Headers)
	}
}

// The same through HTTP, to a receiver written the way the libraries'
// users write one: Go's client sends the headers in its canonical case,
// Node reads them lowered, the body as it arrived; a changed body is
// refused (400).
func TestSignedRequestAcceptedByReceiver(t *testing.T) {
	old, cur := randomSecret(t, 32), randomSecret(t, 32)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	s, err := delivery.NewSigner([][]byte{old, cur}, key)
	if err != nil {
		t.Fatal(err)
	}
	r := nodetest.ReceiverWithKey(t, delivery.PublicKey(pub), whsec(old), whsec(cur))
	body := []byte(`{"EVENT":"USER_CREATE","MODULE":"ISL_CP"}`)
	send := func(sent []byte) nodetest.Delivery {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+"events", bytes.NewReader(sent))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		s.Sign(req.Header, "0193a0b4-7c1e-7d2f-9a8b-0123456789ab", time.Now(), body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := r.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != resp.StatusCode {
			t.Errorf("receiver says %d, answered %d", d.Status, resp.StatusCode)
		}
		return d
	}
	if d := send(body); !d.Valid || d.Status != http.StatusNoContent || d.ID != "0193a0b4-7c1e-7d2f-9a8b-0123456789ab" {
		t.Errorf("signed request: %v", d)
	}
	if d := send(bytes.Replace(body, []byte("USER_CREATE"), []byte("USER_DELETE"), 1)); d.Valid || d.Status != http.StatusBadRequest {
		t.Errorf("tampered request: %v", d)
	} else {
		for i := range d.StandardWebhooks {
			if d.StandardWebhooks[i].OK || d.Svix[i].OK {
				t.Errorf("tampered request accepted with secret %d: %v", i, d)
			}
		}
		if d.Ed25519 == nil || d.Ed25519.OK {
			t.Errorf("tampered request: ed25519 %v", d.Ed25519)
		}
	}
}
