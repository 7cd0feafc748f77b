package jwtsign_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/jwtsign"
)

// TestKeyRedacted prints and logs a Key every way a careless caller might,
// and checks that only alg and kid come out.
func TestKeyRedacted(t *testing.T) {
	t.Parallel()
	priv := edKey()
	key := must(jwtsign.NewKey(priv, ""))
	redacted := "{alg=EdDSA kid=" + key.KID() + "}"
	secrets := []string{
		hex.EncodeToString(priv.Seed()),
		fmt.Sprint([]byte(priv.Seed())[:8])[1:20], // decimal bytes, as %v of a []byte
		fmt.Sprintf("%x", priv.Seed()[:8]),
	}

	var out []string
	for _, verb := range []string{"%v", "%+v", "%s", "%d", "%x", "%q"} {
		for _, v := range []any{key, *key} {
			got := fmt.Sprintf(verb, v)
			if got != redacted {
				t.Errorf("Sprintf(%q, %T) = %q, want %q", verb, v, got, redacted)
			}
			out = append(out, got)
		}
	}
	for _, v := range []any{key, *key} {
		if got := fmt.Sprintf("%#v", v); got != "jwtsign.Key"+redacted {
			t.Errorf("Sprintf(%%#v, %T) = %q, want jwtsign.Key%s", v, got, redacted)
		}
	}
	out = append(out, fmt.Sprint(struct{ K *jwtsign.Key }{key}), fmt.Sprintf("%+v", struct{ K jwtsign.Key }{*key}))

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("loaded", "key", key)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("loaded", "key", *key)
	if want := "key.alg=EdDSA key.kid=" + key.KID(); !strings.Contains(text.String(), want) {
		t.Errorf("text log = %q, want it to contain %q", text.String(), want)
	}
	if want := `"key":{"alg":"EdDSA","kid":"` + key.KID() + `"}`; !strings.Contains(js.String(), want) {
		t.Errorf("JSON log = %q, want it to contain %q", js.String(), want)
	}
	out = append(out, text.String(), js.String())

	all := strings.Join(out, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("output contains key material %q:\n%s", s, all)
		}
	}
}

// TestNewKey covers NewKey's own refusals; LoadKey's table covers the rest.
func TestNewKey(t *testing.T) {
	t.Parallel()
	if _, err := jwtsign.NewKey(nil, ""); err == nil || !strings.Contains(err.Error(), "no private key given") {
		t.Errorf("NewKey(nil) error = %v, want \"no private key given\"", err)
	}
	// A crypto.Signer golang-jwt cannot use, e.g. a KMS or HSM handle.
	if _, err := jwtsign.NewKey(opaqueSigner{edKey()}, ""); err == nil || !strings.Contains(err.Error(), "private key type jwtsign_test.opaqueSigner is not supported") {
		t.Errorf("NewKey(opaque) error = %v", err)
	}
}

type opaqueSigner struct{ ed25519.PrivateKey }
