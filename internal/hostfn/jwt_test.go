package hostfn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/jwtsign"
)

func testKey(t testing.TB) *jwtsign.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwtsign.NewKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestJWTSign(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	var signedWith string
	g := &Grants{
		Keys: []string{"relay.pem"},
		Sign: func(_ context.Context, name string, claims map[string]any) (string, error) {
			signedWith = name
			if name != "relay.pem" {
				return "", errors.New("no such key")
			}
			return key.Sign(claims)
		},
	}
	h := newHarness(t)
	keyName := func(s string) (int64, int64) { return h.write(t, 0, s) }
	claims := func(s string) (int64, int64) { return h.write(t, 1000, s) }

	c := newCall(g)
	kp, kl := keyName("relay.pem")
	cp, cl := claims(`{"sub":"plugin","n":12345678901234567890}`)
	before := time.Now().Unix()
	n := h.call(t, c, hostapi.FuncJWTSign, kp, kl, cp, cl)
	if n <= 0 {
		t.Fatalf("jwt_sign = %s; logs %v", hostapi.StatusName(n), c.Logs())
	}
	if got := h.call(t, c, hostapi.FuncResultRead, 2000, n); got != n {
		t.Fatalf("result_read = %d, want %d", got, n)
	}
	token := h.read(t, 2000, uint32(n))
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}))
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	mc := parsed.Claims.(jwt.MapClaims)
	iat, _ := mc["iat"].(float64)
	exp, _ := mc["exp"].(float64)
	if int64(iat) < before || int64(iat) > time.Now().Unix() || exp-iat != 300 {
		t.Errorf("iat %v exp %v", mc["iat"], mc["exp"])
	}
	if mc["jti"] != "ev-1" || mc["sub"] != "plugin" || signedWith != "relay.pem" {
		t.Errorf("claims %v, key %q", mc, signedWith)
	}
	if c.Counters().Signatures != 1 {
		t.Errorf("counters %+v", c.Counters())
	}
	// Numbers are kept as written, not rounded through float64.
	if !strings.Contains(string(jwtPayload(t, token)), "12345678901234567890") {
		t.Errorf("big number not kept: %s", jwtPayload(t, token))
	}

	// jti given by the plugin is kept.
	cp, cl = claims(`{"jti":"mine"}`)
	n = h.call(t, c, hostapi.FuncJWTSign, kp, kl, cp, cl)
	h.call(t, c, hostapi.FuncResultRead, 2000, n)
	if p := jwtPayload(t, h.read(t, 2000, uint32(n))); !strings.Contains(string(p), `"jti":"mine"`) {
		t.Errorf("jti replaced: %s", p)
	}

	for _, tc := range []struct {
		key, claims string
		want        int32
	}{
		{"relay.pem", `{"exp":1}`, hostapi.ErrBadArgument},
		{"relay.pem", `{"iat":1}`, hostapi.ErrBadArgument},
		{"relay.pem", `{"a":1} x`, hostapi.ErrBadArgument},
		{"relay.pem", `[1]`, hostapi.ErrBadArgument},
		{"relay.pem", `null`, hostapi.ErrBadArgument},
		{"relay.pem", ``, hostapi.ErrBadArgument},
		{"other.pem", `{}`, hostapi.ErrDenied},
		{"", `{}`, hostapi.ErrDenied},
		{"relay.pem", strings.Repeat(" ", hostapi.MaxClaims+1), hostapi.ErrTooLarge},
	} {
		kp, kl := keyName(tc.key)
		cp, cl := claims(tc.claims)
		if got := h.call(t, c, hostapi.FuncJWTSign, kp, kl, cp, cl); got != int64(tc.want) {
			t.Errorf("jwt_sign(%q, %.20q) = %s, want %s", tc.key, tc.claims, hostapi.StatusName(got), hostapi.StatusName(int64(tc.want)))
		}
		if got := h.call(t, c, hostapi.FuncResultRead, 2000, 10); got != int64(hostapi.ErrNotFound) {
			t.Errorf("result_read after a refused jwt_sign = %s, want ERR_NOT_FOUND", hostapi.StatusName(got))
		}
	}

	// No grant at all, and a signer that fails.
	kp, kl = keyName("relay.pem")
	cp, cl = claims(`{}`)
	if got := h.call(t, newCall(nil), hostapi.FuncJWTSign, kp, kl, cp, cl); got != int64(hostapi.ErrDenied) {
		t.Errorf("jwt_sign without grants = %s", hostapi.StatusName(got))
	}
	broken := &Grants{Keys: []string{"relay.pem"}, Sign: func(context.Context, string, map[string]any) (string, error) {
		return "", errors.New("hsm offline")
	}}
	bc := newCall(broken)
	if got := h.call(t, bc, hostapi.FuncJWTSign, kp, kl, cp, cl); got != int64(hostapi.ErrFailed) {
		t.Errorf("jwt_sign with a failing signer = %s", hostapi.StatusName(got))
	}
	if l := bc.Logs(); len(l) != 1 || !strings.Contains(l[0].Text, "hsm offline") || l[0].Source != "host" {
		t.Errorf("failure not logged: %v", l)
	}
}

func jwtPayload(t testing.TB, token string) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	b, err := jwt.NewParser().DecodeSegment(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}
