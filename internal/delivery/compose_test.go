package delivery_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/outbound/outboundtest"
)

// Everything at once, as one target uses it: mutual TLS to a receiver
// that requires it, through [delivery] proxy (credentials in its URL),
// with a header from a file and a signature; a second target built from
// the same Env with proxy = "direct" goes around the proxy.
func TestBuildComposes(t *testing.T) {
	t.Parallel()
	ca := outboundtest.NewCA(t, "receiver CA")
	got := make(chan received, 4)
	srv := outboundtest.MTLSReceiver(t, ca, outboundtest.ReceiverOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	proxy := outboundtest.NewProxy(t, outboundtest.ProxyOptions{User: "hookd", Password: "pw"})
	withCreds := *proxy.URL
	withCreds.User = url.UserPassword("hookd", "pw")

	p := newPrivate(t)
	certPEM, keyPEM := ca.ClientPEM(t, "hookd")
	p.write("client.pem", certPEM, 0o644)
	p.write("client.key", keyPEM, 0o600)
	p.write("ca.pem", ca.PEM(), 0o644)
	p.write("hook.token", []byte("Bearer t\n"), 0o600)
	env := delivery.Env{PrivateDir: p.dir, Proxy: withCreds.String()}
	settings := hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"Authorization": file("hook.token")},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{lit(testSecret)},
		TLS:            hook.TLSSettings{ClientCert: "client.pem", ClientKey: "client.key", CA: "ca.pem"},
	}

	h, err := delivery.Build(&settings, env)
	if err != nil {
		t.Fatal(err)
	}
	c := outbound.New(h.Options(outbound.Options{}))
	defer c.CloseIdleConnections()
	if resp := post(t, c, srv.URL, "ev-1", "a=1"); resp.Status != http.StatusNoContent {
		t.Fatalf("through the proxy: HTTP %d", resp.Status)
	}
	r := <-got
	if r.header.Get("Authorization") != "Bearer t" || r.header.Get("webhook-signature") != hmacV1(testSecret, "ev-1", r.header.Get("webhook-timestamp"), r.body) {
		t.Errorf("headers %v", r.header)
	}
	if n := proxy.TotalTunnels(); n != 1 {
		t.Errorf("the proxy carried %d tunnels, want 1", n)
	}
	if v := delivery.View(&settings, env.Proxy); v.Proxy != "http://hookd:xxxxx@"+proxy.URL.Host+" (from [delivery] proxy)" {
		t.Errorf("view proxy %q", v.Proxy)
	}

	settings.Proxy = "direct"
	h, err = delivery.Build(&settings, env)
	if err != nil {
		t.Fatal(err)
	}
	c2 := outbound.New(h.Options(outbound.Options{}))
	defer c2.CloseIdleConnections()
	if resp := post(t, c2, srv.URL, "ev-2", "a=2"); resp.Status != http.StatusNoContent {
		t.Fatalf("direct: HTTP %d", resp.Status)
	}
	<-got
	if n := proxy.TotalTunnels(); n != 1 {
		t.Errorf("proxy = \"direct\" still went through the proxy (%d tunnels)", n)
	}
}
