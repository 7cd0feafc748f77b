package jwtwebhook_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestSeedEventsEndToEnd: each of the seed's four "Webhook Events" (User
// Create, User Delete, User Undelete, Domain Delete), switched on, reaches
// a real receiver on loopback as POST {"jwt": …}; the token verifies with
// RS256 (the only algorithm ISL documents) against the key hookd
// publishes and against the key file's public key, and carries the
// seed's example claims, the event's claim name and its fields as
// received. A switched-off event and an HTTP event never reach it.
func TestSeedEventsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, dir, "webhook.pem", key, 0o600)
	var (
		mu     sync.Mutex
		tokens []string
		bad    []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]string
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/api" || r.Header.Get("Content-Type") != "application/json" ||
			json.Unmarshal(b, &body) != nil || len(body) != 1 || body["jwt"] == "" {
			bad = append(bad, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), b))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		tokens = append(tokens, body["jwt"])
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name     string
		switches string
		sent     []string          // EVENT names emitted
		want     map[string]string // EVENT name → event claim, of those delivered
	}{
		{"all on", "user_create = true\nuser_delete = true\nuser_undelete = true\ndomain_delete = true\n",
			[]string{"USER_CREATE", "USER_DELETE", "USER_UNDELETE", "DOMAIN_DELETE"},
			map[string]string{"USER_CREATE": "user_create", "USER_DELETE": "user_delete", "USER_UNDELETE": "user_undelete", "DOMAIN_DELETE": "domain_delete"}},
		{"user_undelete alone", "user_undelete = true\n",
			[]string{"USER_CREATE", "USER_UNDELETE", "DOMAIN_DELETE"},
			map[string]string{"USER_UNDELETE": "user_undelete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			tokens, bad = nil, nil
			mu.Unlock()
			cfg, err := hookrt.ParseConfig([]byte(fmt.Sprintf(`
[storage]
private_dir = %q
[delivery]
retry_schedule = ["50ms"]
jitter = 0
poll_interval = "20ms"
[jwt_webhook]
url = %q
private_key = "webhook.pem"
claims = '{"iss":"some_iss", "rid":"456"}'
[jwt_webhook.events]
%s`, dir, srv.URL+"/api", tc.switches)), dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Store = teststore.SQLite(t)
			obs := hooktest.NewObservations()
			rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(obs.Observe))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				rt.Close(ctx)
			})
			ctx := context.Background()
			sent := map[string]map[string]string{} // event ID → fields emitted
			for i, name := range tc.sent {
				f := map[string]string{"MODULE": "ISL_CP", "EVENT": name, "DOMAIN_ID": "3", "SERVERID": "grid-1",
					"USER_ID": fmt.Sprint(100 + i), "USERNAME": "ann", "DOMAIN": "acme", "EMAIL": "ann@example.com", "NICK": "Ann & co"}
				if name == "DOMAIN_DELETE" {
					f = map[string]string{"MODULE": "ISL_CP", "EVENT": name, "DOMAIN_ID": "3", "DOMAIN": "acme", "USER_COUNT": "2"}
				}
				id, err := rt.Emit(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				sent[id] = f
			}
			if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "SESSIONID": "5a1d"}); err != nil {
				t.Fatal(err)
			}
			obs.Wait(t, "the enabled events delivered", func(o []hook.Observation) bool {
				return hooktest.Count(o, "delivered", jwtwebhook.ID) == len(tc.want)
			})

			var jwks struct{ Keys []json.RawMessage }
			if err := json.Unmarshal(rt.JWKS(), &jwks); err != nil || len(jwks.Keys) != 1 {
				t.Fatalf("JWKS %s: %v", rt.JWKS(), err)
			}
			pub, kid, err := jwtsign.ParsePublicJWK(jwks.Keys[0])
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			got, rejected := append([]string(nil), tokens...), bad
			mu.Unlock()
			if len(rejected) > 0 {
				t.Errorf("requests not in the webhook's form: %q", rejected)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("receiver got %d tokens, want %d", len(got), len(tc.want))
			}
			seen := map[string]bool{}
			for _, tok := range got {
				claims := jwt.MapClaims{}
				parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
					jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
				if err != nil {
					t.Fatalf("token does not verify with the published key: %v", err)
				}
				if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
					t.Errorf("token does not verify with the key file's public key: %v", err)
				}
				if parsed.Header["kid"] != kid || parsed.Header["typ"] != "JWT" {
					t.Errorf("header %v; want kid %s, typ JWT", parsed.Header, kid)
				}
				jti, _ := claims["jti"].(string)
				fields, ok := sent[jti]
				if !ok {
					t.Fatalf("jti %q is not the EVENT_ID of an emitted event", jti)
				}
				name := fields["EVENT"]
				want, enabled := tc.want[name]
				if !enabled {
					t.Errorf("%s delivered though its switch is off", name)
					continue
				}
				seen[name] = true
				iat, _ := claims["iat"].(float64)
				exp, _ := claims["exp"].(float64)
				if claims["iss"] != "some_iss" || claims["rid"] != "456" || claims["event"] != want || claims["module"] != "ISL_CP" ||
					claims["domain_id"] != "3" || exp-iat != 300 {
					t.Errorf("%s claims %v", name, claims)
				}
				data, _ := claims["data"].(map[string]any)
				wantData := maps.Clone(fields)
				wantData["EVENT_ID"] = jti
				for k, v := range wantData {
					if data[k] != v {
						t.Errorf("%s data claim %s = %v, want %q as emitted", name, k, data[k], v)
					}
				}
				// Besides the fields emitted: EVENT_ID, and TIMESTAMP and
				// SERVERID, which hookd fills in when missing.
				keys := map[string]bool{"EVENT_ID": true, "TIMESTAMP": true, "SERVERID": true}
				for k := range fields {
					keys[k] = true
				}
				if len(data) != len(keys) || data["TIMESTAMP"] == "" || data["SERVERID"] == "" {
					t.Errorf("%s data claim %v; want the fields %v", name, data, keys)
				}
			}
			if len(seen) != len(tc.want) {
				t.Errorf("delivered %v; want each of %v once", seen, tc.want)
			}
		})
	}
}
