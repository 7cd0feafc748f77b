package webapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

var ann = webapi.SignupRequest{
	Username: "ann", Domain: "acme", Email: "ann@acme.example", FullName: "Ann Example",
	Language: "de-AT", Password: "s3cret",
}

func TestSignupAllowed(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok", "description": "Welcome!"}, "data": {"id": 7}}`))
	s, _ := provision(t, f.URL+"/webapi2", nil)

	res, err := s.Signup(context.Background(), ann)
	if err != nil {
		t.Fatal(err)
	}
	want := webapi.SignupResult{Outcome: webapi.Allowed, Message: webapi.TextSignupOK, MessageID: "signup.ok", Data: json.RawMessage(`{"id": 7}`)}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("got %+v\nwant %+v", res, want)
	}

	req := f.last(t)
	if req.Method != "POST" || req.Path != "/webapi2" {
		t.Errorf("request %s %s, want POST /webapi2", req.Method, req.Path)
	}
	if want := "method=account/signup/1&he=JSON1&ho=JSON1&hl=de"; req.RawQuery != want {
		t.Errorf("query %q, want %q", req.RawQuery, want)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "hookd/test"} {
		if got := req.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if want := `{"username":"ann","domain":"acme","email":"ann@acme.example","fullname":"Ann Example","language":"de"}`; string(req.Body) != want {
		t.Errorf("body %s\nwant %s", req.Body, want)
	}
	if st := s.Stats().Signup; st != (webapi.CallStats{Allowed: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestSignupQuery(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	for _, tc := range []struct{ base, lang, want string }{
		{"/webapi2", "", "method=account/signup/1&he=JSON1&ho=JSON1&hl=en"},
		{"/webapi2?key=a%2Fb&x", "FR", "key=a%2Fb&x&method=account/signup/1&he=JSON1&ho=JSON1&hl=fr"},
		// The control fields are hookd's: those in the URL are replaced.
		{"/webapi2?hl=it&method=x&key=1&he=CGI1&ho=CGI1&lang=it#frag", "pt_BR", "key=1&method=account/signup/1&he=JSON1&ho=JSON1&hl=pt"},
		{"/webapi2", "not a language", "method=account/signup/1&he=JSON1&ho=JSON1&hl=en"},
	} {
		s, _ := provision(t, f.URL+tc.base, nil)
		if _, err := s.Signup(context.Background(), webapi.SignupRequest{Username: "ann", Language: tc.lang}); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		if got := reqs[len(reqs)-1].RawQuery; got != tc.want {
			t.Errorf("url %s, language %q: query %q, want %q", tc.base, tc.lang, got, tc.want)
		}
		q, _ := url.ParseQuery(reqs[len(reqs)-1].RawQuery)
		if q.Get("method") != webapi.MethodSignup || len(q["hl"]) != 1 {
			t.Errorf("query %v", q)
		}
	}
}

func TestSignupDecidedByTheService(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, answer, success string
		want                  webapi.SignupResult
	}{
		{
			name:   "error with description and fields",
			answer: `{"result": {"code": "invalid_input", "description": "Das Benutzerkonto existiert bereits.", "errors": ["username", "email"]}, "data": null}`,
			want:   webapi.SignupResult{Outcome: webapi.Refused, Message: "Das Benutzerkonto existiert bereits.", MessageID: "signup.refused", Fields: []string{"username", "email"}},
		},
		{
			name:   "error without description or errors",
			answer: `{"result": {"code": "denied"}}`,
			want:   webapi.SignupResult{Outcome: webapi.Refused, Message: webapi.TextSignupRefused, MessageID: "signup.refused"},
		},
		{
			name:   "older envelope, refused",
			answer: `{"method": "account/signup/1", "response": {"result": {"code": "user_exists", "description": "Taken.", "args": []}, "data": null}}`,
			want:   webapi.SignupResult{Outcome: webapi.Refused, Message: "Taken.", MessageID: "signup.refused"},
		},
		{
			name:   "older envelope, allowed",
			answer: `{"method": "account/signup/1", "response": {"result": {"code": "ok"}, "data": {"id": "u-1"}}}`,
			want:   webapi.SignupResult{Outcome: webapi.Allowed, Message: webapi.TextSignupOK, MessageID: "signup.ok", Data: json.RawMessage(`{"id": "u-1"}`)},
		},
		{
			name: "numeric success code", success: "0",
			answer: `{"result": {"code": 0, "description": "OK"}, "data": {"sid": "x"}}`,
			want:   webapi.SignupResult{Outcome: webapi.Allowed, Message: webapi.TextSignupOK, MessageID: "signup.ok", Data: json.RawMessage(`{"sid": "x"}`)},
		},
		{
			name: "numeric error code", success: "0",
			answer: `{"result": {"code": 17, "description": "Domain full.", "errors": ["domain"]}}`,
			want:   webapi.SignupResult{Outcome: webapi.Refused, Message: "Domain full.", MessageID: "signup.refused", Fields: []string{"domain"}},
		},
		{
			name: "string code equal to the numeric success code", success: "0",
			answer: `{"result": {"code": "0"}}`,
			want:   webapi.SignupResult{Outcome: webapi.Allowed, Message: webapi.TextSignupOK, MessageID: "signup.ok"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, answerJSON(200, tc.answer))
			s, logs := provision(t, f.URL, func(s *webapi.Service) { s.SuccessCode = tc.success })
			res, err := s.Signup(context.Background(), ann)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res, tc.want) {
				t.Errorf("got %+v\nwant %+v", res, tc.want)
			}
			st := s.Stats().Signup
			if tc.want.Outcome == webapi.Refused {
				if st != (webapi.CallStats{Refused: 1}) {
					t.Errorf("stats %+v", st)
				}
				contains(t, "log", logs.String(), "sign-up refused by the external WebAPI")
			}
		})
	}
}

// unavailable is what every failure of the service comes to.
var unavailable = webapi.SignupResult{Outcome: webapi.Refused, Message: "The sign-up service is unavailable. Please try again later.", MessageID: "signup.unavailable"}

func TestSignupFailsClosed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer http.HandlerFunc
		cause  string // in the log
	}{
		{"500", answerJSON(500, `{"result": {"code": "ok"}}`), "HTTP 500"},
		{"503 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
		}, "HTTP 503"},
		{"302", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, "redirects are not followed"},
		{"HTML answer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body><h1>Maintenance</h1></body></html>")
		}, "answer is not a JSON object"},
		{"no result", answerJSON(200, `{"data": {"id": 1}}`), "answer has no result"},
		{"empty 200", answerJSON(200, ``), "answer is empty"},
		{"code of the wrong type", answerJSON(200, `{"result": {"code": true}}`), "result.code must be a string or a number"},
		{"truncated JSON", answerJSON(200, `{"result": {"code": "ok"`), "answer is not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.answer)
			s, logs := provision(t, f.URL, nil)
			res, err := s.Signup(context.Background(), ann)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res, unavailable) {
				t.Errorf("got %+v\nwant %+v", res, unavailable)
			}
			if st := s.Stats().Signup; st != (webapi.CallStats{Unavailable: 1}) {
				t.Errorf("stats %+v", st)
			}
			contains(t, "log", logs.String(), "sign-up refused: the external WebAPI is unavailable", tc.cause)
		})
	}
}

func TestSignupConnectionRefused(t *testing.T) {
	t.Parallel()
	s, logs := provision(t, closedURL(t), nil)
	res, err := s.Signup(context.Background(), ann)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, unavailable) {
		t.Errorf("got %+v", res)
	}
	contains(t, "log", logs.String(), "connection refused")
}

func TestSignupTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	f := newFake(t, nil)
	f.set(f.blocking)
	s, logs := provision(t, f.URL, func(s *webapi.Service) { s.Timeout = hook.Duration(timeout) })

	start := time.Now()
	res, err := s.Signup(context.Background(), ann)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, unavailable) {
		t.Errorf("got %+v", res)
	}
	// The fake never answers: without the timeout the call would not end.
	if elapsed < timeout || elapsed > 30*time.Second {
		t.Errorf("the call took %s; want the timeout, %s", elapsed, timeout)
	}
	contains(t, "log", logs.String(), "timeout after 200ms")
}

func TestSignupHonoursTheCallersDeadline(t *testing.T) {
	t.Parallel()
	const deadline = 150 * time.Millisecond
	f := newFake(t, nil)
	f.set(f.blocking)
	// The service's own timeout is a minute: a call that ends well before
	// it ended at the caller's deadline, on however loaded a machine.
	s, logs := provision(t, f.URL, func(s *webapi.Service) { s.Timeout = hook.Duration(time.Minute) })

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	dl, _ := ctx.Deadline()
	res, err := s.Signup(ctx, ann)
	ended := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, unavailable) {
		t.Errorf("got %+v", res)
	}
	if ended.Before(dl) || ended.Sub(dl) > 30*time.Second {
		t.Errorf("the call ended %s after the caller's deadline; want at it, not at the service's timeout (1m)", ended.Sub(dl))
	}
	contains(t, "log", logs.String(), "timeout after", "(the attempt's deadline)")
}

// TestSignupLargeAnswer: a 10 MB answer is refused after its first MiB.
// The service sends 1.5 MiB and then waits for the client to hang up
// before it would send the rest, so a client that read it all would hang
// until the timeout.
func TestSignupLargeAnswer(t *testing.T) {
	t.Parallel()
	const size, sent = 10 << 20, 3 << 19
	hungUp := make(chan bool, 1)
	f := newFake(t, nil)
	f.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write([]byte(`{"result": {"code": "ok"}, "data": "`))
		w.Write([]byte(strings.Repeat("x", sent)))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			hungUp <- true
		case <-f.release:
			hungUp <- false
		}
	})
	s, logs := provision(t, f.URL, func(s *webapi.Service) { s.Timeout = hook.Duration(20 * time.Second) })

	res, err := s.Signup(context.Background(), ann)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, unavailable) {
		t.Errorf("got %+v", res)
	}
	contains(t, "log", logs.String(), "answer larger than 1 MiB")
	select {
	case h := <-hungUp:
		if !h {
			t.Error("the client did not hang up")
		}
	case <-time.After(patience):
		t.Fatal("the service never saw the client hang up")
	}
}

func TestSignupNotDelegated(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	s, _ := provision(t, f.URL, func(s *webapi.Service) { s.UseSignup = false })
	res, err := s.Signup(context.Background(), ann)
	if err != nil {
		t.Fatal(err)
	}
	want := webapi.SignupResult{Outcome: webapi.NotDelegated, Message: webapi.TextSignupNotDelegated, MessageID: "signup.not_delegated"}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("got %+v", res)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
	if st := s.Stats().Signup; st != (webapi.CallStats{NotDelegated: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestSignupPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		forward  bool
		password string
		want     string
	}{
		{false, "s3cret", `{"username":"ann","domain":"","email":"","fullname":"","language":"en"}`},
		{true, "s3cret", `{"username":"ann","domain":"","email":"","fullname":"","language":"en","password":"s3cret"}`},
		{true, "", `{"username":"ann","domain":"","email":"","fullname":"","language":"en","password":""}`},
	} {
		f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
		s, logs := provision(t, f.URL, func(s *webapi.Service) { s.ForwardPassword = tc.forward })
		if _, err := s.Signup(context.Background(), webapi.SignupRequest{Username: "ann", Password: tc.password}); err != nil {
			t.Fatal(err)
		}
		if got := string(f.last(t).Body); got != tc.want {
			t.Errorf("forward_password = %v: body %s\nwant %s", tc.forward, got, tc.want)
		}
		if tc.password != "" && strings.Contains(logs.String(), tc.password) {
			t.Errorf("the password is in the log:\n%s", logs)
		}
	}
}

func TestNotProvisioned(t *testing.T) {
	t.Parallel()
	s := &webapi.Service{URL: "http://127.0.0.1:1/", UseSignup: true, UseForgotPassword: true}
	if _, err := s.Signup(context.Background(), ann); !errors.Is(err, webapi.ErrNotProvisioned) {
		t.Errorf("Signup: %v", err)
	}
	if _, err := s.ForgotPassword(context.Background(), webapi.ForgotRequest{}); !errors.Is(err, webapi.ErrNotProvisioned) {
		t.Errorf("ForgotPassword: %v", err)
	}
}
