package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	// The keys hookd would sign with; generated once, RSA takes a while.
	edKey  = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// testBundle is one running receiver with its own JWKS server.
type testBundle struct {
	url     string        // the receiver
	out     *syncBuffer   // its stdout
	fetches *atomic.Int32 // JWKS requests served
	jwks    *jwksServer
	client  *http.Client // this receiver's own client; see setup
}

// setup starts a JWKS server holding the Ed25519 key as "ed" and the RSA
// key as "rsa" (RS256), then the receiver on a loopback port, and stops
// both when the test ends.
func setup(t *testing.T, flags ...string) *testBundle {
	t.Helper()
	js := &jwksServer{}
	js.set(jwkOKP("ed", edKey().Public().(ed25519.PublicKey)), jwkRSA("rsa", "RS256", &rsaKey().PublicKey))
	srv := httptest.NewServer(js)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	args := append([]string{"-listen", "127.0.0.1:0", "-jwks", srv.URL + "/.well-known/jwks.json"}, flags...)
	go func() { done <- run(ctx, args, out, func(a string) { addr <- a }) }()
	// Each receiver has its own client, whose spare connections are closed
	// before the receiver stops: a connection the client dialled but never
	// used holds http.Server.Shutdown for 5 s (net/http treats it as busy
	// until then), and the shared http.DefaultClient cannot be told to let
	// go of one receiver's connections while parallel tests use it.
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return &testBundle{url: "http://" + a + "/hooks/jwt", out: out, fetches: &js.fetches, jwks: js, client: client}
	case err := <-done:
		t.Fatalf("run returned before ready: %v", err)
	}
	return nil
}

// post sends body and returns the status, the error text (if any) and
// the line printed for this request (if any).
func (b *testBundle) post(t *testing.T, contentType string, body []byte) (int, string, map[string]any) {
	t.Helper()
	before := b.out.Len()
	resp, err := b.client.Post(b.url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	var answer struct{ Error string }
	if resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(respBody, &answer); err != nil {
			t.Fatalf("status %d with a body that is not JSON: %q", resp.StatusCode, respBody)
		}
	}
	printed := strings.TrimSpace(b.out.From(before))
	if printed == "" {
		return resp.StatusCode, answer.Error, nil
	}
	var l map[string]any
	if err := json.Unmarshal([]byte(printed), &l); err != nil || strings.Contains(printed, "\n") {
		t.Fatalf("printed %q, want one JSON line", printed)
	}
	return resp.StatusCode, answer.Error, l
}

func (b *testBundle) postToken(t *testing.T, token string) (int, string, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"jwt": token})
	return b.post(t, "application/json", body)
}

// sign makes a token like hookd's, signed with key under kid.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func webhookClaims(jti string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"iss": "hookd", "iat": now, "exp": now + 300, "jti": jti,
		"event": "USER_CREATE", "module": "ISL_CP", "server_id": "srv-1", "domain_id": "acme",
		"data": map[string]any{"USERNAME": "jane", "EMAIL": "jane@example.com"},
	}
}

func Test_main(t *testing.T) {
	t.Parallel()

	t.Run("valid token is printed with sorted claims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claims := webhookClaims("ev-1")
		status, errText, _ := b.postToken(t, sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", claims))
		if status != http.StatusNoContent {
			t.Fatalf("status = %d (%s), want 204", status, errText)
		}
		want := fmt.Sprintf(`{"alg":"EdDSA","claims":{"data":{"EMAIL":"jane@example.com","USERNAME":"jane"},"domain_id":"acme","event":"USER_CREATE","exp":%d,"iat":%d,"iss":"hookd","jti":"ev-1","module":"ISL_CP","server_id":"srv-1"},"duplicate":false,"kid":"ed"}`,
			claims["exp"], claims["iat"])
		if got := strings.TrimSpace(b.out.String()); got != want {
			t.Errorf("printed\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("RSA keys verify, PS256 only where the JWK allows it", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if status, errText, _ := b.postToken(t, sign(t, jwt.SigningMethodRS256, rsaKey(), "rsa", webhookClaims("ev-rs"))); status != http.StatusNoContent {
			t.Errorf("RS256: status = %d (%s), want 204", status, errText)
		}
		status, errText, _ := b.postToken(t, sign(t, jwt.SigningMethodPS256, rsaKey(), "rsa", webhookClaims("ev-ps")))
		if status != http.StatusUnauthorized || !strings.Contains(errText, "does not match the key's alg RS256") {
			t.Errorf("PS256 on an RS256 key: status = %d (%s), want 401", status, errText)
		}
	})

	t.Run("duplicate jti is flagged", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i, wantDup := range []bool{false, true, true} {
			token := sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", webhookClaims("ev-dup")) // signed afresh, as a retry is
			status, errText, l := b.postToken(t, token)
			if status != http.StatusNoContent {
				t.Fatalf("post %d: status = %d (%s), want 204", i, status, errText)
			}
			if l["duplicate"] != wantDup {
				t.Errorf("post %d: printed %v, want duplicate %v", i, l, wantDup)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "-issuer", "hookd")
		_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
		with := func(change func(jwt.MapClaims)) jwt.MapClaims {
			c := webhookClaims("ev-refused")
			change(c)
			return c
		}
		ago := func(d time.Duration) int64 { return time.Now().Add(-d).Unix() }
		noneToken := b64json(map[string]any{"alg": "none", "typ": "JWT", "kid": "ed"}) + "." + b64json(webhookClaims("ev-none")) + "."
		tests := []struct {
			name        string
			contentType string
			body        []byte
			status      int
			want        string
		}{
			{"expired", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", with(func(c jwt.MapClaims) { c["exp"] = ago(2 * time.Minute) }))), 401, "token is expired"},
			{"issued in the future", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", with(func(c jwt.MapClaims) { c["iat"] = ago(-5 * time.Minute) }))), 401, "token used before issued"},
			{"no exp", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", with(func(c jwt.MapClaims) { delete(c, "exp") }))), 400, "exp claim is required"},
			{"no jti", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", with(func(c jwt.MapClaims) { delete(c, "jti") }))), 400, "token has no jti claim"},
			{"wrong issuer", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", with(func(c jwt.MapClaims) { c["iss"] = "evil" }))), 401, "token has invalid issuer"},
			{"wrong key", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, otherKey, "ed", webhookClaims("ev-wrong"))), 401, "signature is invalid"},
			{"unknown kid", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, otherKey, "other", webhookClaims("ev-kid"))), 401, `unknown kid "other"`},
			{"no kid", "", tokenBody(sign(t, jwt.SigningMethodEdDSA, edKey(), "", webhookClaims("ev-nokid"))), 401, "token has no kid header"},
			{"HS256", "", tokenBody(sign(t, jwt.SigningMethodHS256, []byte("shared-secret"), "ed", webhookClaims("ev-hs"))), 401, "signing method HS256 is invalid"},
			{"alg none", "", tokenBody(noneToken), 401, "signing method none is invalid"},
			{"not a JWT", "", tokenBody("not.a.jwt"), 400, "token is malformed"},
			{"non-JSON body", "", []byte("jwt=abc"), 400, "body is not JSON"},
			{"no jwt member", "", []byte(`{"token":"abc"}`), 400, `body has no "jwt" string`},
			{"body of exactly maxBodyBytes is read", "", append(append([]byte(`{"jwt":"`), bytes.Repeat([]byte("a"), maxBodyBytes-len(`{"jwt":""}`))...), `"}`...), 400, "token is malformed"},
			{"oversized body", "", append(append([]byte(`{"jwt":"`), bytes.Repeat([]byte("a"), maxBodyBytes-len(`{"jwt":""}`)+1)...), `"}`...), 413, "body is larger than 2097152 bytes"},
			{"form content type", "application/x-www-form-urlencoded", []byte(`{"jwt":"x"}`), 415, "content type must be application/json"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ct := tt.contentType
				if ct == "" {
					ct = "application/json; charset=utf-8"
				}
				status, errText, printed := b.post(t, ct, tt.body)
				if status != tt.status || !strings.Contains(errText, tt.want) {
					t.Errorf("status = %d, error = %q; want %d and an error containing %q", status, errText, tt.status, tt.want)
				}
				if printed != nil {
					t.Errorf("printed %v for a refused webhook", printed)
				}
			})
		}
	})

	t.Run("GET is refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp, err := b.client.Get(b.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET: status %d, Allow %q; want 405 and POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})

	t.Run("unknown kids refetch the JWKS at most once per interval", func(t *testing.T) {
		t.Parallel()
		b := setup(t) // default -jwks-refresh 10s; the start-up fetch counts
		for i := range 5 {
			token := sign(t, jwt.SigningMethodEdDSA, edKey(), fmt.Sprint("made-up-", i), webhookClaims("ev"))
			if status, _, _ := b.postToken(t, token); status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401", status)
			}
		}
		if n := b.fetches.Load(); n != 1 {
			t.Errorf("JWKS fetched %d times, want 1 (start-up only)", n)
		}
	})

	t.Run("rotation: a new kid is picked up by refetching", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "-jwks-refresh", "0")
		_, newKey, _ := ed25519.GenerateKey(rand.Reader)
		token := sign(t, jwt.SigningMethodEdDSA, newKey, "ed-2", webhookClaims("ev-rot"))
		if status, _, _ := b.postToken(t, token); status != http.StatusUnauthorized {
			t.Fatalf("before rotation: status = %d, want 401", status)
		}
		// hookd publishes the new key next to the old one.
		b.jwks.set(jwkOKP("ed", edKey().Public().(ed25519.PublicKey)), jwkOKP("ed-2", newKey.Public().(ed25519.PublicKey)))
		if status, errText, _ := b.postToken(t, token); status != http.StatusNoContent {
			t.Fatalf("after rotation: status = %d (%s), want 204", status, errText)
		}
		if status, errText, _ := b.postToken(t, sign(t, jwt.SigningMethodEdDSA, edKey(), "ed", webhookClaims("ev-old"))); status != http.StatusNoContent {
			t.Errorf("old key during rotation: status = %d (%s), want 204", status, errText)
		}
	})
}

func Test_mainStartup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"JWKS unreachable", []string{"-listen", "127.0.0.1:0", "-jwks", "http://127.0.0.1:1/jwks.json", "-jwks-wait", "0"}, "fetch JWKS (is hookd running?)"},
		{"negative wait", []string{"-jwks-wait", "-1s"}, "-jwks-wait must not be negative"},
		{"negative leeway", []string{"-leeway", "-1s"}, "-leeway must not be negative"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, io.Discard, func(string) { t.Error("ready called") })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestWaitsForHookd: started before hookd answers (the quick start runs
// both at once), the receiver keeps asking for the JWKS and then serves.
func TestWaitsForHookd(t *testing.T) {
	t.Parallel()
	js := &jwksServer{}
	js.set(jwkOKP("ed", edKey().Public().(ed25519.PublicKey)))
	js.down.Store(2)
	srv := httptest.NewServer(js)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-jwks", srv.URL, "-jwks-wait", "10m"}, io.Discard, func(string) { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run returned before ready: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if n := js.fetches.Load(); n != 3 {
		t.Errorf("%d JWKS fetches, want 3 (two refused, one served)", n)
	}
}

// jwksServer serves a JWKS that tests can replace, counting fetches.
type jwksServer struct {
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
	down    atomic.Int32 // answer this many more fetches 503, as a hookd still starting
}

func (s *jwksServer) set(keys ...map[string]string) {
	body, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.fetches.Add(1)
	if s.down.Add(-1) >= 0 {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	body := s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

var b64 = base64.RawURLEncoding.EncodeToString

func jwkOKP(kid string, pub ed25519.PublicKey) map[string]string {
	return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(pub), "kid": kid, "use": "sig", "alg": "EdDSA"}
}

func jwkRSA(kid, alg string, pub *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()), "kid": kid, "use": "sig", "alg": alg}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return b64(b)
}

func tokenBody(token string) []byte {
	b, _ := json.Marshal(map[string]string{"jwt": token})
	return b
}

// syncBuffer is the receiver's stdout: written by its handlers, read by
// the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

func (s *syncBuffer) From(offset int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()[offset:]
}

func (s *syncBuffer) String() string { return s.From(0) }
