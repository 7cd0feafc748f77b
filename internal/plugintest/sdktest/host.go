package sdktest

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// testConfig: the config decodes into the guest's type and back, a
// missing one gives the defaults, and a config that does not fit the
// type is a permanent failure naming the field.
func testConfig(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{Config: json.RawMessage(g.Config.Given)})
	if got := Reply(t, p, "config", nil); got != g.Config.Want {
		t.Errorf("config %s\ngot  %s\nwant %s", g.Config.Given, got, g.Config.Want)
	}

	none := g.Load(t, hostfn.Grants{})
	if got := Reply(t, none, "config", nil); got != g.Config.Default {
		t.Errorf("no config: %s, want %s", got, g.Config.Default)
	}

	invalid := map[string]string{`{"secret":"s","blok":["10.0.0.0/8"]}`: `pdk: config: unknown field "blok"`}
	maps.Copy(invalid, g.Config.Invalid)
	for raw, want := range invalid {
		bad := g.Load(t, hostfn.Grants{Config: json.RawMessage(raw)})
		if out := Call(t, bad, "config", nil); out.Status != 2 || out.Error != want {
			t.Errorf("config %s: status %d error %q, want 2 %q", raw, out.Status, out.Error, want)
		}
	}
}

// testLog: the lines, at their levels, in order.
func testLog(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	out := Call(t, p, "log", nil)
	want := []hostapi.LogLine{
		{Level: hostapi.LevelDebug, Source: "log", Text: "debug line"},
		{Level: hostapi.LevelInfo, Source: "log", Text: "info line"},
		{Level: hostapi.LevelWarn, Source: "log", Text: "warn line"},
		{Level: hostapi.LevelError, Source: "log", Text: "error 42 <line>"},
	}
	if len(out.Logs) != len(want) {
		t.Fatalf("logs %v, want %v", out.Logs, want)
	}
	for i, l := range out.Logs {
		if l != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, l, want[i])
		}
	}
}

// testClock: the guest reads the host's clock, and the time left in the
// call.
func testClock(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{}) // deadline: plugintest.Timeout
	before := time.Now().UnixMilli()
	got := Reply(t, p, "time", nil)
	after := time.Now().UnixMilli()
	now, left, _ := strings.Cut(got, " ")
	ms, _ := strconv.ParseInt(now, 10, 64)
	dl, _ := strconv.ParseInt(left, 10, 64)
	if ms < before || ms > after {
		t.Errorf("now = %d ms, not within [%d, %d]", ms, before, after)
	}
	// The call started after before and the guest asked before after, so
	// the time left is the timeout less at most after-before (and a
	// millisecond of rounding each side), however slow the machine.
	timeout := plugintest.Timeout.Milliseconds()
	if lo := timeout - (after - before) - 2; dl < lo || dl > timeout {
		t.Errorf("deadline = %d ms, want in [%d, %d]", dl, lo, timeout)
	}
}

// testSignJWT: a token signed with a granted key verifies, with the
// host's iat, exp and jti; the host refuses keys not granted and claims
// it sets itself.
func testSignJWT(t *testing.T, g Guest) {
	key := plugintest.SigningKey(t, "relay.pem")
	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	p := g.Load(t, hostfn.Grants{Sign: sign, Keys: names})

	before := time.Now().Unix()
	token := Reply(t, p, "sign", map[string]string{"key": "relay.pem", "claims": `{"sub":"plugin","n":[1,"<&>"]}`})
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

	for _, tc := range append([]SignError{
		{Name: "key not granted", Key: "other.pem", Claims: `{}`, Want: "E-5 pdk: jwt_sign: ERR_DENIED: not granted or not allowed"},
		{Name: "claims set exp", Key: "relay.pem", Claims: `{"exp":1}`, Want: "E-1 pdk: jwt_sign: ERR_BAD_ARGUMENT"},
	}, g.SignErrors...) {
		if got := Reply(t, p, "sign", map[string]string{"key": tc.Key, "claims": tc.Claims}); !strings.HasPrefix(got, tc.Want) {
			t.Errorf("%s: %q, want %q…", tc.Name, got, tc.Want)
		}
	}
	if got := Reply(t, g.Load(t, hostfn.Grants{}), "sign", map[string]string{"key": "relay.pem", "claims": "{}"}); !strings.HasPrefix(got, "E-5 ") {
		t.Errorf("no keys granted: %q, want E-5", got)
	}
}
