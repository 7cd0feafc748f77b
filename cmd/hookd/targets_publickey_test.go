package main

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// TestTargetsListPublicKey: targets list prints the v1a public key of a
// target that signs with an Ed25519 key, on its own line below signing,
// as the server's view (delivery.ViewEnv over a real key file) gives it:
// the operator copies it to the receiver from there.
func TestTargetsListPublicKey(t *testing.T) {
	dir := t.TempDir()
	key := deliverytest.WriteKey(t, dir, "swh.pem")
	want := delivery.PublicKey(key.Public().(ed25519.PublicKey))
	view := delivery.ViewEnv(&hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "swh.pem"}, delivery.Env{PrivateDir: dir})
	answer, err := json.Marshal(map[string][]hook.TargetStatus{"targets": {{Name: "jwt_webhook", State: "enabled", Breaker: "closed", Delivery: view}}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/targets" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer api.Close()
	t.Setenv("HOOKD_TOKEN", "")
	out, _ := mustHookd(t, "targets", "list", "-addr", api.URL)
	_, block, _ := strings.Cut(out, "delivery of jwt_webhook:\n")
	lines := strings.Split(block, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "  signing ") || strings.Join(strings.Fields(lines[1]), " ") != "public_key "+want {
		t.Errorf("targets list:\n%s\nwant the line \"  public_key  %s\" below signing", out, want)
	}
}
