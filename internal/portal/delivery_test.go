package portal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// viewBackend is one stored domain, alpha, whose token is "alpha-token",
// among targets of which two have delivery settings: alpha's and beta's.
type viewBackend struct {
	nopBackend
	targets []hook.TargetStatus
}

func (viewBackend) AuthenticateDomainToken(_ context.Context, tok string) (hook.Principal, error) {
	if tok != "alpha-token" {
		return hook.Principal{}, hook.ErrNotFound
	}
	return hook.Principal{Domain: "alpha", TokenID: "t1", TokenName: "ci"}, nil
}

func (viewBackend) Domain(_ context.Context, _ hook.Principal, id string) (hook.DomainInfo, error) {
	return hook.DomainInfo{ID: id, Source: hook.DomainFromStore, Spec: []byte(`{"strict":true}`), Revision: 1,
		Target: "http_events.domain." + id}, nil
}

func (viewBackend) DomainAudit(context.Context, hook.Principal, string, int) ([]hook.AuditEntry, error) {
	return nil, nil
}

func (b viewBackend) TargetStatuses(context.Context) ([]hook.TargetStatus, error) {
	return b.targets, nil
}

// TestSettingsShowDelivery: the settings page shows how the domain's
// target is reached (its delivery view, as the engine fills it), never
// another domain's, says so when nothing is set, and says nothing of a
// target that is not running.
func TestSettingsShowDelivery(t *testing.T) {
	t.Parallel()
	alpha := hook.TargetStatus{Name: "http_events.domain.alpha", State: hook.TargetEnabled, Breaker: "closed",
		Delivery: &hook.DeliveryView{
			Headers:   []string{"X-Tenant", `X-Note <b>`},
			Signing:   "standard-webhooks: v1 with 2 secrets (rotation)",
			Proxy:     "http://egress:3128 (from [delivery] proxy)",
			Filter:    "events NEWSESSION; DOMAIN_ID in [alpha]",
			RateLimit: "5/s, burst 1",
			OrderedBy: "SESSIONID",
		}}
	beta := hook.TargetStatus{Name: "http_events.domain.beta", State: hook.TargetEnabled, Breaker: "closed",
		Delivery: &hook.DeliveryView{Headers: []string{"X-Beta-Secret-Name"}, RateLimit: "777/s"}}
	global := hook.TargetStatus{Name: "http_events.global", State: hook.TargetEnabled, Breaker: "closed",
		Delivery: &hook.DeliveryView{TLS: "client certificate global.pem"}}

	page := func(targets ...hook.TargetStatus) string {
		t.Helper()
		srv := httptest.NewServer(New(viewBackend{targets: targets}, Options{}))
		t.Cleanup(srv.Close)
		c := &webuitest.Client{T: t, Base: srv.URL, HTTP: webuitest.NewHTTPClient()}
		c.Login("/portal", "alpha-token")
		r := c.Get("/portal/settings")
		if r.Status != http.StatusOK {
			t.Fatalf("settings: %d\n%s", r.Status, r.Body)
		}
		return r.Body
	}

	body := page(global, beta, alpha)
	for _, want := range []string{
		"<h2>Delivery</h2>", `<div id="delivery-settings">`, `<dl class="facts">`,
		`<dt>Headers</dt><dd><span class="mono">X-Tenant</span><br><span class="mono">X-Note &lt;b&gt;</span></dd>`,
		"<dt>Signing</dt><dd>standard-webhooks: v1 with 2 secrets (rotation)</dd>",
		"<dt>Proxy</dt><dd>http://egress:3128 (from [delivery] proxy)</dd>",
		"<dt>Filter</dt><dd>events NEWSESSION; DOMAIN_ID in [alpha]</dd>",
		"<dt>Rate limit</dt><dd>5/s, burst 1</dd>",
		`<dt>Ordered by</dt><dd class="mono">SESSIONID</dd>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page lacks %q:\n%s", want, body)
		}
	}
	for _, other := range []string{"X-Beta-Secret-Name", "777/s", "global.pem", "<dt>Mutual TLS</dt>", "X-Note <b>"} {
		if strings.Contains(body, other) {
			t.Errorf("the settings page shows %q, which is not alpha's delivery view", other)
		}
	}

	alpha.Delivery = nil
	if body := page(beta, alpha); !strings.Contains(body, `<p class="note" id="delivery-settings">Nothing set`) ||
		strings.Contains(body, "777/s") {
		t.Errorf("alpha's target without delivery settings:\n%s", body)
	}
	if body := page(beta); strings.Contains(body, "<h2>Delivery</h2>") || strings.Contains(body, "777/s") {
		t.Errorf("alpha has no target running, yet the page speaks of its delivery:\n%s", body)
	}
}
