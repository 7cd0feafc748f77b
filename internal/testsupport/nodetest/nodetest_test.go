package nodetest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/testsupport/nodetest"
)

// The receiver's own checks, with a signature made here by hand (hookd's
// signer is internal/delivery's, tested there against these libraries):
// an unsigned request is refused, a signed one accepted, and what the
// libraries said comes back with it.
func TestReceiver(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	r := nodetest.Receiver(t, secret)

	body := `{"type":"test"}`
	resp, err := http.Post(r.URL+"hook", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned request: status %d, want 400", resp.StatusCode)
	}
	d, err := r.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.Valid || len(d.StandardWebhooks) != 1 || d.StandardWebhooks[0].OK || !strings.Contains(d.StandardWebhooks[0].Error, "Missing required headers") {
		t.Errorf("unsigned request: %v", d)
	}

	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("msg_1." + ts + "." + body))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+"hook", strings.NewReader(body))
	req.Header.Set("webhook-id", "msg_1")
	req.Header.Set("webhook-timestamp", ts)
	jsonSig := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	req.Header.Set("webhook-signature", jsonSig)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("signed request: status %d, want 204", resp.StatusCode)
	}
	d, err = r.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Valid || d.ID != "msg_1" || d.Path != "/hook" || d.Body != body || !d.Svix[0].OK {
		t.Errorf("signed request: %v", d)
	}

	// A form body (what http_events posts): the libraries verify, then
	// fail to parse it as JSON; the receiver accepts it with a note.
	form := "EVENT=USER_CREATE&MODULE=ISL_CP"
	m = hmac.New(sha256.New, key)
	m.Write([]byte("msg_2." + ts + "." + form))
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL+"hook", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("webhook-id", "msg_2")
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d, err = r.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent || !d.Valid || !strings.Contains(d.StandardWebhooks[0].Note, "JSON.parse") || !strings.Contains(d.Svix[0].Note, "JSON.parse") {
		t.Errorf("signed form: status %d, %v", resp.StatusCode, d)
	}

	v := nodetest.Verify(t,
		nodetest.Check{Headers: map[string]string{"Webhook-Id": "msg_1", "Webhook-Timestamp": ts, "Webhook-Signature": jsonSig}, Body: body, Secret: secret},
		nodetest.Check{Headers: map[string]string{"Webhook-Id": "msg_1", "Webhook-Timestamp": ts, "Webhook-Signature": jsonSig}, Body: body + " ", Secret: secret},
	)
	if !v[0].Accepted() || !v[1].Refused() {
		t.Errorf("verify: %v; %v", v[0], v[1])
	}
}
