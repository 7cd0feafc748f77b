package main

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
)

// webhook provisions hookd's real JWT webhook module, posting to url and
// signing with k (written to a private directory) as alg.
func webhook(t *testing.T, url string, k crypto.Signer, alg string) *jwtwebhook.Webhook {
	t.Helper()
	dir := t.TempDir()
	writeKey(t, dir, "key.pem", k)
	w := &jwtwebhook.Webhook{
		URL:        url,
		PrivateKey: "key.pem",
		Alg:        alg,
		Claims:     jwtwebhook.Claims{"iss": "hookd-load-test"},
		Lifetime:   hook.Duration(5 * time.Minute),
		Events:     jwtwebhook.Events{UserCreate: true},
	}
	env := hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: dir, RequestTimeout: 5 * time.Second, UserAgent: "hookd/test"}
	if err := w.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// loadEvent makes an event as hookd would from what hookd-load sends.
func loadEvent(t testing.TB, run string, seq int) *hook.Event {
	t.Helper()
	fields := map[string]string{}
	for _, f := range userCreate(run, seq) {
		fields[f.name] = f.value
	}
	ev, err := hook.NewEvent(fields, time.Now(), "load")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// hookdClaims are the claims the webhook signs for ev.
func hookdClaims(ev *hook.Event, now time.Time) map[string]any {
	return map[string]any{
		"iss": "hookd-load-test", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": ev.ID,
		"event": "user_create", "module": ev.Module(), "server_id": ev.ServerID(), "domain_id": ev.DomainID(),
		"data": ev.Fields,
	}
}

// post sends {"jwt": token} to url and returns the status.
func post(t testing.TB, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func jwtBody(tok string) string { return `{"jwt":"` + tok + `"}` }

func TestJWTEveryAlgorithmThroughHookdsWebhook(t *testing.T) {
	cases := []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"EdDSA", edKey(), ""},
		{"ES256", p256Key(), ""},
		{"RS256", rsaKey(), ""},
		{"PS256", rsaKey(), "PS256"},
		{"RS512", rsaKey(), "RS512"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jwks := newJWKSServer(t, signKey(t, c.key, c.alg))
			keys := newKeySet(jwks.URL, http.DefaultClient, 0)
			if err := keys.refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			rc, tr, url := newTestReceiver(t, modeJWT, nil, keys)
			w := webhook(t, url+"/", c.key, c.alg)
			ev := loadEvent(t, testRun, 1)
			tr.accept(ev.ID, tr.since(), tr.since())
			res, err := w.Handle(context.Background(), ev)
			if err != nil || res.Status != http.StatusNoContent {
				t.Fatalf("hookd's webhook: status %d, err %v, reply %q; refusals %v", res.Status, err, res.Reply, rc.errorSamples())
			}
			// A retry carries the same jti: a duplicate.
			if res, err := w.Handle(context.Background(), ev); err != nil || res.Status != http.StatusNoContent {
				t.Fatalf("retry: %d %v", res.Status, err)
			}
			got := tr.tally()
			if got.delivered != 1 || got.dups != 1 || got.lost != 0 {
				t.Errorf("tally = %+v", got)
			}
			if p := rc.alg.Load(); p == nil || *p != c.name {
				t.Errorf("alg seen = %v, want %s", p, c.name)
			}
			if n := rc.badToken.Load(); n != 0 {
				t.Errorf("bad tokens = %d", n)
			}
		})
	}
}

func TestJWTBadSignatureUnknownKidAndOtherRefusals(t *testing.T) {
	good := signKey(t, edKey(), "")
	jwks := newJWKSServer(t, good)
	keys := newKeySet(jwks.URL, http.DefaultClient, 0)
	if err := keys.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc, tr, url := newTestReceiver(t, modeJWT, nil, keys)
	ev := loadEvent(t, testRun, 7)
	tr.accept(ev.ID, 0, 0)
	now := time.Now()

	tok, err := good.Sign(hookdClaims(ev, now))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")

	// The payload changed after signing: the signature no longer verifies.
	claims := hookdClaims(ev, now)
	claims["data"] = maps.Clone(ev.Fields)
	claims["data"].(map[string]string)["USERNAME"] = "mallory"
	payload, _ := json.Marshal(claims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	// A key hookd does not publish, under its own kid: unknown kid.
	stranger := signKey(t, otherEdKey(), "")
	unknown, _ := stranger.Sign(hookdClaims(ev, now))

	// A key hookd does not publish, claiming hookd's kid: bad signature.
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(hookdClaims(ev, now)))
	forged.Header["kid"] = good.KID()
	forgedTok, _ := forged.SignedString(otherEdKey())

	// Expired (beyond the leeway of a minute).
	old := hookdClaims(ev, now.Add(-time.Hour))
	expired, _ := good.Sign(old)

	// HS256 with the public key as the secret: the classic confusion.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(hookdClaims(ev, now)))
	hs.Header["kid"] = good.KID()
	hsTok, _ := hs.SignedString([]byte(good.PublicJWK()))

	fetches := keys.fetches.Load()
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"tampered payload", jwtBody(tampered), http.StatusUnauthorized},
		{"unknown kid", jwtBody(unknown), http.StatusUnauthorized},
		{"forged with hookd's kid", jwtBody(forgedTok), http.StatusUnauthorized},
		{"expired", jwtBody(expired), http.StatusUnauthorized},
		{"HS256", jwtBody(hsTok), http.StatusUnauthorized},
		{"not a token", jwtBody("abc.def"), http.StatusUnauthorized},
	} {
		if got := post(t, url, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if got := keys.fetches.Load() - fetches; got != 1 {
		t.Errorf("the unknown kid refetched the JWKS %d times, want 1", got)
	}
	if n := rc.badToken.Load(); n != 6 {
		t.Errorf("bad tokens = %d, want 6; refusals %v", n, rc.errorSamples())
	}
	if got := post(t, url, `{"token":"x"}`); got != http.StatusBadRequest {
		t.Errorf("a body without jwt: %d", got)
	}
	if got := tr.tally(); got.delivered != 0 || got.lost != 1 {
		t.Errorf("a refused token counted as delivered: %+v", got)
	}

	// Finally the good token, with white space around the JSON (the slow
	// path): delivered.
	if got := post(t, url, " {\"jwt\": \""+tok+"\"}\n"); got != http.StatusNoContent {
		t.Errorf("good token: %d; refusals %v", got, rc.errorSamples())
	}
	if got := tr.tally(); got.delivered != 1 || got.lost != 0 {
		t.Errorf("tally = %+v", got)
	}
}

func TestJWTKeyRotationAndAlgMismatch(t *testing.T) {
	first := signKey(t, edKey(), "")
	jwks := newJWKSServer(t, first)
	keys := newKeySet(jwks.URL, http.DefaultClient, 0)
	if err := keys.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc, tr, url := newTestReceiver(t, modeJWT, nil, keys)
	now := time.Now()

	// hookd rotates: the new key is published, then used. The receiver
	// refetches on the new kid and verifies.
	second := signKey(t, otherEdKey(), "")
	jwks.set(second, first)
	ev := loadEvent(t, testRun, 1)
	tr.accept(ev.ID, 0, 0)
	tok, _ := second.Sign(hookdClaims(ev, now))
	if got := post(t, url, jwtBody(tok)); got != http.StatusNoContent {
		t.Fatalf("token of the rotated-in key: %d; %v", got, rc.errorSamples())
	}
	// The parsed key is cached: more tokens cause no fetch.
	gets := jwks.gets.Load()
	for i := 2; i < 12; i++ {
		ev := loadEvent(t, testRun, i)
		tr.accept(ev.ID, 0, 0)
		tok, _ := second.Sign(hookdClaims(ev, now))
		if got := post(t, url, jwtBody(tok)); got != http.StatusNoContent {
			t.Fatalf("token %d: %d", i, got)
		}
	}
	if n := jwks.gets.Load() - gets; n != 0 {
		t.Errorf("%d JWKS fetches for tokens of a known kid", n)
	}

	// An RSA key published for RS256 is not accepted with PS256.
	rs := signKey(t, rsaKey(), "RS256")
	ps := signKey(t, rsaKey(), "PS256")
	jwks.set(rs)
	ev = loadEvent(t, testRun, 99)
	tok, _ = ps.Sign(hookdClaims(ev, now))
	if got := post(t, url, jwtBody(tok)); got != http.StatusUnauthorized {
		t.Errorf("PS256 token for an RS256 key: %d", got)
	}
	if got := tr.tally(); got.delivered != 11 {
		t.Errorf("delivered = %d, want 11", got.delivered)
	}
}

func TestJWKSWithoutUsableKeys(t *testing.T) {
	srv := newJWKSServer(t)
	keys := newKeySet(srv.URL, http.DefaultClient, 0)
	if err := keys.refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "no usable key") {
		t.Errorf("empty JWKS: %v", err)
	}
}
