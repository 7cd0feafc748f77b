package pdk_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignJWT(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	p := guest(t, hostfn.Grants{Sign: sign, Keys: names})

	before := time.Now().Unix()
	token := reply(t, p, "sign", map[string]string{"key": "relay.pem", "claims": `{"sub":"plugin","n":[1,"<&>"]}`})
	tok, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token %q does not verify: %v", token, err)
	}
	c := tok.Claims.(jwt.MapClaims)
	iat, _ := c.GetIssuedAt()
	if iat == nil || iat.Unix() < before || c["sub"] != "plugin" || c["jti"] != plugintest.Event(nil).ID {
		t.Errorf("claims %v", c)
	}
	if n, _ := c["n"].([]any); len(n) != 2 || n[1] != "<&>" {
		t.Errorf("claim n = %v", c["n"])
	}

	for _, tc := range []struct{ name, key, claims, want string }{
		{"key not granted", "other.pem", `{}`, "E-5 pdk: jwt_sign: ERR_DENIED"},
		{"claims set exp", "relay.pem", `{"exp":1}`, "E-1 pdk: jwt_sign: ERR_BAD_ARGUMENT"},
	} {
		if got := reply(t, p, "sign", map[string]string{"key": tc.key, "claims": tc.claims}); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.name, got, tc.want)
		}
	}
	if got := reply(t, guest(t, hostfn.Grants{}), "sign", map[string]string{"key": "relay.pem", "claims": "{}"}); !strings.HasPrefix(got, "E-5 ") {
		t.Errorf("no keys granted: %q, want E-5", got)
	}
}
