package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/daemontest"
	"github.com/hookrt/hookd/internal/outbound/outboundtest"
	"github.com/hookrt/hookd/internal/testsupport"
	"github.com/hookrt/hookd/internal/testsupport/nodetest"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// TestDeliverySettingsDoneWhen is issue 18's "done when" for who is
// calling, what is sent and the way out, from outside: one `hookd serve`
// (the built binary) whose config gives
//
//   - the JWT webhook an Authorization header read from a file in the
//     private directory, Standard Webhooks signing with two secrets (a
//     rotation) and an Ed25519 key, and a filter that keeps some events out;
//   - the [[domain]] 42's script mutual TLS (a client certificate from the
//     private directory, the receivers' CA) and an egress CONNECT proxy.
//
// Judged by the receivers, not by hookd: the Node receiver verifies every
// signed request with the npm `standardwebhooks` and `svix` libraries (each
// with either secret) and Node's Ed25519, and refuses a tampered and a
// replayed (old timestamp) request the test makes from a captured one; the
// receiver that requires a client certificate gets the domain's
// deliveries, over connections the proxy made; the filtered events never
// arrive and the API lists no delivery of them. The targets API, `hookd
// targets list` and the admin page show both targets' settings.
func TestDeliverySettingsDoneWhen(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "a built hookd, node and the npm Standard Webhooks libraries")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	dir := t.TempDir()
	private := filepath.Join(dir, "private")
	writePrivate := func(name string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(private, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(private, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The signed target: two secrets of a rotation, an Ed25519 key, the
	// Authorization header's value (its file's newline is not sent).
	oldSecret, newSecret := newWhsec(t), newWhsec(t)
	writePrivate("whsec-old.txt", []byte(oldSecret+"\n"))
	writePrivate("whsec-new.txt", []byte(newSecret+"\n"))
	signKey := daemontest.WriteKey(t, private, "swh.pem")
	publicKey := "whpk_" + base64.StdEncoding.EncodeToString(signKey.Public().(ed25519.PublicKey))
	writePrivate("hook.token", []byte("Bearer e2e-hook-token\n"))
	signed := nodetest.ReceiverWithKey(t, publicKey, oldSecret, newSecret)

	// The mTLS-only receiver, behind the egress proxy.
	ca := outboundtest.NewCA(t, "e2e receivers")
	certPEM, keyPEM := ca.ClientPEM(t, "hookd-e2e")
	writePrivate("client.pem", certPEM)
	writePrivate("client-key.pem", keyPEM)
	writePrivate("receivers-ca.pem", ca.PEM())
	mtls := &mtlsReceiver{got: map[string]string{}, ch: make(chan struct{}, 1)}
	mtlsSrv := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{}, mtls)
	proxy := outboundtest.NewProxy(t, outboundtest.ProxyOptions{})

	listen := freeAddr(t)
	base := "http://" + listen
	cfg := writeConfig(t, dir, listen, signed.URL+"hook", fmt.Sprintf(`
[jwt_webhook.delivery]
headers = { Authorization = { file = "hook.token" }, "X-Tenant" = "e2e" }
signing = "standard-webhooks"
signing_secrets = [{ file = "whsec-old.txt" }, { file = "whsec-new.txt" }]
signing_key = "swh.pem"
[jwt_webhook.delivery.filter]
events = ["USER_CREATE"]
where = { DOMAIN_ID = ["1", "42"] }

[http_events]
per_domain = true
allow_private = ["127.0.0.0/8"]

[[domain]]
id = "42"
script = %q
strict = true
[domain.delivery]
proxy = %q
[domain.delivery.tls]
client_cert = "client.pem"
client_key = "client-key.pem"
ca = "receivers-ca.pem"
`, mtlsSrv.URL+"/events", proxy.URL.String()))
	const token = "e2e-api-token"
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, bytes.Replace(data, []byte("[server]\n"), []byte("[server]\ntoken_file = \"token\"\n"), 1), 0o600); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, cfg)
	waitHealthy(t, base, d.exited)

	// Two events the JWT webhook's filter keeps out (another domain; an
	// event it does not list), then four it receives, three of them
	// domain 42's, which its script receives too.
	post := func(event, domain, user string) string {
		return postEvent(t, base, token, map[string]string{"MODULE": "ISL_CP", "EVENT": event, "DOMAIN_ID": domain, "USERNAME": user})
	}
	filtered := []string{post("USER_CREATE", "13", "filtered-domain"), post("USER_DELETE", "1", "filtered-event")}
	var toHook, toDomain []string
	for i := range 4 {
		domain := "42"
		if i == 3 {
			domain = "1"
		}
		id := post("USER_CREATE", domain, fmt.Sprintf("user-%d", i))
		toHook = append(toHook, id)
		if domain == "42" {
			toDomain = append(toDomain, id)
		}
	}

	// Every signed delivery is accepted by both libraries with either
	// secret, and by Ed25519; it carries the header from the file, and its
	// webhook-id is the event's id.
	var captured nodetest.Delivery
	want := map[string]bool{}
	for _, id := range toHook {
		want[id] = true
	}
	got := map[string]bool{}
	for len(got) < len(toHook) {
		r, err := signed.Next(ctx)
		if err != nil {
			t.Fatalf("the signed receiver got %d of %d deliveries: %v", len(got), len(toHook), err)
		}
		if !want[r.ID] {
			t.Errorf("the signed receiver got %s, which is none of the events it should (filtered: %v)", r.ID, filtered)
			continue
		}
		if !r.Valid {
			t.Errorf("a signed delivery refused by the libraries: %v", r)
		}
		if a := r.Headers["authorization"]; a != "Bearer e2e-hook-token" {
			t.Errorf("delivery %s: Authorization %q, want the file's value without its newline", r.ID, a)
		}
		if r.Headers["x-tenant"] != "e2e" || r.Headers["x-event-id"] != r.ID {
			t.Errorf("delivery %s: X-Tenant %q, X-Event-Id %q", r.ID, r.Headers["x-tenant"], r.Headers["x-event-id"])
		}
		if sig := r.Headers["webhook-signature"]; strings.Count(sig, "v1,") != 2 || strings.Count(sig, "v1a,") != 1 {
			t.Errorf("delivery %s: webhook-signature %q, want two v1 (rotation) and one v1a", r.ID, sig)
		}
		got[r.ID] = true
		captured = r
	}

	// A tampered and a replayed request, made from the captured one, are
	// refused by the same libraries: the receiver answers 400.
	tampered := strings.Replace(captured.Body, `"jwt":"`, `"jwt":"x`, 1)
	if tampered == captured.Body {
		t.Fatalf("the captured body is not the webhook's JSON: %q", captured.Body)
	}
	var tsSec int64
	if _, err := fmt.Sscan(captured.Timestamp, &tsSec); err != nil {
		t.Fatalf("webhook-timestamp %q: %v", captured.Timestamp, err)
	}
	old := fmt.Sprint(tsSec - 10*60)
	for _, tc := range []struct {
		what, body, timestamp, want string
	}{
		{"a tampered body", tampered, captured.Timestamp, "signature"},
		{"a replay with its timestamp set back 10 minutes", captured.Body, old, "too old"},
	} {
		status := resend(t, signed.URL+"hook", captured, tc.body, tc.timestamp)
		r := nextWithBody(ctx, t, signed, tc.body, tc.timestamp)
		if status != http.StatusBadRequest || r.Valid {
			t.Errorf("%s: answered %d, valid %v: %v", tc.what, status, r.Valid, r)
		}
		for i := range r.StandardWebhooks {
			for _, res := range []nodetest.Result{r.StandardWebhooks[i], r.Svix[i]} {
				if res.OK || !strings.Contains(strings.ToLower(res.Error), tc.want) {
					t.Errorf("%s, secret %d: %v, want a refusal for %q", tc.what, i, &res, tc.want)
				}
			}
		}
	}
	// The captured request itself, replayed unchanged ten minutes later
	// (the verifiers' clock moved on), is refused by every verifier.
	later := tsSec + 10*60
	checks := []nodetest.Check{
		{Headers: captured.Headers, Body: captured.Body, Secret: oldSecret, Now: later},
		{Headers: captured.Headers, Body: captured.Body, Secret: newSecret, Now: later},
		{Headers: captured.Headers, Body: captured.Body, PublicKey: publicKey, Now: later},
		{Headers: captured.Headers, Body: captured.Body, Secret: newSecret, PublicKey: publicKey, Now: tsSec + 5},
	}
	verdicts := nodetest.Verify(t, checks...)
	for i, v := range verdicts[:3] {
		if !v.Refused() {
			t.Errorf("the captured request replayed 10 minutes later, check %d: %v", i, v)
		}
	}
	if !verdicts[3].Accepted() {
		t.Errorf("the captured request, 5 seconds after it was signed: %v", verdicts[3])
	}

	// The mTLS-only receiver got the domain's deliveries, each over a
	// connection the proxy made, with hookd's client certificate; a
	// client without one is refused.
	mtls.waitFor(t, ctx, toDomain)
	mtls.mu.Lock()
	for id, via := range mtls.got {
		if !proxy.Carried(via) {
			t.Errorf("delivery of %s reached the mTLS receiver from %s, not through the proxy", id, via)
		}
	}
	for _, id := range filtered {
		if _, ok := mtls.got[id]; ok {
			t.Errorf("event %s reached domain 42's script", id)
		}
	}
	if len(mtls.certs) != 1 || !mtls.certs["hookd-e2e"] {
		t.Errorf("client certificates seen by the mTLS receiver: %v", mtls.certs)
	}
	mtls.mu.Unlock()
	dest := strings.TrimPrefix(mtlsSrv.URL, "https://")
	if n, all := proxy.Tunnels(dest), proxy.TotalTunnels(); n == 0 || n != all {
		t.Errorf("the proxy opened %d tunnels to %s, %d in all: want every tunnel to the domain's receiver", n, dest, all)
	}
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	if resp, err := noCert.Post(mtlsSrv.URL+"/events", "text/plain", strings.NewReader("x")); err == nil {
		resp.Body.Close()
		t.Errorf("the mTLS receiver answered a client without a certificate: %s", resp.Status)
	}

	// The API: the filtered events created no delivery at all; the others
	// are delivered.
	for _, id := range filtered {
		if ds := listDeliveries(t, base, token, url.Values{"event_id": {id}}); len(ds) != 0 {
			t.Errorf("event %s, filtered out, has deliveries: %+v", id, ds)
		}
	}
	waitDeliveredAll(t, ctx, base, token, "jwt_webhook", toHook)
	waitDeliveredAll(t, ctx, base, token, "http_events.domain.42", toDomain)

	// The targets API and the CLI show what each target applies, secrets
	// left out.
	var targets struct {
		Targets []struct {
			Name     string `json:"name"`
			Delivery *struct {
				Headers []string `json:"headers"`
				Signing string   `json:"signing"`
				TLS     string   `json:"tls"`
				Proxy   string   `json:"proxy"`
				Filter  string   `json:"filter"`
			} `json:"delivery"`
		} `json:"targets"`
	}
	apiGet(t, base, token, "/v1/targets", &targets)
	views := map[string]string{}
	for _, tg := range targets.Targets {
		if tg.Delivery != nil {
			b, _ := json.Marshal(tg.Delivery)
			views[tg.Name] = string(b)
		}
	}
	hookView, domainView := views["jwt_webhook"], views["http_events.domain.42"]
	for _, want := range []string{"Authorization", "hook.token", "standard-webhooks", "whsec-old.txt", "swh.pem", "USER_CREATE"} {
		if !strings.Contains(hookView, want) {
			t.Errorf("jwt_webhook's delivery view lacks %q: %s", want, hookView)
		}
	}
	for _, want := range []string{"client.pem", "receivers-ca.pem", proxy.URL.Host} {
		if !strings.Contains(domainView, want) {
			t.Errorf("domain 42's delivery view lacks %q: %s", want, domainView)
		}
	}
	for name, v := range views {
		for _, secret := range []string{oldSecret, newSecret, "e2e-hook-token", strings.TrimPrefix(oldSecret, "whsec_")} {
			if strings.Contains(v, secret) {
				t.Errorf("%s's delivery view shows a secret: %s", name, v)
			}
		}
	}
	code, out, errb := hookd("targets", "list", "-addr", base, "-token-file", filepath.Join(dir, "token"))
	if code != 0 || !strings.Contains(out, "delivery of jwt_webhook:") || !strings.Contains(out, "delivery of http_events.domain.42:") ||
		!strings.Contains(out, "signing") || strings.Contains(out, "e2e-hook-token") {
		t.Errorf("hookd targets list: exit %d\n%s%s", code, out, errb)
	}
	t.Logf("hookd targets list:\n%s", out)
	admin := &webuitest.Client{T: t, Base: base, HTTP: webuitest.NewHTTPClient()}
	admin.Login("/admin", token)
	page := admin.Get("/admin/targets").Body
	for _, want := range []string{`id="delivery-jwt_webhook"`, `id="delivery-http_events.domain.42"`, "<dt>Signing</dt>", "<dt>Mutual TLS</dt>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin page's targets lack %q:\n%s", want, page)
		}
	}
}

// newWhsec is a fresh Standard Webhooks secret: "whsec_" and 32 random
// bytes in base64.
func newWhsec(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// resend posts a captured signed request again with body and
// webhook-timestamp replaced, as an attacker would, and returns the
// answer's status.
func resend(t *testing.T, to string, captured nodetest.Delivery, body, timestamp string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, to, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"content-type", "webhook-id", "webhook-signature", "authorization"} {
		req.Header.Set(h, captured.Headers[h])
	}
	req.Header.Set("webhook-timestamp", timestamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// nextWithBody returns the signed receiver's record of the request the
// test sent with body and timestamp, passing over any other.
func nextWithBody(ctx context.Context, t *testing.T, e *nodetest.Endpoint, body, timestamp string) nodetest.Delivery {
	t.Helper()
	for {
		r, err := e.Next(ctx)
		if err != nil {
			t.Fatalf("the receiver's record of the test's own request: %v", err)
		}
		if r.Body == body && r.Timestamp == timestamp {
			return r
		}
	}
}

// mtlsReceiver is domain 42's script behind mutual TLS: it acknowledges
// every event (strict: well-formed XML) and records, by X-Event-Id, the
// address each came from and the client certificates it saw.
type mtlsReceiver struct {
	mu    sync.Mutex
	got   map[string]string // event id → r.RemoteAddr
	certs map[string]bool   // client certificate CNs
	ch    chan struct{}
}

func (m *mtlsReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	m.mu.Lock()
	if m.certs == nil {
		m.certs = map[string]bool{}
	}
	if r.TLS != nil {
		for _, c := range r.TLS.PeerCertificates[:min(1, len(r.TLS.PeerCertificates))] {
			m.certs[c.Subject.CommonName] = true
		}
	}
	m.got[r.Header.Get("X-Event-Id")] = r.RemoteAddr
	m.mu.Unlock()
	select {
	case m.ch <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, "<nomessage/>")
}

// waitFor waits until every id has reached the receiver.
func (m *mtlsReceiver) waitFor(t *testing.T, ctx context.Context, ids []string) {
	t.Helper()
	for {
		m.mu.Lock()
		missing := 0
		for _, id := range ids {
			if _, ok := m.got[id]; !ok {
				missing++
			}
		}
		m.mu.Unlock()
		if missing == 0 {
			return
		}
		select {
		case <-m.ch:
		case <-ctx.Done():
			t.Fatalf("the mTLS receiver still misses %d of %d deliveries", missing, len(ids))
		}
	}
}

// apiGet GETs path of hookd's API with the token into out.
func apiGet(t *testing.T, base, token, path string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// apiDelivery is a delivery as GET /v1/deliveries lists it.
type apiDelivery struct {
	EventID string `json:"event_id"`
	Target  string `json:"target"`
	State   string `json:"state"`
}

func listDeliveries(t *testing.T, base, token string, q url.Values) []apiDelivery {
	t.Helper()
	var out struct {
		Deliveries []apiDelivery `json:"deliveries"`
	}
	apiGet(t, base, token, "/v1/deliveries?"+q.Encode(), &out)
	return out.Deliveries
}

// waitDeliveredAll waits until the API lists target's delivery of every
// event id as delivered (the receiver answers before the outcome is
// written).
func waitDeliveredAll(t *testing.T, ctx context.Context, base, token, target string, ids []string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ds := listDeliveries(t, base, token, url.Values{"target": {target}, "state": {"delivered"}, "limit": {"1000"}})
		have := map[string]bool{}
		for _, d := range ds {
			have[d.EventID] = true
		}
		missing := 0
		for _, id := range ids {
			if !have[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: %d of %d deliveries not delivered: %+v", target, missing, len(ids), ds)
		}
	}
}
