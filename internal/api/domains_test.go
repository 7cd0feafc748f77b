package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/api"
)

// domainFake is a fakeBackend with domains: these tests are about the
// HTTP layer of the domain routes (principals, bodies, limits, error
// mapping); TestIsolation and TestOpenAPIMatchesServer run the real
// runtime.
type domainFake struct {
	*fakeBackend
	dmu      sync.Mutex
	putErr   error  // PutDomain's error when set
	pushed   []byte // the last module pushed
	settings []byte
	activate bool
	dryRun   hook.DryRunRequest
}

func (f *domainFake) AuthenticateDomainToken(_ context.Context, token string) (hook.Principal, error) {
	switch token {
	case "hkd_dt_five":
		return hook.Principal{Domain: "5", TokenID: "dt_five", TokenName: "ci"}, nil
	case "hkd_dt_down":
		return hook.Principal{}, fmt.Errorf("reading tokens: %w", hook.ErrUnavailable)
	}
	return hook.Principal{}, fmt.Errorf("domain token: %w", hook.ErrNotFound)
}

func (f *domainFake) Domains(_ context.Context, who hook.Principal) ([]hook.DomainInfo, error) {
	return []hook.DomainInfo{{ID: "5", Source: hook.DomainFromStore, Spec: []byte(`{}`)}}, nil
}

// Domain does not scope: the API must not ask about a domain the
// principal may not see.
func (f *domainFake) Domain(_ context.Context, _ hook.Principal, id string) (hook.DomainInfo, error) {
	return hook.DomainInfo{ID: id, Source: hook.DomainFromStore, Spec: []byte(`{"script":"https://secret.example/` + id + `"}`)}, nil
}

func (f *domainFake) PutDomain(_ context.Context, _ hook.Principal, id string, spec []byte) (hook.DomainInfo, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	if f.putErr != nil {
		return hook.DomainInfo{}, f.putErr
	}
	return hook.DomainInfo{ID: id, Source: hook.DomainFromStore, Spec: spec}, nil
}

func (f *domainFake) DeleteDomain(context.Context, hook.Principal, string) error { return nil }

func (f *domainFake) CreateDomainToken(_ context.Context, _ hook.Principal, domain, name string, ttl time.Duration) (hook.DomainToken, error) {
	return hook.DomainToken{ID: "dt_new", Domain: domain, Name: name + "/" + ttl.String(), Secret: "hkd_dt_new_s3cret"}, nil
}

func (f *domainFake) DomainTokens(context.Context, hook.Principal, string) ([]hook.DomainToken, error) {
	return []hook.DomainToken{{ID: "dt_1", Secret: "must not be shown"}}, nil
}

func (f *domainFake) RevokeDomainToken(_ context.Context, _ hook.Principal, _, tokenID string) error {
	if tokenID != "dt_1" {
		return fmt.Errorf("token %q: %w", tokenID, hook.ErrNotFound)
	}
	return nil
}

func (f *domainFake) PushPlugin(_ context.Context, _ hook.Principal, domain string, module, settings []byte, activate bool) (hook.PluginVersion, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	f.pushed, f.settings, f.activate = module, settings, activate
	if string(module) == "conflict" {
		return hook.PluginVersion{}, fmt.Errorf("domain %q is defined in config.toml: %w", domain, hook.ErrConflict)
	}
	return hook.PluginVersion{Domain: domain, Version: 1, Size: int64(len(module)), Active: activate}, nil
}

func (f *domainFake) PluginVersions(context.Context, hook.Principal, string) ([]hook.PluginVersion, error) {
	return nil, nil
}

func (f *domainFake) ActivatePlugin(_ context.Context, _ hook.Principal, domain string, version int) (hook.PluginVersion, error) {
	return hook.PluginVersion{Domain: domain, Version: version, Active: true}, nil
}

func (f *domainFake) DeletePluginVersion(_ context.Context, _ hook.Principal, _ string, version int) error {
	if version == 1 {
		return fmt.Errorf("version 1 is active: %w", hook.ErrConflict)
	}
	return nil
}

func (f *domainFake) DryRunPlugin(_ context.Context, _ hook.Principal, _ string, req hook.DryRunRequest) (hook.DryRunReport, error) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	f.dryRun = req
	return hook.DryRunReport{Results: []hook.DryRunResult{{EventID: "ev-1", Verdict: "acknowledged"}}}, nil
}

func (f *domainFake) PluginLogs(context.Context, hook.Principal, string, int) ([]hook.PluginLogLine, error) {
	return nil, nil
}

func (f *domainFake) DomainAudit(context.Context, hook.Principal, string, int) ([]hook.AuditEntry, error) {
	return nil, nil
}

func (f *domainFake) DomainSummary(_ context.Context, _ hook.Principal, domain string) (hook.DomainSummary, error) {
	return hook.DomainSummary{Domain: domain}, nil
}

// setupDomains starts the API over a domainFake.
func setupDomains(t *testing.T, opts api.Options) (*testBundle, *domainFake) {
	t.Helper()
	f := &domainFake{fakeBackend: newFakeBackend()}
	tb := &testBundle{b: f.fakeBackend, logs: &logBuffer{}}
	opts.Logger = slog.New(slog.NewTextHandler(tb.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tb.srv = httptest.NewServer(api.New(f, opts))
	t.Cleanup(tb.srv.Close)
	return tb, f
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// TestDomainTokens: a domain token is its domain's owner: its domain's
// routes answer, another domain's and the operator's routes are 404 (the
// API checks before asking the backend), a wrong one is 401 and counts
// toward the back-off, and a store that cannot say is 503, not 401.
func TestDomainTokens(t *testing.T) {
	t.Parallel()
	tb, _ := setupDomains(t, api.Options{Token: "op"})
	five := bearer("hkd_dt_five")
	tb.do(t, "GET", "/v1/domains/5", "", five...).want(t, http.StatusOK)
	if want := `principal="domain \"5\" token \"ci\" (dt_five)"`; !strings.Contains(tb.logs.String(), want) {
		t.Errorf("the request log does not say who asked (%s):\n%s", want, tb.logs)
	}
	a := tb.do(t, "GET", "/v1/domains/6", "", five...)
	a.wantError(t, http.StatusNotFound, `domain "6" not found`)
	tb.do(t, "GET", "/v1/domains/6", "", bearer("op")...).want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/targets", "", five...).wantError(t, http.StatusNotFound, "no such path: /v1/targets")
	tb.do(t, "DELETE", "/v1/domains/5", "", five...).wantError(t, http.StatusNotFound, "no such path: /v1/domains/5")
	tb.do(t, "GET", "/v1/domains/5/tokens", "", five...).want(t, http.StatusNotFound)
	tb.do(t, "POST", "/v1/events", `{"MODULE":"M","EVENT":"E"}`, append(five, "Content-Type", "application/json")...).want(t, http.StatusNotFound)

	// Its deliveries only: the list is narrowed to its target.
	tb.do(t, "GET", "/v1/deliveries", "", five...).want(t, http.StatusOK)
	tb.b.set(func(b *fakeBackend) {
		if b.lastFilter.Target != "http_events.domain.5" {
			t.Errorf("a domain token's list asked for target %q", b.lastFilter.Target)
		}
	})
	tb.do(t, "GET", "/v1/deliveries?target=jwt_webhook", "", five...).wantError(t, http.StatusNotFound, `no target "jwt_webhook"`)
	tb.do(t, "GET", "/v1/deliveries/42", "", five...).wantError(t, http.StatusNotFound, "delivery 42 not found")
	tb.do(t, "POST", "/v1/deliveries/42/retry", "", five...).wantError(t, http.StatusNotFound, "delivery 42 not found")

	tb.do(t, "GET", "/v1/domains/5", "", bearer("hkd_dt_down")...).wantError(t, http.StatusServiceUnavailable, "store unavailable, try again")
	for i := 0; ; i++ {
		a := tb.do(t, "GET", "/v1/domains/5", "", bearer("hkd_dt_guess")...)
		if a.status == http.StatusTooManyRequests {
			break
		}
		a.wantError(t, http.StatusUnauthorized, "invalid bearer token")
		if i == 50 {
			t.Fatal("wrong domain tokens were never slowed down")
		}
	}
}

// TestDomainTokensWithoutAuth: on a loopback API without a token, a
// domain token still makes its owner (scoped), anything else the operator.
func TestDomainTokensWithoutAuth(t *testing.T) {
	t.Parallel()
	tb, _ := setupDomains(t, api.Options{})
	tb.do(t, "GET", "/v1/domains/6", "", bearer("hkd_dt_five")...).want(t, http.StatusNotFound)
	tb.do(t, "GET", "/v1/domains/6", "", bearer("anything")...).want(t, http.StatusOK)
	tb.do(t, "GET", "/v1/domains/6", "").want(t, http.StatusOK)
}

// TestDomainBodies: every body is bounded and checked, and the backend's
// refusals keep their words with the right status.
func TestDomainBodies(t *testing.T) {
	t.Parallel()
	tb, f := setupDomains(t, api.Options{MaxPluginSize: 1024})
	J := []string{"Content-Type", "application/json"}
	tb.do(t, "PUT", "/v1/domains/5", `{"script":"https://x.example/"}`, J...).want(t, http.StatusOK)
	tb.do(t, "PUT", "/v1/domains/5", `{"script":`, J...).wantError(t, http.StatusBadRequest, "the body is not JSON: send the domain's settings")
	tb.do(t, "PUT", "/v1/domains/5", `{}`, "Content-Type", "text/plain").want(t, http.StatusUnsupportedMediaType)
	tb.do(t, "PUT", "/v1/domains/5", `{"x":"`+strings.Repeat("x", 70<<10)+`"}`, J...).
		wantError(t, http.StatusRequestEntityTooLarge, "the domain's settings: larger than the limit of 65536 bytes")
	tb.do(t, "PUT", "/v1/domains/5?force=1", `{}`, J...).want(t, http.StatusBadRequest)
	f.dmu.Lock()
	f.putErr = hook.Invalid(`domain "5": unknown key "scrpt"; use script, strict, combine_interval, plugin, config`)
	f.dmu.Unlock()
	tb.do(t, "PUT", "/v1/domains/5", `{"scrpt":"x"}`, J...).
		wantError(t, http.StatusBadRequest, `domain "5": unknown key "scrpt"; use script, strict, combine_interval, plugin, config`)
	f.dmu.Lock()
	f.putErr = fmt.Errorf(`domain "5" is defined in config.toml ([[domain]]); change it there: %w`, hook.ErrConflict)
	f.dmu.Unlock()
	tb.do(t, "PUT", "/v1/domains/5", `{}`, J...).want(t, http.StatusConflict)

	tok := tb.do(t, "POST", "/v1/domains/5/tokens", `{"name":"ci","ttl":"720h"}`, J...).want(t, http.StatusCreated)
	if tok.json["token"] != "hkd_dt_new_s3cret" || tok.json["name"] != "ci/720h0m0s" {
		t.Errorf("new token: %s", tok.raw)
	}
	tb.do(t, "POST", "/v1/domains/5/tokens", `{"name":"ci","ttl":"-1h"}`, J...).want(t, http.StatusBadRequest)
	tb.do(t, "POST", "/v1/domains/5/tokens", `{"name":"ci","role":"admin"}`, J...).want(t, http.StatusBadRequest)
	tb.do(t, "POST", "/v1/domains/5/tokens", `{"name":"`+strings.Repeat("n", 5000)+`"}`, J...).want(t, http.StatusRequestEntityTooLarge)
	if l := tb.do(t, "GET", "/v1/domains/5/tokens", "").want(t, http.StatusOK); strings.Contains(l.raw, "must not be shown") {
		t.Errorf("a token list shows a secret: %s", l.raw)
	}
	tb.do(t, "DELETE", "/v1/domains/5/tokens/dt_2", "").wantError(t, http.StatusNotFound, `token "dt_2" of domain "5" not found`)

	// Plugin uploads.
	up := func(query string, parts ...[3]string) answer {
		t.Helper()
		ct, body := multipartBody(t, parts...)
		return tb.do(t, "PUT", "/v1/domains/5/plugin"+query, body, "Content-Type", ct)
	}
	mod := func(b string) [3]string { return [3]string{"module", "application/wasm", b} }
	up("?activate=false", mod("\x00asm"), [3]string{"settings", "application/json", `{"config":{}}`}).want(t, http.StatusCreated)
	f.dmu.Lock()
	if string(f.pushed) != "\x00asm" || string(f.settings) != `{"config":{}}` || f.activate {
		t.Errorf("pushed %q %q activate %v", f.pushed, f.settings, f.activate)
	}
	f.dmu.Unlock()
	up("", mod("\x00asm")).want(t, http.StatusCreated)
	f.dmu.Lock()
	if !f.activate {
		t.Error("a push without activate=false is not activated")
	}
	f.dmu.Unlock()
	up("", mod(strings.Repeat("w", 1025))).wantError(t, http.StatusRequestEntityTooLarge,
		"the module: larger than the limit of 1024 bytes ([domains] max_plugin_size)")
	up("", mod(strings.Repeat("w", 100<<10))).want(t, http.StatusRequestEntityTooLarge)
	up("", mod("a"), mod("b")).wantError(t, http.StatusBadRequest, `part "module" given more than once`)
	up("", mod("a"), [3]string{"readme", "text/plain", "x"}).wantError(t, http.StatusBadRequest, `unknown part "readme": send ["module" "settings"]`)
	up("", [3]string{"settings", "application/json", `{}`}).want(t, http.StatusBadRequest)
	up("?activate=maybe", mod("a")).wantError(t, http.StatusBadRequest, `activate "maybe": must be true or false`)
	up("", mod("conflict")).want(t, http.StatusConflict)
	tb.do(t, "PUT", "/v1/domains/5/plugin", "\x00asm", "Content-Type", "application/wasm").want(t, http.StatusUnsupportedMediaType)

	tb.do(t, "POST", "/v1/domains/5/plugin/versions/2/activate", "").want(t, http.StatusOK)
	tb.do(t, "POST", "/v1/domains/5/plugin/versions/0/activate", "").want(t, http.StatusBadRequest)
	tb.do(t, "DELETE", "/v1/domains/5/plugin/versions/1", "").want(t, http.StatusConflict)
	tb.do(t, "GET", "/v1/domains/5/logs?limit=1001", "").wantError(t, http.StatusBadRequest, `limit "1001": must be a number from 1 to 1000`)
	tb.do(t, "GET", "/v1/domains/5/audit?since=1h", "").want(t, http.StatusBadRequest)

	// Dry runs: JSON, or multipart with the candidate.
	tb.do(t, "POST", "/v1/domains/5/plugin/test", `{"version":2,"last":3}`, J...).want(t, http.StatusOK)
	f.dmu.Lock()
	if f.dryRun.Version != 2 || f.dryRun.Last != 3 || f.dryRun.Module != nil {
		t.Errorf("dry run %+v", f.dryRun)
	}
	f.dmu.Unlock()
	ct, body := multipartBody(t, mod("\x00asm"), [3]string{"request", "application/json", `{"events":[{"EVENT":"START"}],"live_http":true}`})
	tb.do(t, "POST", "/v1/domains/5/plugin/test", body, "Content-Type", ct).want(t, http.StatusOK)
	f.dmu.Lock()
	if string(f.dryRun.Module) != "\x00asm" || len(f.dryRun.Events) != 1 || !f.dryRun.LiveHTTP {
		t.Errorf("dry run %+v", f.dryRun)
	}
	f.dmu.Unlock()
	tb.do(t, "POST", "/v1/domains/5/plugin/test", `{"last":3}`, J...).
		wantError(t, http.StatusBadRequest, `nothing to test: give "version" (a stored one) or upload the candidate as the multipart part "module"`)
	tb.do(t, "POST", "/v1/domains/5/plugin/test", `{"version":1,"module":"AGFzbQ=="}`, J...).want(t, http.StatusBadRequest)
	big := bytes.Repeat([]byte("x"), 1<<20)
	tb.do(t, "POST", "/v1/domains/5/plugin/test", `{"version":1,"events":[{"X":"`+string(big)+`"}]}`, J...).want(t, http.StatusRequestEntityTooLarge)
}
