package webapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/webapi"
)

// post sends body to srv and returns the status, the decoded JSON answer
// and its headers.
func post(t *testing.T, srv *httptest.Server, method, path, contentType, body string) (int, map[string]any, http.Header) {
	t.Helper()
	status, raw, h := postRaw(t, srv, method, path, contentType, body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return status, m, h
}

// postRaw is post returning the body as sent.
func postRaw(t *testing.T, srv *httptest.Server, method, path, contentType, body string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, raw, resp.Header
}

func TestHandlerSignup(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	s, _ := provision(t, f.URL, func(s *webapi.Service) { s.ForwardPassword = true })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	const req = `{"username": "ann", "domain": "acme", "email": "ann@acme.example", "fullname": "Ann", "language": "sl", "password": "pw"}`

	for _, tc := range []struct {
		name, answer, want string
	}{
		{"ok", `{"result": {"code": "ok"}, "data": {"id": 7}}`,
			`{"result":{"code":"ok","description":"The account has been created.","message_id":"signup.ok","errors":[]},"data":{"id":7}}`},
		{"refused", `{"result": {"code": "taken", "description": "Uporabniško ime je zasedeno.", "errors": ["username"]}}`,
			`{"result":{"code":"refused","description":"Uporabniško ime je zasedeno.","message_id":"signup.refused","errors":["username"]},"data":null}`},
		{"unavailable", `<html>`,
			`{"result":{"code":"unavailable","description":"The sign-up service is unavailable. Please try again later.","message_id":"signup.unavailable","errors":[]},"data":null}`},
	} {
		f.set(answerJSON(200, tc.answer))
		status, got, h := postRaw(t, srv, "POST", webapi.PathSignup, "application/json; charset=utf-8", req)
		if status != 200 {
			t.Errorf("%s: HTTP %d %s", tc.name, status, got)
		}
		if string(got) != tc.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
		}
	}
	reqs := f.requests()
	if want := `{"username":"ann","domain":"acme","email":"ann@acme.example","fullname":"Ann","language":"sl","password":"pw"}`; string(reqs[0].Body) != want {
		t.Errorf("forwarded %s\nwant %s", reqs[0].Body, want)
	}

	off, _ := provision(t, f.URL, func(s *webapi.Service) { s.UseSignup = false })
	srvOff := httptest.NewServer(off.Handler())
	defer srvOff.Close()
	_, got, _ := postRaw(t, srvOff, "POST", webapi.PathSignup, "", `{}`)
	if string(got) != `{"result":{"code":"not_delegated","description":"Sign-up is handled by the proxy.","message_id":"signup.not_delegated","errors":[]},"data":null}`+"\n" {
		t.Errorf("not delegated: %s", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	s, _ := provision(t, f.URL, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		name, method, path, ct, body string
		status                       int
		err                          string
	}{
		{"GET", "GET", webapi.PathSignup, "", "", 405, "method GET not allowed; use POST"},
		{"PUT", "PUT", webapi.PathForgot, "application/json", "{}", 405, "method PUT not allowed; use POST"},
		{"unknown path", "POST", "/v1/webapi/account/signup/2", "", "{}", 404, `no such path "/v1/webapi/account/signup/2"; the WebAPI paths are /v1/webapi/account/signup/1 and /v1/webapi/account/password/forgot/1`},
		{"empty body", "POST", webapi.PathSignup, "", "", 400, `body must be a JSON object like {"username": "ann", "domain": "acme"}`},
		{"array", "POST", webapi.PathSignup, "", `[{"username": "ann"}]`, 400, `body must be a JSON object like {"username": "ann", "domain": "acme"}`},
		{"malformed", "POST", webapi.PathSignup, "", `{"username": "ann",}`, 400, "invalid JSON at byte 20: invalid character '}' looking for beginning of object key string"},
		{"cut short", "POST", webapi.PathSignup, "", `{"username": "ann"`, 400, "invalid JSON: the body ends before the object does"},
		{"trailing data", "POST", webapi.PathSignup, "", `{"username": "ann"} {}`, 400, "invalid JSON: unexpected data after the object"},
		{"unknown field", "POST", webapi.PathSignup, "", `{"username": "ann", "admin": true}`, 400, `unknown field "admin"; allowed: username, domain, email, fullname, language, password`},
		{"password to forgot", "POST", webapi.PathForgot, "", `{"username": "ann", "password": "x"}`, 400, `unknown field "password"; allowed: username, domain, email, language`},
		{"wrong type", "POST", webapi.PathSignup, "", `{"username": 42}`, 400, `field "username": must be a string, got a JSON number`},
		{"too large", "POST", webapi.PathSignup, "", `{"username": "` + strings.Repeat("a", 64<<10) + `"}`, 413, "body larger than 65536 bytes (64 KiB)"},
		{"form", "POST", webapi.PathSignup, "application/x-www-form-urlencoded", "username=ann", 415, `content type "application/x-www-form-urlencoded" not supported; send application/json`},
	} {
		status, m, h := post(t, srv, tc.method, tc.path, tc.ct, tc.body)
		if status != tc.status || m["error"] != tc.err || len(m) != 1 {
			t.Errorf("%s: HTTP %d %v\nwant HTTP %d {\"error\": %q}", tc.name, status, m, tc.status, tc.err)
		}
		if status == 405 && h.Get("Allow") != "POST" {
			t.Errorf("%s: Allow %q", tc.name, h.Get("Allow"))
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached the service", n)
	}
}

func TestHandlerNotProvisioned(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(new(webapi.Service).Handler())
	defer srv.Close()
	status, m, _ := post(t, srv, "POST", webapi.PathSignup, "", `{}`)
	if status != 500 || m["error"] != "internal error" {
		t.Errorf("HTTP %d %v", status, m)
	}
}
