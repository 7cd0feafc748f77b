package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeWebAPI: a non-Go proxy calls sign-up and forgot-password through
// the daemon's /v1/webapi routes, which delegate to the account/1 service.
func TestServeWebAPI(t *testing.T) {
	t.Parallel()
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Query().Get("method") == "account/signup/1" && body["username"] == "taken":
			io.WriteString(w, `{"result":{"code":"username_taken","description":"That user name is taken.","errors":["username"]}}`)
		default:
			io.WriteString(w, `{"result":{"code":"ok","description":"Done."},"data":{"id":7}}`)
		}
	}))
	defer service.Close()
	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen
	cfg := fmt.Sprintf(`
[server]
listen = %q
[store]
path = "hookd.db"
[webapi]
url = %q
signup = true
forgot_password = true
`, listen, service.URL)
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go run(ctx, []string{"serve", "-config", path}, io.Discard, io.Discard)
	waitHealthy(t, base, nil)
	call := func(route, body string) (code string, raw string) {
		resp, err := http.Post(base+route, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			Result struct{ Code string } `json:"result"`
		}
		json.Unmarshal(b, &out)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", route, resp.StatusCode, b)
		}
		return out.Result.Code, string(b)
	}
	if code, raw := call("/v1/webapi/account/signup/1", `{"username":"ann","domain":"acme","email":"ann@example.com"}`); code != "ok" || !strings.Contains(raw, `"id":7`) {
		t.Errorf("sign-up: %s", raw)
	}
	if code, raw := call("/v1/webapi/account/signup/1", `{"username":"taken","domain":"acme","email":"t@example.com"}`); code != "refused" ||
		!strings.Contains(raw, "That user name is taken.") || !strings.Contains(raw, `"username"`) {
		t.Errorf("taken: %s", raw)
	}
	_, a := call("/v1/webapi/account/password/forgot/1", `{"username":"ann","domain":"acme"}`)
	_, b := call("/v1/webapi/account/password/forgot/1", `{"username":"nobody","domain":"acme"}`)
	if a != b {
		t.Errorf("forgot-password answers differ:\n%s\n%s", a, b)
	}
}
