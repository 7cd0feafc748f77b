package jwtwebhook_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"maps"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestTokenIsTheMapsToken checks that Token gives, byte for byte, the token
// of the claims map it used to build (configured claims, then hookd's own)
// signed by jwtsign's Sign: Ed25519 signatures are deterministic, so equal
// tokens mean equal headers, claims JSON and signatures. The claims and
// fields carry what JSON escapes: HTML characters, control characters,
// U+2028, non-ASCII and invalid UTF-8.
func TestTokenIsTheMapsToken(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	writePEM(t, dir, "k.pem", ed, 0o600)
	w := provisioned(t, dir, `[jwt_webhook]
url = "http://127.0.0.1:1/"
private_key = "k.pem"
claims = { iss = "a<b>&c", aud = ["x", "y"], n = 1.5, big = 12345678901, ok = true, nested = { z = "1", a = { b = "ü" } }, zz = "last", "" = "empty name" }
lifetime = "120s"
[jwt_webhook.events]
user_create = true
user_delete = true
`)
	key, err := jwtsign.LoadKey(dir, "k.pem", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	odd := &hook.Event{ID: "01a21c96-b83b-79df-b954-b6b05c9e8019", Fields: map[string]string{
		"MODULE": "ISL_CP", "EVENT": "USER_DELETE", "DOMAIN_ID": "<3>", "SERVERID": "grid\u2028\u20291",
		"NOTE": "tab\there \"quoted\" back\\slash \x01\x1f\x7f & é☃𝄞 \xff\xfe", "EVENT_ID": "01a21c96-b83b-79df-b954-b6b05c9e8019",
	}}
	for _, ev := range []*hook.Event{event, odd, {ID: "x", Fields: nil}} {
		got, err := w.Token(ev, now)
		if err != nil {
			t.Fatal(err)
		}
		claims := map[string]any{}
		maps.Copy(claims, w.Claims)
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(120 * time.Second).Unix()
		claims["jti"] = ev.ID
		claims["event"] = map[string]string{"USER_CREATE": "user_create", "USER_DELETE": "user_delete"}[ev.Name()]
		claims["module"] = ev.Module()
		claims["server_id"] = ev.ServerID()
		claims["domain_id"] = ev.DomainID()
		claims["data"] = ev.Fields
		want, err := key.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("event %s:\ngot  %s\nwant %s", ev.ID, got, want)
		}
	}
}

// TestTokenAllocs bounds the allocations of one Ed25519 token: SignJSON's
// two; the pooled buffer makes none. The claims map and golang-jwt's
// reflection took 72.
func TestTokenAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers: counts are not the real ones")
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	writePEM(t, dir, "k.pem", ed, 0o600)
	w := provisioned(t, dir, `[jwt_webhook]
url = "http://127.0.0.1:1/"
private_key = "k.pem"
claims = { iss = "some_iss", rid = "456" }
[jwt_webhook.events]
user_create = true
`)
	now := time.Unix(1_800_000_000, 0)
	n := testing.AllocsPerRun(100, func() {
		if _, err := w.Token(event, now); err != nil {
			t.Fatal(err)
		}
	})
	if n > 3 {
		t.Errorf("Token: %.0f allocations, want at most 3", n)
	}
}
