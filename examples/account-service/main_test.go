package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testBundle is one running service with its own database.
type testBundle struct {
	base   string       // the service's base URL, as in hookd's [webapi] url
	db     *sql.DB      // a second connection to the database, to look
	out    *logBuffer   // the service's stdout
	client *http.Client // this service's own client; see setup
}

// setup runs the service on a loopback port with a database in a temporary
// directory, and stops it when the test ends.
func setup(t *testing.T, flags ...string) *testBundle {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "accounts.db")
	ctx, cancel := context.WithCancel(context.Background())
	out := newLogBuffer()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	args := append([]string{"-listen", "127.0.0.1:0", "-db", dbPath}, flags...)
	go func() { done <- run(ctx, args, out, func(a string) { addr <- a }) }()
	// Each service has its own client, whose spare connections are closed
	// before the service stops: a connection the client dialled but never
	// used holds http.Server.Shutdown for 5 s (net/http treats it as busy
	// until then), and the shared http.DefaultClient cannot be told to let
	// go of one service's connections while parallel tests use it.
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	var base string
	select {
	case a := <-addr:
		base = "http://" + a + "/webapi"
	case err := <-done:
		t.Fatalf("run returned before ready: %v", err)
	}
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testBundle{base: base, db: db, out: out, client: client}
}

// callURL is the URL hookd posts a call of method to.
func (b *testBundle) callURL(method string) string {
	return b.base + "?" + url.Values{"method": {method}, "he": {"JSON1"}, "ho": {"JSON1"}, "hl": {"en"}}.Encode()
}

// response is what the service answered.
type response struct {
	status      int
	contentType string
	allow       string
	body        string
}

func (b *testBundle) do(t *testing.T, client *http.Client, httpMethod, url, body string) response {
	t.Helper()
	req, err := http.NewRequest(httpMethod, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), string(respBody)}
}

// json1 is a decoded JSON1 answer.
type json1 struct {
	Result struct {
		Code        string   `json:"code"`
		Description string   `json:"description"`
		Errors      []string `json:"errors"`
	} `json:"result"`
	Data json.RawMessage `json:"data"`
	raw  string
}

// call posts body to method as hookd does, and decodes the JSON1 answer.
func (b *testBundle) call(t *testing.T, method, body string) json1 {
	t.Helper()
	return b.post(t, b.callURL(method), body)
}

// post posts body to url and decodes the JSON1 answer.
func (b *testBundle) post(t *testing.T, url, body string) json1 {
	t.Helper()
	r := b.do(t, b.client, http.MethodPost, url, body)
	if r.status != http.StatusOK || r.contentType != "application/json" {
		t.Fatalf("answer = %d %q %q, want 200 application/json", r.status, r.contentType, r.body)
	}
	var a json1
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("answer %q is not JSON: %v", r.body, err)
	}
	a.raw = strings.TrimSpace(r.body)
	return a
}

// wantFail checks that a is a failure with code and fields.
func wantFail(t *testing.T, a json1, code string, fields ...string) {
	t.Helper()
	if a.Result.Code != code || !slices.Equal(a.Result.Errors, fields) || string(a.Data) != "null" || a.Result.Description == "" {
		t.Errorf("answer = %s, want code %s, errors %q, a description and data null", a.raw, code, fields)
	}
}

// lastLog is the last line the service logged.
func (b *testBundle) lastLog() string {
	lines := strings.Split(strings.TrimSpace(b.out.String()), "\n")
	return lines[len(lines)-1]
}

func (b *testBundle) wantLog(t *testing.T, parts ...string) {
	t.Helper()
	line := b.lastLog()
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Errorf("log line %q does not contain %q", line, p)
		}
	}
}

func (b *testBundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const annSignup = `{"username": "ann", "domain": "acme", "email": "ann@acme.test", "fullname": "Ann Example", "language": "en", "password": "s3cret-pw"}`

// logBuffer is the service's stdout: written by its handlers, read by the
// test, which can wait for a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor returns the first line containing substr, waiting for it to be
// written. The timeout only guards against a hung test.
func (l *logBuffer) waitFor(t *testing.T, substr string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		for line := range strings.Lines(text) {
			if strings.Contains(line, substr) {
				return strings.TrimSpace(line)
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no log line contains %q; log:\n%s", substr, text)
		}
	}
}

// errTimeout reports whether err is a client timeout.
func errTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// signupBody is annSignup with some members replaced (or removed, with nil).
func signupBody(t *testing.T, change map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(annSignup), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func Test_main(t *testing.T) {
	t.Parallel()

	t.Run("sign-up stores the user and answers its id", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := time.Now().Unix()
		a := b.call(t, "account/signup/1", annSignup)
		after := time.Now().Unix()
		if want := `{"result":{"code":"ok","description":"Account created."},"data":{"id":1,"username":"ann","domain":"acme"}}`; a.raw != want {
			t.Errorf("answer\n%s\nwant\n%s", a.raw, want)
		}
		b.wantLog(t, "level=INFO", "http_method=POST", "method=account/signup/1", "lang=en", "status=200", "code=ok", "username=ann", "domain=acme", "id=1")

		var domain, username, email, fullname string
		var createdAt int64
		if err := b.db.QueryRow(`SELECT domain, username, email, fullname, created_at FROM users`).
			Scan(&domain, &username, &email, &fullname, &createdAt); err != nil {
			t.Fatal(err)
		}
		if domain != "acme" || username != "ann" || email != "ann@acme.test" || fullname != "Ann Example" || createdAt < before || createdAt > after {
			t.Errorf("row = %q %q %q %q %d, want acme ann ann@acme.test \"Ann Example\" and a time in [%d, %d]",
				domain, username, email, fullname, createdAt, before, after)
		}

		// The password is neither stored nor logged.
		var cols []string
		rs, err := b.db.Query(`SELECT name FROM pragma_table_info('users')`)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var c string
			if err := rs.Scan(&c); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rs.Close()
		if want := []string{"domain", "username", "email", "fullname", "created_at"}; !slices.Equal(cols, want) {
			t.Errorf("users columns = %q, want %q", cols, want)
		}
		if strings.Contains(b.out.String(), "s3cret-pw") {
			t.Errorf("the password is in the log:\n%s", b.out.String())
		}

		// At the limits, and without the optional members.
		a = b.call(t, "account/signup/1", signupBody(t, map[string]any{
			"username": strings.Repeat("z", 64), "domain": "a.b_c-9", "email": "x.y+z@mail.acme.test",
			"fullname": strings.Repeat("é", 128), "password": nil, "language": nil,
		}))
		if a.Result.Code != "ok" || !strings.Contains(string(a.Data), `"id":2`) {
			t.Errorf("answer = %s, want ok with id 2", a.raw)
		}
	})

	t.Run("sign-up validation errors, alone and together", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		long := strings.Repeat("a", 65)
		tests := []struct {
			name   string
			body   string
			fields []string
		}{
			{"username empty", signupBody(t, map[string]any{"username": ""}), []string{"username"}},
			{"username missing", signupBody(t, map[string]any{"username": nil}), []string{"username"}},
			{"username too long", signupBody(t, map[string]any{"username": long}), []string{"username"}},
			{"username upper case", signupBody(t, map[string]any{"username": "Ann"}), []string{"username"}},
			{"username with a space", signupBody(t, map[string]any{"username": "ann smith"}), []string{"username"}},
			{"username with @", signupBody(t, map[string]any{"username": "ann@acme"}), []string{"username"}},
			{"username not ASCII", signupBody(t, map[string]any{"username": "änn"}), []string{"username"}},
			{"domain empty", signupBody(t, map[string]any{"domain": ""}), []string{"domain"}},
			{"domain upper case", signupBody(t, map[string]any{"domain": "Acme"}), []string{"domain"}},
			{"domain with /", signupBody(t, map[string]any{"domain": "acme/x"}), []string{"domain"}},
			{"domain too long", signupBody(t, map[string]any{"domain": long}), []string{"domain"}},
			{"email empty", signupBody(t, map[string]any{"email": ""}), []string{"email"}},
			{"email without @", signupBody(t, map[string]any{"email": "ann.acme.test"}), []string{"email"}},
			{"email without a dot in the domain", signupBody(t, map[string]any{"email": "ann@acme"}), []string{"email"}},
			{"email with two @", signupBody(t, map[string]any{"email": "ann@x@acme.test"}), []string{"email"}},
			{"email without local part", signupBody(t, map[string]any{"email": "@acme.test"}), []string{"email"}},
			{"email without domain", signupBody(t, map[string]any{"email": "ann@"}), []string{"email"}},
			{"email with a display name", signupBody(t, map[string]any{"email": "Ann <ann@acme.test>"}), []string{"email"}},
			{"email with a leading space", signupBody(t, map[string]any{"email": " ann@acme.test"}), []string{"email"}},
			{"email with a space", signupBody(t, map[string]any{"email": "ann smith@acme.test"}), []string{"email"}},
			{"email ending in a dot", signupBody(t, map[string]any{"email": "ann@acme."}), []string{"email"}},
			{"email with two dots", signupBody(t, map[string]any{"email": "ann@acme..test"}), []string{"email"}},
			{"fullname too long", signupBody(t, map[string]any{"fullname": strings.Repeat("é", 129)}), []string{"fullname"}},
			{"username and email", signupBody(t, map[string]any{"username": "Ann", "email": "nope"}), []string{"username", "email"}},
			{"all four", signupBody(t, map[string]any{"username": "", "domain": "A", "email": "x", "fullname": strings.Repeat("x", 129)}),
				[]string{"username", "domain", "email", "fullname"}},
			{"empty object", `{}`, []string{"username", "domain", "email"}},
			{"empty body", ``, []string{"username", "domain", "email"}},
			{"username not a string", signupBody(t, map[string]any{"username": 5}), []string{"username"}},
		}
		for _, tt := range tests {
			a := b.call(t, "account/signup/1", tt.body)
			wantFail(t, a, "invalid_input", tt.fields...)
			for _, f := range tt.fields {
				if f == "email" {
					f = "e-mail"
				}
				if f == "fullname" {
					f = "full name"
				}
				if !strings.Contains(a.Result.Description, f) {
					t.Errorf("%s: description %q does not name %s", tt.name, a.Result.Description, f)
				}
			}
			b.wantLog(t, "level=WARN", "status=200", "code=invalid_input", "fields="+strings.Join(tt.fields, ","))
		}
		a := b.call(t, "account/signup/1", signupBody(t, map[string]any{"username": "Ann", "email": "nope"}))
		if want := "The username must be 1 to 64 characters: lowercase letters a-z, digits, '.', '_' or '-'. " +
			"The e-mail address must look like name@example.com."; a.Result.Description != want {
			t.Errorf("description = %q, want %q", a.Result.Description, want)
		}
		a = b.call(t, "account/signup/1", signupBody(t, map[string]any{"username": 5}))
		if want := "The field username must be a string."; a.Result.Description != want {
			t.Errorf("description = %q, want %q", a.Result.Description, want)
		}
		if n := b.count(t, "users"); n != 0 {
			t.Errorf("%d users stored, want none", n)
		}
	})

	t.Run("a username taken in the domain is refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if a := b.call(t, "account/signup/1", annSignup); a.Result.Code != "ok" {
			t.Fatalf("first sign-up: %s", a.raw)
		}
		a := b.call(t, "account/signup/1", signupBody(t, map[string]any{"email": "other@acme.test"}))
		wantFail(t, a, "username_taken", "username")
		if want := "The username ann is already taken; please choose another one."; a.Result.Description != want {
			t.Errorf("description = %q, want %q", a.Result.Description, want)
		}
		b.wantLog(t, "level=WARN", "code=username_taken", "username=ann", "domain=acme")

		// The same name in another domain is another user.
		a = b.call(t, "account/signup/1", signupBody(t, map[string]any{"domain": "other"}))
		if want := `{"result":{"code":"ok","description":"Account created."},"data":{"id":2,"username":"ann","domain":"other"}}`; a.raw != want {
			t.Errorf("answer\n%s\nwant\n%s", a.raw, want)
		}
		if n := b.count(t, "users"); n != 2 {
			t.Errorf("%d users stored, want 2", n)
		}
	})

	t.Run("concurrent sign-ups for one name: exactly one wins", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var mu sync.Mutex
		codes := map[string]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				resp, err := b.client.Post(b.callURL("account/signup/1"), "application/json", strings.NewReader(annSignup))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var a json1
				if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				codes[a.Result.Code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if codes["ok"] != 1 || codes["username_taken"] != 7 {
			t.Errorf("codes = %v, want 1 ok and 7 username_taken", codes)
		}
	})

	t.Run("forgot password answers the same whether the user exists or not", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.call(t, "account/signup/1", annSignup)
		const want = `{"result":{"code":"ok","description":"If the account exists, a reset link has been sent."},"data":{}}`
		tests := []struct {
			name  string
			body  string
			found bool
		}{
			{"known, by username and domain", `{"username": "ann", "domain": "acme", "email": ""}`, true},
			{"known, by e-mail in another case", `{"email": "ANN@acme.test"}`, true},
			{"known e-mail in the given domain", `{"domain": "acme", "email": "ann@acme.test"}`, true},
			{"known e-mail, other domain", `{"domain": "other", "email": "ann@acme.test"}`, false},
			{"unknown user", `{"username": "nobody", "domain": "acme", "email": "nobody@acme.test"}`, false},
			{"username without domain", `{"username": "ann"}`, false},
			{"empty object", `{}`, false},
			{"empty body", ``, false},
		}
		for i, tt := range tests {
			a := b.call(t, "account/password/forgot/1", tt.body)
			if a.raw != want {
				t.Errorf("%s: answer\n%s\nwant\n%s", tt.name, a.raw, want)
			}
			if tt.found {
				b.wantLog(t, "level=INFO", "code=ok", "found=true", `action="would send reset mail to ann@acme.test"`)
			} else {
				b.wantLog(t, "level=INFO", "code=ok", "found=false")
				if strings.Contains(b.lastLog(), "would send") {
					t.Errorf("%s: log line %q, want no mail", tt.name, b.lastLog())
				}
			}
			var found bool
			var email string
			if err := b.db.QueryRow(`SELECT found, email FROM password_resets WHERE id = ?`, i+1).Scan(&found, &email); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if found != tt.found {
				t.Errorf("%s: recorded found = %v, want %v", tt.name, found, tt.found)
			}
			if i == 1 && email != "ANN@acme.test" {
				t.Errorf("%s: recorded email %q, want it as sent", tt.name, email)
			}
		}
	})

	t.Run("notification is stored verbatim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := "{ \"userName\": \"ann\",\n  \"userDomain\":\"acme\", \"n\": [1, 2.50], \"note\": \"café <&> \\u00e9\" }"
		a := b.call(t, "account/notification/1", body)
		if want := `{"result":{"code":"ok","description":"Notification received."},"data":{"id":1}}`; a.raw != want {
			t.Errorf("answer\n%s\nwant\n%s", a.raw, want)
		}
		b.wantLog(t, "level=INFO", "method=account/notification/1", "code=ok", "id=1", `userDomain`, `2.50`)
		var stored string
		if err := b.db.QueryRow(`SELECT body FROM notifications WHERE id = 1`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != body {
			t.Errorf("stored\n%q\nwant\n%q", stored, body)
		}

		for _, notObject := range []string{`["ann"]`, `"ann"`, `null`, `42`} {
			a := b.call(t, "account/notification/1", notObject)
			wantFail(t, a, "invalid_input")
			if a.Result.Description != "The request body must be a JSON object." {
				t.Errorf("%s: description = %q", notObject, a.Result.Description)
			}
		}
		if n := b.count(t, "notifications"); n != 1 {
			t.Errorf("%d notifications stored, want 1", n)
		}
	})

	t.Run("any path is accepted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		root := strings.TrimSuffix(b.base, "/webapi")
		for _, path := range []string{"/", "/isl/webapi2", ""} {
			a := b.post(t, root+path+"?method=account/notification/1&he=JSON1&ho=JSON1", `{"p":"`+path+`"}`)
			if a.Result.Code != "ok" {
				t.Errorf("path %q: %s", path, a.raw)
			}
		}
	})

	t.Run("unknown or missing method", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, m := range []string{"account/foo/1", "account/signup/2", "utils/login/1"} {
			a := b.call(t, m, annSignup)
			wantFail(t, a, "unknown_method", "method")
			if want := `The method "` + m + `" is not known.`; a.Result.Description != want {
				t.Errorf("description = %q, want %q", a.Result.Description, want)
			}
			b.wantLog(t, "level=WARN", "method="+m, "status=200", "code=unknown_method")
		}
		a := b.post(t, b.base+"?he=JSON1&ho=JSON1", `{}`)
		wantFail(t, a, "unknown_method", "method")
		if n := b.count(t, "users"); n != 0 {
			t.Errorf("%d users stored, want none", n)
		}
	})

	t.Run("only JSON1 is spoken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// he defaults to JSON1 and ho to he; case does not matter.
		if a := b.post(t, b.base+"?method=account/notification/1", `{}`); a.Result.Code != "ok" {
			t.Errorf("without he and ho: %s", a.raw)
		}
		if a := b.post(t, b.base+"?method=account/notification/1&he=json1", `{}`); a.Result.Code != "ok" {
			t.Errorf("he=json1: %s", a.raw)
		}
		wantFail(t, b.post(t, b.base+"?method=account/notification/1&he=CGI1", `{}`), "invalid_input", "he")
		wantFail(t, b.post(t, b.base+"?method=account/notification/1&he=JSON1&ho=CGI1", `{}`), "invalid_input", "ho")
	})

	t.Run("malformed JSON", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, m := range []string{"account/signup/1", "account/password/forgot/1", "account/notification/1"} {
			for _, body := range []string{`{"username": "ann"`, `{"a": 1} {"b": 2}`, `{'a': 1}`, `username=ann`} {
				a := b.call(t, m, body)
				wantFail(t, a, "invalid_input")
				if a.Result.Description != "The request body is not valid JSON." {
					t.Errorf("%s %s: description = %q", m, body, a.Result.Description)
				}
				b.wantLog(t, "level=WARN", "method="+m, "code=invalid_input")
			}
		}
		for _, table := range []string{"users", "password_resets", "notifications"} {
			if n := b.count(t, table); n != 0 {
				t.Errorf("%d rows in %s, want none", n, table)
			}
		}
	})

	t.Run("not POST is 405", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, m := range []string{http.MethodGet, http.MethodPut} {
			r := b.do(t, b.client, m, b.callURL("account/signup/1"), annSignup)
			if r.status != http.StatusMethodNotAllowed || r.allow != "POST" {
				t.Errorf("%s: %d, Allow %q; want 405 and POST", m, r.status, r.allow)
			}
			b.wantLog(t, "level=WARN", "http_method="+m, "status=405")
		}
	})

	t.Run("body over 64 KiB is 413", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const prefix, suffix = `{"pad":"`, `"}`
		exact := prefix + strings.Repeat("x", maxBodyBytes-len(prefix)-len(suffix)) + suffix
		if a := b.call(t, "account/notification/1", exact); a.Result.Code != "ok" {
			t.Errorf("64 KiB: %.200s", a.raw)
		}
		if line := b.lastLog(); len(line) > 2<<10 || !strings.Contains(line, "… (65536 bytes)") {
			t.Errorf("log line of %d bytes, want the body cut at 1 KiB: %.200s", len(line), line)
		}
		r := b.do(t, b.client, http.MethodPost, b.callURL("account/notification/1"), exact+" ")
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "larger than 65536 bytes") {
			t.Errorf("64 KiB + 1: %d %q, want 413", r.status, r.body)
		}
		b.wantLog(t, "level=WARN", "status=413")
		if n := b.count(t, "notifications"); n != 1 {
			t.Errorf("%d notifications stored, want 1", n)
		}
	})

	t.Run("the database is in WAL mode", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var mode string
		if err := b.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q (%v), want wal", mode, err)
		}
	})

	t.Run("-delay: a client that gives up leaves nothing done", func(t *testing.T) {
		t.Parallel()
		const delay = 8 * time.Second // long beside the 100 ms timeout: a loaded machine stays far inside it
		b := setup(t, "-delay", delay.String())
		client := &http.Client{Transport: b.client.Transport, Timeout: 100 * time.Millisecond} // as hookd's [webapi] timeout
		start := time.Now()
		req, err := http.NewRequest(http.MethodPost, b.callURL("account/signup/1"), strings.NewReader(annSignup))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("answered %d before the client's timeout", resp.StatusCode)
		}
		if !errTimeout(err) {
			t.Fatalf("client error = %v, want a timeout", err)
		}

		// The handler stops as soon as the client is gone, not when the
		// delay is over.
		line := b.out.waitFor(t, "client gave up")
		if elapsed := time.Since(start); elapsed >= delay {
			t.Errorf("the handler gave up after %s, want well before the %s delay", elapsed, delay)
		}
		for _, want := range []string{"level=WARN", "method=account/signup/1"} {
			if !strings.Contains(line, want) {
				t.Errorf("log line %q does not contain %q", line, want)
			}
		}
		if strings.Contains(line, "status=") {
			t.Errorf("log line %q, want no status: nothing was answered", line)
		}
		if n := b.count(t, "users"); n != 0 {
			t.Errorf("%d users stored, want none", n)
		}
	})

	t.Run("-delay: a patient client gets the answer after the delay", func(t *testing.T) {
		t.Parallel()
		const delay = 50 * time.Millisecond
		b := setup(t, "-delay", delay.String())
		start := time.Now()
		a := b.call(t, "account/signup/1", annSignup)
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("answered after %s, want at least %s", elapsed, delay)
		}
		if a.Result.Code != "ok" || b.count(t, "users") != 1 {
			t.Errorf("answer = %s, want ok and the user stored", a.raw)
		}
	})
}

func Test_mainStartup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative delay", []string{"-delay", "-1s"}, "-delay must not be negative"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"empty database path", []string{"-db", ""}, "-db must not be empty"},
		{"database in a missing directory", []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "missing", "accounts.db")}, "open database"},
		{"database path with ?", []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "a?b.db")}, "must not contain '?'"},
		{"bad listen address", []string{"-listen", "127.0.0.1:http-nope", "-db", filepath.Join(dir, "ok.db")}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, io.Discard, func(string) { t.Error("ready called") })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
