package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"os"
	"testing"

	"github.com/hookrt/hookd/internal/plugintest"
)

// multipartBody builds a multipart/form-data body of parts (name, content
// type, content), and returns its Content-Type and text.
func multipartBody(t *testing.T, parts ...[3]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p[0], p[0]))
		h.Set("Content-Type", p[1])
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(p[2]))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

// checkDomains validates the domain owners' routes: a stored domain, its
// tokens, its plugin versions, a dry run, its logs, audit and summary, as
// the operator and as the domain's owner, and their refusals.
func (l *liveAPI) checkDomains(t *testing.T) {
	t.Helper()
	wasm, err := os.ReadFile(plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/rate-limit"))
	if err != nil {
		t.Fatal(err)
	}
	J := []string{"Content-Type", ctJSONHeader}
	spec := fmt.Sprintf(`{"script":%q,"strict":true}`, l.hookRecv.URL+"/domain-5")

	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, body: spec, status: 200})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, body: `{"scrpt":"x"}`, status: 400})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: []string{"Content-Type", "text/plain"}, body: spec, status: 415, docRefuses: true})
	l.check(t, call{method: "GET", path: "/v1/domains", status: 200})
	l.check(t, call{method: "GET", path: "/v1/domains/5", status: 200})
	l.check(t, call{method: "GET", path: "/v1/domains/6", status: 404})

	tok := l.check(t, call{method: "POST", path: "/v1/domains/5/tokens", header: J, body: `{"name":"ci","ttl":"720h"}`, status: 201})
	secret, _ := field(t, tok, "token").(string)
	tokID, _ := field(t, tok, "id").(string)
	if secret == "" || tokID == "" {
		t.Fatalf("no token in %s", tok)
	}
	l.domainTokens[secret] = true
	l.check(t, call{method: "POST", path: "/v1/domains/5/tokens", header: J, body: `{"name":""}`, status: 400, docRefuses: true})
	l.check(t, call{method: "POST", path: "/v1/domains/5/tokens", header: J, body: `{"name":"x","ttl":"forever"}`, status: 400})
	l.check(t, call{method: "GET", path: "/v1/domains/5/tokens", status: 200})

	// Delivery settings: literal values from the owner; a file only from
	// the operator; a wrong key or scheme refused by both.
	owned := fmt.Sprintf(`{"script":%q,"strict":true,"delivery":{"headers":{"X-Tenant":"five"},"rate_limit":5,"filter":{"where":{"DOMAIN_ID":"5"}}}}`,
		l.hookRecv.URL+"/domain-5")
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, body: owned, status: 200, token: secret})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, status: 400, token: secret,
		body: `{"script":"https://acme.example/e","delivery":{"headers":{"Authorization":{"file":"hook.token"}}}}`})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, status: 400, docRefuses: true,
		body: `{"script":"https://acme.example/e","delivery":{"signing":"hmac"}}`})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, status: 400, docRefuses: true,
		body: `{"script":"https://acme.example/e","delivery":{"header":{"X-A":"b"}}}`})
	l.check(t, call{method: "PUT", path: "/v1/domains/5", header: J, body: spec, status: 200})

	settings := `{"config":{"limit":1000,"secret":"s3cret","message":"-"}}`
	ct, body := multipartBody(t, [3]string{"module", "application/wasm", string(wasm)}, [3]string{"settings", "application/json", settings})
	MP := []string{"Content-Type", ct}
	v1 := l.check(t, call{method: "PUT", path: "/v1/domains/5/plugin", header: MP, body: body, status: 201, token: secret})
	if field(t, v1, "version") != float64(1) || field(t, v1, "active") != true {
		t.Errorf("the first version: %s", v1)
	}
	l.check(t, call{method: "PUT", path: "/v1/domains/5/plugin?activate=false", header: MP, body: body, status: 201})
	l.check(t, call{method: "PUT", path: "/v1/domains/5/plugin", header: J, body: `{}`, status: 415, docRefuses: true})
	bad, badBody := multipartBody(t, [3]string{"module", "application/wasm", "not wasm"})
	l.check(t, call{method: "PUT", path: "/v1/domains/5/plugin", header: []string{"Content-Type", bad}, body: badBody, status: 400})
	l.check(t, call{method: "GET", path: "/v1/domains/5/plugin/versions", status: 200, token: secret})
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/versions/2/activate", status: 200, token: secret})
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/versions/1/activate", status: 200}) // a rollback
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/versions/9/activate", status: 404})
	l.check(t, call{method: "DELETE", path: "/v1/domains/5/plugin/versions/1", status: 409})
	l.check(t, call{method: "DELETE", path: "/v1/domains/5/plugin/versions/2", status: 200, token: secret})
	l.check(t, call{method: "DELETE", path: "/v1/domains/5/plugin/versions/x", status: 400, docRefuses: true})

	run := `{"version":1,"events":[{"MODULE":"ISL_LIGHT","EVENT":"START","DOMAIN_ID":"5","SESSIONID":"s-9"}]}`
	res := l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: J, body: run, status: 200, token: secret})
	if field(t, res, "results", 0, "verdict") == nil {
		t.Errorf("dry run: %s", res)
	}
	ct, body = multipartBody(t, [3]string{"module", "application/wasm", string(wasm)},
		[3]string{"request", "application/json", `{"settings":` + settings + `,"events":[{"MODULE":"ISL_LIGHT","EVENT":"START","DOMAIN_ID":"5"}]}`})
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: []string{"Content-Type", ct}, body: body, status: 200})
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: J, body: `{"evnts":[]}`, status: 400, docRefuses: true})

	// Sign-ups: the signup-guard example, uploaded for the test, decides
	// each (its count in memory: the second acme address is past max 1).
	guard, err := os.ReadFile(plugintest.Build(t, "github.com/hookrt/hookd/plugins/examples/signup-guard"))
	if err != nil {
		t.Fatal(err)
	}
	ct, body = multipartBody(t, [3]string{"module", "application/wasm", string(guard)},
		[3]string{"request", "application/json", `{"settings":{"plugin":{"state":true},"config":{"allow":["acme.example"],"max":1}},` +
			`"signups":[{"username":"ann","email":"ann@acme.example","language":"de"},{"username":"eve","domain":"5","email":"eve@elsewhere.example"},` +
			`{"username":"bob","email":"bob@acme.example"}]}`})
	res = l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: []string{"Content-Type", ct}, body: body, status: 200, token: secret})
	for i, want := range []string{"allow", "refuse", "refuse"} {
		if got := field(t, res, "signups", i, "decision"); got != want {
			t.Errorf("sign-up %d: decision %v, want %s: %s", i, got, want, res)
		}
	}
	if got := field(t, res, "signups", 2, "reason"); got != "This domain takes no more sign-ups (its limit is 1)." {
		t.Errorf("bob's reason: %v", got)
	}
	if n := len(field(t, res, "results").([]any)); n != 0 {
		t.Errorf("sign-ups alone ran %d events: %s", n, res)
	}
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: J, status: 400,
		body: `{"version":1,"signups":[{"username":"x","domain":"6"}]}`})
	l.check(t, call{method: "POST", path: "/v1/domains/5/plugin/test", header: J, status: 400, docRefuses: true,
		body: `{"version":1,"signups":[{"username":"x","password":"hunter2"}]}`})

	l.check(t, call{method: "GET", path: "/v1/domains/5/logs?limit=10", status: 200, token: secret})
	l.check(t, call{method: "GET", path: "/v1/domains/5/logs?limit=0", status: 400, docRefuses: true})
	l.check(t, call{method: "GET", path: "/v1/domains/5/audit", status: 200, token: secret})
	l.check(t, call{method: "GET", path: "/v1/domains/5/summary", status: 200, token: secret})

	// The owner's token reaches its domain only, and none of the
	// operator's routes.
	l.check(t, call{method: "GET", path: "/v1/domains/6", status: 404, token: secret})
	l.check(t, call{method: "GET", path: "/v1/targets", status: 404, token: secret})
	l.check(t, call{method: "GET", path: "/v1/domains/5/tokens", status: 404, token: secret})

	l.check(t, call{method: "DELETE", path: "/v1/domains/5/tokens/" + tokID, status: 200})
	l.check(t, call{method: "DELETE", path: "/v1/domains/5", status: 200})
	l.check(t, call{method: "DELETE", path: "/v1/domains/5", status: 404})
}
