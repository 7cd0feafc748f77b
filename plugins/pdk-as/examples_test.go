package pdkas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// The AssemblyScript examples (plugins/examples-as) are built with asc and
// run in hookd's engine, with the scenarios of the Go examples' tests
// (plugins/examples/examples_test.go): same config, same behaviour.

const (
	sessionGuard = "../examples-as/session-guard/assembly/index.ts"
	jwtRelay     = "../examples-as/jwt-relay/assembly/index.ts"
)

func loadExample(t *testing.T, entry string, g hostfn.Grants) *wasmhost.Plugin {
	t.Helper()
	return plugintest.Load(t, buildAS(t, entry), wasmhost.Limits{Instances: 1}, g)
}

func hasLog(out wasmhost.Outcome, level int32, text string) bool {
	for _, l := range out.Logs {
		if l.Level == level && strings.Contains(l.Text, text) {
			return true
		}
	}
	return false
}

func TestSessionGuard(t *testing.T) {
	t.Parallel()
	p := loadExample(t, sessionGuard, hostfn.Grants{Config: json.RawMessage(`{"block": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "::ffff:198.51.100.0/120", " 203.0.113.9 "], "secret": "s3cret"}`)})
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		fields map[string]string // over plugintest.Event; "-" deletes
		drop   string            // the session dropped, or "" for <nomessage/>
		log    string            // a line the call logs
	}{
		{"blocked reasonAddress", map[string]string{"reasonAddress": "10.1.2.3"}, "5a1b", "dropping session 5a1b: client 10.1.2.3 (reasonAddress) is in blocked 10.0.0.0/8"},
		{"NEW SESSION spelling", map[string]string{"EVENT": "NEW SESSION", "reasonAddress": "192.0.2.77"}, "5a1b", "is in blocked 192.0.2.0/24"},
		{"allowed address", map[string]string{"reasonAddress": "203.0.113.42"}, "", ""},
		{"edge of a blocked prefix", map[string]string{"reasonAddress": "192.0.3.0"}, "", ""},
		{"blocked clientAddress with port", map[string]string{"reasonAddress": "-", "clientAddress": "192.0.2.9:5000"}, "5a1b", "(clientAddress)"},
		{"blocked CLIENT_ADDR, IPv4-mapped", map[string]string{"CLIENT_ADDR": "[::ffff:10.0.0.1]:80"}, "5a1b", "client 10.0.0.1 (CLIENT_ADDR)"},
		{"blocked IPv6", map[string]string{"reasonAddress": "2001:db8::7"}, "5a1b", "client 2001:db8::7 (reasonAddress) is in blocked 2001:db8::/32"},
		{"blocked IPv6 with a zone and a port", map[string]string{"reasonAddress": "[2001:DB8:0:0:1::1%eth0]:443"}, "5a1b", "client 2001:db8::1:0:0:1 (reasonAddress)"},
		{"IPv6 outside", map[string]string{"reasonAddress": "2001:db9::1"}, "", ""},
		{"an IPv4-mapped prefix", map[string]string{"reasonAddress": "198.51.100.200"}, "5a1b", "is in blocked 198.51.100.0/24"},
		{"a single address", map[string]string{"reasonAddress": "203.0.113.9"}, "5a1b", "is in blocked 203.0.113.9/32"},
		{"another event", map[string]string{"EVENT": "STOP", "reasonAddress": "10.1.2.3"}, "", ""},
		{"not an address", map[string]string{"reasonAddress": "desk.example.com"}, "", `reasonAddress "desk.example.com" is not an IP address`},
		{"leading zero", map[string]string{"reasonAddress": "010.1.2.3"}, "", `reasonAddress "010.1.2.3" is not an IP address`},
		{"IPv6 without brackets and a port", map[string]string{"reasonAddress": "::ffff:10.0.0.1.80"}, "", "is not an IP address"},
		{"no session to drop", map[string]string{"reasonAddress": "10.1.2.3", "SESSIONID": "-"}, "", "no SESSIONID to drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := plugintest.Event(nil)
			for k, v := range tc.fields {
				if v == "-" {
					delete(ev.Fields, k)
				} else {
					ev.Fields[k] = v
				}
			}
			out, err := p.Call(ctx, ev)
			if err != nil || out.Status != 0 {
				t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
			}
			if tc.log != "" && !hasLog(out, hostapi.LevelInfo, tc.log) && !hasLog(out, hostapi.LevelWarn, tc.log) {
				t.Errorf("no log line with %q: %v", tc.log, out.Logs)
			}
			if tc.drop == "" {
				if out.Reply != nil {
					t.Errorf("reply %s, want <nomessage/>", out.Reply)
				}
				return
			}
			r, err := xmlmsg.Parse(out.Reply)
			if err != nil {
				t.Fatalf("reply %s: %v", out.Reply, err)
			}
			want := xmlmsg.Command{Session: tc.drop, Kind: xmlmsg.KindDrop}
			if r.Secret != "s3cret" || len(r.Commands) != 1 || r.Commands[0] != want {
				t.Errorf("reply %s, want a drop of %s with the secret", out.Reply, tc.drop)
			}
		})
	}
}

func TestSessionGuardInvalidConfig(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[string]string{
		`{"block": ["10.0.0.0/33"], "secret": "s"}`:              `session-guard: invalid config: block[0] "10.0.0.0/33" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: prefix length out of range`,
		`{"block": ["10.0.0.1/8"], "secret": "s"}`:               `session-guard: invalid config: block[0] "10.0.0.1/8" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: host bits set`,
		`{"block": ["::ffff:10.0.0.0/95"], "secret": "s"}`:       `session-guard: invalid config: block[0] "::ffff:10.0.0.0/95" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: host bits set`,
		`{"block": ["fe80::1%eth0/64"], "secret": "s"}`:          `session-guard: invalid config: block[0] "fe80::1%eth0/64" is not a CIDR prefix`,
		`{"block": ["ok", "10.0.0.0/8"], "secret": "s"}`:         `session-guard: invalid config: block[0] "ok" is not a CIDR prefix`,
		`{"block": "10.0.0.0/8", "secret": "s"}`:                 "session-guard: invalid config: pdk: config: block: cannot use a string as string[]",
		`{"blocked": ["10.0.0.0/8"], "secret": "s"}`:             `session-guard: invalid config: pdk: config: unknown field "blocked"`,
		`{"block": ["10.0.0.0/8"]}`:                              `session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`,
		`{"block": ["10.0.0.0/8"], "secret": " \t"}`:             `session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`,
		`{"block": ["10.0.0.0/8", 7], "secret": "s"}`:            "session-guard: invalid config: pdk: config: block[1]: cannot use the number 7 as string",
		`{"block": ["1.2.3.4/08"], "secret": "s"}`:               `session-guard: invalid config: block[0] "1.2.3.4/08" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: bad bits after slash: "08"`,
		`{"block": ["2001:db8::/32", "1::2::3"], "secret": "s"}`: `session-guard: invalid config: block[1] "1::2::3" is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7: multiple :: in address`,
	} {
		p := loadExample(t, sessionGuard, hostfn.Grants{Config: json.RawMessage(cfg)})
		for range 2 { // the error is kept, and stays permanent
			out, err := p.Call(context.Background(), plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"}))
			if err != nil || out.Status != 2 || !strings.HasPrefix(out.Error, want) || out.Reply != nil {
				t.Errorf("config %s: status %d err %v error %q, want 2 %q", cfg, out.Status, err, out.Error, want)
			}
		}
	}
}

// relayTarget is the receiver of jwt-relay: it verifies each token with
// pub and sends the claims (or the failure) on the returned channel.
func relayTarget(t *testing.T, pub any, status int) (*httptest.Server, <-chan jwt.MapClaims) {
	t.Helper()
	got := make(chan jwt.MapClaims, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			JWT string `json:"jwt"`
		}
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
			t.Errorf("request %s %s %q", r.Method, r.Header.Get("Content-Type"), b)
		}
		tok, err := jwt.Parse(body.JWT, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("hookd-test"), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
		if err != nil {
			t.Errorf("token %q does not verify: %v", body.JWT, err)
			got <- nil
		} else {
			got <- tok.Claims.(jwt.MapClaims)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// relayGrants grants relay.pem and HTTP to allow (on loopback).
func relayGrants(t *testing.T, key *jwtsign.Key, cfg string, allow ...string) hostfn.Grants {
	t.Helper()
	sign, names := wasmhost.KeySigner(map[string]*jwtsign.Key{"relay.pem": key})
	// A test-sized HTTP timeout, as plugintest gives the call: the loopback
	// receiver answers at once, but a loaded machine may not run it at once.
	h, err := hostfn.NewHTTP(hostfn.HTTPOptions{Allow: allow, AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Timeout: plugintest.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return hostfn.Grants{Config: json.RawMessage(cfg), Sign: sign, Keys: names, HTTP: h}
}

func relayConfig(key, url string) string {
	b, _ := json.Marshal(map[string]string{"key": key, "url": url, "issuer": "hookd-test"})
	return string(b)
}

func TestJWTRelay(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	srv, got := relayTarget(t, key.Public(), http.StatusNoContent)
	p := loadExample(t, jwtRelay, relayGrants(t, key, relayConfig("relay.pem", srv.URL+"/hook"), srv.URL))

	ev := plugintest.Event(map[string]string{"special": "<&\"ü>\n😀"})
	out, err := p.Call(context.Background(), ev)
	if err != nil || out.Status != 0 || out.Reply != nil {
		t.Fatalf("status %d err %v (%s) reply %q; logs %v", out.Status, err, out.Error, out.Reply, out.Logs)
	}
	c := <-got
	if c == nil {
		t.FailNow()
	}
	data, _ := c["data"].(map[string]any)
	fields := make(map[string]string, len(data))
	for k, v := range data {
		fields[k], _ = v.(string)
	}
	if c["event"] != "NEWSESSION" || c["domain_id"] != "acme" || c["session_id"] != "5a1b" || c["jti"] != ev.ID || !maps.Equal(fields, ev.Fields) {
		t.Errorf("claims %v, want the event's", c)
	}

	// Without SESSIONID, the claim is left out.
	delete(ev.Fields, "SESSIONID")
	if out, err := p.Call(context.Background(), ev); err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
	}
	if c := <-got; c == nil || c["session_id"] != nil {
		t.Errorf("claims %v, want no session_id", c)
	}
}

func TestJWTRelayFailures(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	broken, _ := relayTarget(t, key.Public(), http.StatusInternalServerError)
	ok, _ := relayTarget(t, key.Public(), http.StatusOK)
	allow := []string{broken.URL, ok.URL}

	for _, tc := range []struct {
		name   string
		cfg    string
		event  map[string]string
		status int32
		msg    string
	}{
		{"receiver fails", relayConfig("relay.pem", broken.URL+"/hook"), nil, 1, "jwt-relay: POST " + broken.URL + "/hook: HTTP 500: Internal Server Error"},
		{"URL not allowed", relayConfig("relay.pem", "http://127.0.0.1:1/hook"), nil, 2, "jwt-relay: POST http://127.0.0.1:1/hook: pdk: http_request: ERR_DENIED"},
		{"key not granted", relayConfig("other.pem", ok.URL), nil, 2, "jwt-relay: signing with key other.pem: pdk: jwt_sign: ERR_DENIED"},
		{"event too large to relay", relayConfig("relay.pem", ok.URL), map[string]string{"big": strings.Repeat("x", 60<<10)}, 2, "jwt-relay: POST " + ok.URL + ": pdk: http_request: ERR_TOO_LARGE"},
		{"config incomplete", `{"url": "` + ok.URL + `"}`, nil, 2, `jwt-relay: invalid config: "key", "issuer" missing`},
		{"not an http URL", relayConfig("relay.pem", "ftp://x"), nil, 2, `jwt-relay: invalid config: url "ftp://x" is not an http(s) URL`},
		{"unknown key", `{"key": "relay.pem", "url": "` + ok.URL + `", "issuer": "i", "isuer": "x"}`, nil, 2, `jwt-relay: invalid config: pdk: config: unknown field "isuer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadExample(t, jwtRelay, relayGrants(t, key, tc.cfg, allow...))
			out, err := p.Call(context.Background(), plugintest.Event(tc.event))
			if err != nil || out.Status != tc.status || !strings.HasPrefix(out.Error, tc.msg) {
				t.Errorf("status %d err %v error %q, want %d %q…", out.Status, err, out.Error, tc.status, tc.msg)
			}
		})
	}
}

// TestJWTRelayDeadline: with less than 10 ms left in the call, the relay
// does not start the request and asks for a retry. The call gets a 5 ms
// deadline: either the guest runs and sees under 10 ms left (status 1), or
// a busy machine runs it past the deadline (an error); it never relays.
func TestJWTRelayDeadline(t *testing.T) {
	t.Parallel()
	key := plugintest.SigningKey(t, "relay.pem")
	srv, got := relayTarget(t, key.Public(), http.StatusOK)
	p := plugintest.Load(t, buildAS(t, jwtRelay), wasmhost.Limits{Instances: 1, Timeout: 5 * time.Millisecond},
		relayGrants(t, key, relayConfig("relay.pem", srv.URL), srv.URL))
	seen := false
	for range 5 {
		out, err := p.Call(context.Background(), plugintest.Event(nil))
		if err != nil {
			continue // stopped at its deadline before it could answer
		}
		if out.Status != 1 || !strings.HasPrefix(out.Error, "jwt-relay: only ") || !strings.HasSuffix(out.Error, "ms left in the call; not starting the request") {
			t.Fatalf("status %d error %q, want 1 and the time left", out.Status, out.Error)
		}
		seen = true
		break
	}
	select {
	case c := <-got:
		t.Errorf("the relay posted a token with under 10 ms left: %v", c)
	default:
	}
	if !seen {
		t.Log("every call overran its 5 ms deadline on this machine; the relay's check was not reached")
	}
}

// TestExampleBuild: an example builds as its README says, `npm ci && npm
// run build` in its directory (its asconfig.json extends the SDK's), into
// the module the other tests run. The SDK and the example are copied to a
// temporary directory, in the layout of the repository, so that nothing is
// installed into the source tree. session-guard is built so (npm ci copies
// 100 MB); jwt-relay's package files must be the same but for the name.
func TestExampleBuild(t *testing.T) {
	t.Parallel()
	compiler(t) // skips without node and npm
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	copyTree(t, ".", filepath.Join(root, "plugins", "pdk-as"), "package.json", "package-lock.json", "index.ts", "asconfig.json", "assembly")
	for _, f := range []string{"package.json", "package-lock.json", "asconfig.json"} {
		a := readFile(t, filepath.Join("..", "examples-as", "session-guard", f))
		b := readFile(t, filepath.Join("..", "examples-as", "jwt-relay", f))
		if string(a) != strings.ReplaceAll(string(b), "jwt-relay", "session-guard") {
			t.Errorf("the examples' %s differ in more than the name", f)
		}
	}
	for _, name := range []string{"session-guard"} {
		src := filepath.Join("..", "examples-as", name)
		dir := filepath.Join(root, "plugins", "examples-as", name)
		copyTree(t, src, dir, "package.json", "package-lock.json", "asconfig.json", "assembly")
		for _, args := range [][]string{
			{"ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"},
			{"run", "build", "--silent"},
		} {
			cmd := exec.Command(npm, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: npm %s: %v\n%s", name, strings.Join(args, " "), err, out)
			}
		}
		built, err := os.ReadFile(filepath.Join(dir, "build", name+".wasm"))
		if err != nil {
			t.Fatal(err)
		}
		tested, err := os.ReadFile(buildAS(t, filepath.Join(src, "assembly", "index.ts")))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, tested) {
			t.Errorf("%s: npm run build made %d bytes, the tests run %d other bytes", name, len(built), len(tested))
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyTree copies the named files and directories of src into dst.
func copyTree(t *testing.T, src, dst string, names ...string) {
	t.Helper()
	for _, name := range names {
		err := filepath.WalkDir(filepath.Join(src, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o700)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
