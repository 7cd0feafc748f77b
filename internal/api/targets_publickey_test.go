package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/jwtwebhook"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	"github.com/hookrt/hookd/internal/testsupport/testruntime"
)

// TestTargetsPublicKey (issue 18 leftover): GET /v1/targets shows the v1a
// public key of a target signing with an Ed25519 key mounted as a
// Kubernetes secret volume mounts it (links within the private
// directory), and a receiver given only that "whpk_…" verifies the
// signature of the target's real delivery.
func TestTargetsPublicKey(t *testing.T) {
	t.Parallel()
	dir, priv := deliverytest.PrivateDir(t)
	deliverytest.WriteKey(t, priv, "jwt.pem")
	if err := os.Mkdir(filepath.Join(priv, "..2026_12_06_19_00_00.1"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := deliverytest.WriteKey(t, priv, "..2026_12_06_19_00_00.1/swh.pem")
	for target, link := range map[string]string{"..2026_12_06_19_00_00.1": "..data", "..data/swh.pem": "swh.pem"} {
		if err := os.Symlink(target, filepath.Join(priv, link)); err != nil {
			t.Skip("no symlinks here:", err)
		}
	}
	rcv := deliverytest.NewReceiver(t, nil)
	rt, obs := testruntime.Open(t, testruntime.DeadAtOnce+`
[jwt_webhook]
url = "`+rcv.URL+`/hook"
private_key = "jwt.pem"
[jwt_webhook.events]
user_create = true
[jwt_webhook.delivery]
signing = "standard-webhooks"
signing_key = "swh.pem"
`, testruntime.Options{Dir: dir})
	srv := httptest.NewServer(api.New(rt, api.Options{Token: "operator-token"}))
	defer srv.Close()

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/targets", nil)
	req.Header.Set("Authorization", "Bearer operator-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct{ Targets []hook.TargetStatus }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/targets: %d, %v", resp.StatusCode, err)
	}
	var shown string
	for _, tg := range ans.Targets {
		if tg.Name == jwtwebhook.ID && tg.Delivery != nil {
			shown = tg.Delivery.PublicKey
		}
	}
	if want := "whpk_" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)); shown != want {
		t.Fatalf("the targets API shows public key %q; want %q", shown, want)
	}

	id, err := rt.Emit(t.Context(), map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3"})
	if err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "the webhook delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, hook.StateDelivered, jwtwebhook.ID) == 1
	})
	r := rcv.Requests()[0]
	pub, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(shown, "whpk_"))
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		if b64, ok := strings.CutPrefix(sig, "v1a,"); ok {
			b, _ := base64.StdEncoding.DecodeString(b64)
			if ed25519.Verify(pub, []byte(id+"."+r.Header.Get("webhook-timestamp")+"."+string(r.Body)), b) {
				return
			}
		}
	}
	t.Errorf("webhook-signature %q: no v1a signature verifies with the key the API shows", r.Header.Get("webhook-signature"))
}
