package main

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// apiRecorder is an HTTP server answering the domain routes with fixed
// answers, recording what the CLI sent: the CLI's side of the contract
// (method, path, query, body, token), which the daemon tests then run
// against the real API.
type apiRecorder struct {
	mu   sync.Mutex
	reqs []recorded
	// answers by "METHOD path": status and body.
	answers map[string]answer
}

type recorded struct {
	method, path, query, auth, contentType string
	body                                   []byte
}

type answer struct {
	status int
	body   string
}

func (a *apiRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.reqs = append(a.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
	ans, ok := a.answers[r.Method+" "+r.URL.EscapedPath()]
	a.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ans.status)
	io.WriteString(w, ans.body)
}

// last is the last request the server got.
func (a *apiRecorder) last(t *testing.T) recorded {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		t.Fatal("no request")
	}
	return a.reqs[len(a.reqs)-1]
}

const (
	domainJSON  = `{"id":"42","source":"store","spec":{"script":"","strict":true},"plugin":{"domain":"42","version":3,"sha256":"1a2b3c4d5e6f7a8b9c0d","size":1234,"created_at":"2026-01-02T03:04:05Z","created_by":"operator","active":true},"revision":5,"updated_at":"2026-01-02T03:04:05Z","updated_by":"operator","target":"http_events:domain:42"}`
	versionJSON = `{"domain":"42","version":4,"sha256":"ffeeddccbbaa99887766","size":99,"created_at":"2026-01-02T03:04:05Z","created_by":"operator","active":true}`
)

// TestCLIDomainsRequests: every domains and remote plugin command sends
// the request of PLAN17's routes (method, path, query, body, the token
// of $HOOKD_TOKEN) and prints the answer; -json prints it as it came.
func TestCLIDomainsRequests(t *testing.T) {
	rec := &apiRecorder{answers: map[string]answer{
		"GET /v1/domains":                                {200, `{"domains":[` + domainJSON + `,{"id":"7","source":"config","spec":{"script":"https://acme.example/ev"},"target":"http_events:domain:7"}]}`},
		"GET /v1/domains/42":                             {200, domainJSON},
		"PUT /v1/domains/42":                             {200, domainJSON},
		"DELETE /v1/domains/42":                          {204, ``},
		"POST /v1/domains/42/tokens":                     {201, `{"id":"dt_abc","domain":"42","name":"ci","created_at":"2026-01-02T03:04:05Z","created_by":"operator","token":"hkd_dt_abc_SECRET"}`},
		"GET /v1/domains/42/tokens":                      {200, `{"tokens":[{"id":"dt_abc","domain":"42","name":"ci","created_at":"2026-01-02T03:04:05Z","created_by":"operator"}]}`},
		"DELETE /v1/domains/42/tokens/dt_abc":            {204, ``},
		"PUT /v1/domains/42/plugin":                      {200, versionJSON},
		"GET /v1/domains/42/plugin/versions":             {200, `{"versions":[` + versionJSON + `]}`},
		"POST /v1/domains/42/plugin/versions/3/activate": {200, versionJSON},
		"DELETE /v1/domains/42/plugin/versions/2":        {204, ``},
		"POST /v1/domains/42/plugin/test":                {200, `{"results":[{"event_id":"e1","fields":{"MODULE":"ISL_LIGHT","EVENT":"START"},"verdict":"acknowledged","status":0,"reply":"<nomessage/>","logs":["info: hi"],"host_calls":[{"function":"http_request","result":"ok","detail":"stub 1"}],"duration_ns":1500000,"memory_bytes":131072}]}`},
		"GET /v1/domains/42/logs":                        {200, `{"lines":[{"at":"2026-01-02T03:04:05Z","node":"a/1","domain":"42","event_id":"e1","level":"info","line":"hi\u001b[31m"}]}`},
		"GET /v1/domains/42/audit":                       {200, `{"entries":[{"id":1,"at":"2026-01-02T03:04:05Z","actor":"operator","domain":"42","action":"plugin.push","detail":{"version":4}}]}`},
		"GET /v1/domains/42/summary":                     {200, `{"domain":"42","target":"http_events:domain:42","deliveries":{"delivered":3,"dead":1}}`},
		"GET /v1/domains/9":                              {404, `{"error":"no domain \"9\""}`},
		"POST /v1/domains/43/plugin/test":                {200, `{"results":[{"event_id":"e2","verdict":"failed","error":"strict: status 1"}]}`},
		"POST /v1/domains/42/plugin/versions/9/activate": {409, `{"error":"no version 9"}`},
		"DELETE /v1/domains/42/plugin/versions/3":        {409, `{"error":"version 3 is active"}`},
		"PUT /v1/domains/7":                              {409, `{"error":"domain \"7\" is defined in config.toml ([[domain]]); change it there"}`},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("HOOKD_ADDR", srv.URL)
	t.Setenv("HOOKD_TOKEN", "hkd_dt_x_owner")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wasm := write("guard.wasm", "\x00asm\x01\x00\x00\x00")

	out, _ := mustHookd(t, "domains", "list")
	if !regexp.MustCompile(`(?m)^ID +SOURCE +TARGET +SCRIPT +PLUGIN +REVISION +UPDATED\n42 +store +http_events:domain:42 +- +v3 1a2b3c4d5e6f +5 +\S+ by operator\n7 +config +http_events:domain:7 +https://acme.example/ev +- +0 +-$`).MatchString(out) {
		t.Errorf("domains list:\n%s", out)
	}
	if r := rec.last(t); r.auth != "Bearer hkd_dt_x_owner" {
		t.Errorf("token sent: %q", r.auth)
	}
	out, _ = mustHookd(t, "domains", "list", "-json")
	if !strings.HasPrefix(out, `{"domains":[`) {
		t.Errorf("domains list -json: %s", out)
	}
	out, _ = mustHookd(t, "domains", "get", "42")
	for _, want := range []string{"domain:   42\n", "plugin:   version 3, sha256 1a2b3c4d5e6f7a8b9c0d, 1234 bytes", "revision: 5, ", `"strict": true`} {
		if !strings.Contains(out, want) {
			t.Errorf("domains get: no %q in\n%s", want, out)
		}
	}

	// put: a JSON file as it is, a TOML file as JSON.
	mustHookd(t, "domains", "put", "42", write("d.json", `{"strict": false, "combine_interval": "2s"}`))
	if r := rec.last(t); r.method != "PUT" || r.contentType != "application/json" || string(r.body) != `{"strict": false, "combine_interval": "2s"}` {
		t.Errorf("domains put JSON: %+v %s", r, r.body)
	}
	mustHookd(t, "domains", "put", "42", write("d.toml", "strict = false\n[plugin]\nmemory_pages = 32\n[config]\nmode = \"x\"\n"))
	if r := rec.last(t); string(r.body) != `{"config":{"mode":"x"},"plugin":{"memory_pages":32},"strict":false}` {
		t.Errorf("domains put TOML: %s", r.body)
	}
	if code, _, errb := hookd("domains", "put", "42", write("bad.json", `[1]`)); code != 2 || !strings.Contains(errb, "want a JSON object") {
		t.Errorf("put of an array: exit %d %s", code, errb)
	}
	if code, _, errb := hookd("domains", "put", "7", write("d2.json", `{}`)); code != 1 || !strings.Contains(errb, `PUT /v1/domains/7: 409 Conflict: domain "7" is defined in config.toml`) {
		t.Errorf("put of a config domain: exit %d %s", code, errb)
	}
	if code, _, errb := hookd("domains", "get", "9"); code != 1 || !strings.Contains(errb, `404 Not Found: no domain "9"`) {
		t.Errorf("get of an unknown domain: exit %d %s", code, errb)
	}
	if out, _ := mustHookd(t, "domains", "delete", "42"); out != "domain 42: deleted\n" || rec.last(t).method != "DELETE" {
		t.Errorf("domains delete: %q", out)
	}

	// Tokens: the token alone on stdout, the rest on stderr.
	out, errb := mustHookd(t, "domains", "token", "create", "42", "-name", "ci", "-ttl", "720h")
	if out != "hkd_dt_abc_SECRET\n" || !strings.Contains(errb, `token dt_abc ("ci"), never expires. It is shown only now`) {
		t.Errorf("token create: %q %q", out, errb)
	}
	var sent map[string]string
	if r := rec.last(t); json.Unmarshal(r.body, &sent) != nil || sent["name"] != "ci" || sent["ttl"] != "720h0m0s" {
		t.Errorf("token create sent %s", r.body)
	}
	if code, _, errb := hookd("domains", "token", "create", "42"); code != 2 || !strings.Contains(errb, "-name NAME is required") {
		t.Errorf("token create without -name: exit %d %s", code, errb)
	}
	out, _ = mustHookd(t, "domains", "token", "list", "42")
	if !regexp.MustCompile(`(?m)^ID +NAME +CREATED +BY +EXPIRES\ndt_abc +ci +\S+ +operator +-$`).MatchString(out) {
		t.Errorf("token list:\n%s", out)
	}
	if out, _ := mustHookd(t, "domains", "token", "revoke", "42", "dt_abc"); out != "domain 42: token dt_abc revoked\n" {
		t.Errorf("token revoke: %q", out)
	}

	// Plugins.
	out, _ = mustHookd(t, "plugin", "push", "-domain", "42", wasm, "-settings", write("s.json", `{"plugin":{"memory_pages":16},"config":{"allow":["a.example"]}}`))
	if out != "domain 42: plugin version 4 (sha256 ffeeddccbbaa99887766, 99 bytes) active on every node\n" {
		t.Errorf("plugin push: %q", out)
	}
	r := rec.last(t)
	parts := multipartParts(t, r)
	if r.method != "PUT" || r.query != "" || parts["module"] != "\x00asm\x01\x00\x00\x00" || parts["settings"] != `{"plugin":{"memory_pages":16},"config":{"allow":["a.example"]}}` {
		t.Errorf("plugin push sent %s ?%s %q", r.method, r.query, parts)
	}
	mustHookd(t, "plugin", "push", "-domain", "42", "-activate=false", wasm)
	if r := rec.last(t); r.query != "activate=false" || len(multipartParts(t, r)) != 1 {
		t.Errorf("plugin push -activate=false sent ?%s", r.query)
	}
	if code, _, errb := hookd("plugin", "push", wasm); code != 2 || !strings.Contains(errb, "-domain ID is required") {
		t.Errorf("plugin push without -domain: exit %d %s", code, errb)
	}
	out, _ = mustHookd(t, "plugin", "versions", "-domain", "42")
	if !regexp.MustCompile(`(?m)^VERSION +ACTIVE +SHA256 +SIZE +CREATED +BY\n4 +\* +ffeeddccbbaa +99 +\S+ +operator$`).MatchString(out) {
		t.Errorf("plugin versions:\n%s", out)
	}
	if out, _ := mustHookd(t, "plugin", "activate", "-domain", "42", "3"); !strings.HasPrefix(out, "domain 42: plugin version 3 (sha256 ffeeddccbbaa) active on every node") {
		t.Errorf("plugin activate: %q", out)
	}
	if code, _, errb := hookd("plugin", "activate", "-domain", "42", "9"); code != 1 || !strings.Contains(errb, "409 Conflict: no version 9") {
		t.Errorf("activate of an unknown version: exit %d %s", code, errb)
	}
	if code, _, errb := hookd("plugin", "activate", "-domain", "42", "v3"); code != 2 || !strings.Contains(errb, `VERSION "v3": want a version number`) {
		t.Errorf("activate v3: exit %d %s", code, errb)
	}
	if out, _ := mustHookd(t, "plugin", "rm", "-domain", "42", "2"); out != "domain 42: plugin version 2 deleted\n" {
		t.Errorf("plugin rm: %q", out)
	}
	if code, _, errb := hookd("plugin", "rm", "-domain", "42", "3"); code != 1 || !strings.Contains(errb, "version 3 is active") {
		t.Errorf("rm of the active version: exit %d %s", code, errb)
	}

	// Dry runs: recorded events by default; a module and events uploaded.
	out, _ = mustHookd(t, "plugin", "test", "-domain", "42")
	if r := rec.last(t); r.contentType != "application/json" || string(r.body) != `{"version":4,"last":10}` {
		t.Errorf("plugin test sent %s %s", r.contentType, r.body)
	}
	for _, want := range []string{"event:    e1 ISL_LIGHT/START\n", "verdict:  acknowledged\n", "time:     1.5ms, memory 128 KiB\n", "log:      info: hi\n", "hostcall: http_request -> ok (stub 1)\n", "reply:    <nomessage/>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugin test: no %q in\n%s", want, out)
		}
	}
	events := write("ev.json", `[{"MODULE":"ISL_LIGHT","EVENT":"START"},{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}]`)
	stubs := write("stubs.json", `[{"url":"https://x.example/","status":200,"body":"ok"}]`)
	mustHookd(t, "plugin", "test", "-domain", "42", "-module", wasm, "-events", events, "-stubs", stubs, "-live-http")
	r = rec.last(t)
	parts = multipartParts(t, r)
	if parts["module"] != "\x00asm\x01\x00\x00\x00" || parts["request"] != `{"events":[{"EVENT":"START","MODULE":"ISL_LIGHT"},{"EVENT":"USER_CREATE","MODULE":"ISL_CP"}],"stubs":[{"url":"https://x.example/","status":200,"body":"ok"}],"live_http":true}` {
		t.Errorf("plugin test -module sent %q", parts)
	}
	if code, out, errb := hookd("plugin", "test", "-domain", "43", "-version", "1", "-last", "3"); code != 1 || !strings.Contains(out, "verdict:  failed\nerror:    strict: status 1\n") ||
		!strings.Contains(errb, "1 of 1 events would not be acknowledged") {
		t.Errorf("a dry run that fails: exit %d\n%s\n%s", code, out, errb)
	}
	for _, bad := range [][]string{
		{"-module", wasm, "-version", "2"},
		{"-events", events, "-last", "2"},
		{"-last", "1000"},
		{"-version", "-1"},
		{"-events", write("e.json", `{"A": 1}`)},
		{"-stubs", write("st.json", `[{"uri":"x"}]`)},
	} {
		if code, _, errb := hookd(append([]string{"plugin", "test", "-domain", "42"}, bad...)...); code != 2 {
			t.Errorf("plugin test %v: exit %d, want 2: %s", bad, code, errb)
		}
	}

	// Logs, audit, summary; what plugins wrote is cleaned for the terminal.
	out, _ = mustHookd(t, "domains", "logs", "42", "-limit", "5")
	if r := rec.last(t); r.query != "limit=5" || !regexp.MustCompile(`(?m)^AT +NODE +EVENT +LEVEL +LINE\n\S+ +a/1 +e1 +info +hi\\u001b\[31m$`).MatchString(out) {
		t.Errorf("domains logs (?%s):\n%s", r.query, out)
	}
	out, _ = mustHookd(t, "domains", "audit", "42")
	if !regexp.MustCompile(`(?m)^AT +ACTOR +ACTION +DETAIL\n\S+ +operator +plugin.push +\{"version":4\}$`).MatchString(out) {
		t.Errorf("domains audit:\n%s", out)
	}
	out, _ = mustHookd(t, "domains", "summary", "42")
	if !strings.Contains(out, "deliveries:   dead 1, delivered 3\n") || !strings.Contains(out, "plugin calls: -\n") {
		t.Errorf("domains summary:\n%s", out)
	}
	if code, _, errb := hookd("domains", "logs", "42", "-limit", "0"); code != 2 || !strings.Contains(errb, "-limit 0: must be 1 to 1000") {
		t.Errorf("logs -limit 0: exit %d %s", code, errb)
	}
}

// multipartParts reads a multipart request's parts by name.
func multipartParts(t *testing.T, r recorded) map[string]string {
	t.Helper()
	_, params, err := mime.ParseMediaType(r.contentType)
	if err != nil {
		t.Fatalf("%s: %v", r.contentType, err)
	}
	mr := multipart.NewReader(strings.NewReader(string(r.body)), params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts[p.FormName()] = string(b)
	}
}
