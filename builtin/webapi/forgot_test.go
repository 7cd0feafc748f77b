package webapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

// TestForgotPasswordSaysTheSame: whatever the service answers, or fails
// to, the user is told the same thing, by the library and over HTTP; only
// the log and the counters know.
func TestForgotPasswordSaysTheSame(t *testing.T) {
	t.Parallel()
	want := webapi.ForgotResult{Outcome: webapi.Allowed, Message: "If the account exists, we have sent instructions to reset the password.", MessageID: "password.forgot.sent"}
	var wantHTTP []byte
	for _, tc := range []struct {
		name   string
		answer func(f *fake) http.HandlerFunc
		log    string
	}{
		{"existing user", func(*fake) http.HandlerFunc { return answerJSON(200, `{"result": {"code": "ok"}}`) },
			"forgotten password handled by the external WebAPI"},
		{"unknown user", func(*fake) http.HandlerFunc {
			return answerJSON(200, `{"result": {"code": "no_such_user", "description": "No such user.", "errors": ["username"]}}`)
		}, `"forgotten password refused by the external WebAPI" user.username=ann user.domain=acme code=no_such_user`},
		{"500", func(*fake) http.HandlerFunc { return answerJSON(500, `oops`) },
			"forgotten password not handled: the external WebAPI is unavailable"},
		{"timeout", func(f *fake) http.HandlerFunc { return f.blocking }, "timeout after 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, nil)
			f.set(tc.answer(f))
			timeout := 30 * time.Second // an answer is never late on a loaded machine
			if tc.name == "timeout" {
				timeout = 200 * time.Millisecond
			}
			s, logs := provision(t, f.URL, func(s *webapi.Service) { s.Timeout = hook.Duration(timeout) })

			res, err := s.ForgotPassword(context.Background(), webapi.ForgotRequest{Username: "ann", Domain: "acme", Email: "ann@acme.example"})
			if err != nil {
				t.Fatal(err)
			}
			if res != want {
				t.Errorf("got %+v\nwant %+v", res, want)
			}
			req := f.requests()[0]
			if want := `{"username":"ann","domain":"acme","email":"ann@acme.example","language":"en"}`; string(req.Body) != want {
				t.Errorf("body %s\nwant %s", req.Body, want)
			}
			if want := "method=account/password/forgot/1&he=JSON1&ho=JSON1&hl=en"; req.RawQuery != want {
				t.Errorf("query %q, want %q", req.RawQuery, want)
			}
			contains(t, "log", logs.String(), tc.log)

			// The same over HTTP, byte for byte.
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", webapi.PathForgot, strings.NewReader(`{"username":"ann","domain":"acme"}`)))
			body, _ := io.ReadAll(rec.Result().Body)
			if rec.Code != 200 {
				t.Fatalf("HTTP %d %s", rec.Code, body)
			}
			if wantHTTP == nil {
				wantHTTP = body
			} else if !bytes.Equal(body, wantHTTP) {
				t.Errorf("HTTP answer %s\ndiffers from %s", body, wantHTTP)
			}
		})
	}
	if want := `{"result":{"code":"ok","description":"If the account exists, we have sent instructions to reset the password.","message_id":"password.forgot.sent","errors":[]},"data":null}` + "\n"; string(wantHTTP) != want {
		t.Errorf("HTTP answer %s\nwant %s", wantHTTP, want)
	}
}

func TestForgotPasswordStats(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	s, _ := provision(t, f.URL, nil)
	for _, c := range []string{"ok", "ok", "unknown", "500", "500", "500"} {
		if c == "500" {
			f.set(answerJSON(500, ""))
		} else {
			f.set(answerJSON(200, `{"result": {"code": "`+c+`"}}`))
		}
		if _, err := s.ForgotPassword(context.Background(), webapi.ForgotRequest{Username: "ann"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := s.Stats().ForgotPassword, (webapi.CallStats{Sent: 2, Refused: 1, Unavailable: 3}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestForgotPasswordNotDelegated(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	s, _ := provision(t, f.URL, func(s *webapi.Service) { s.UseForgotPassword = false })
	res, err := s.ForgotPassword(context.Background(), webapi.ForgotRequest{Username: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != webapi.NotDelegated || res.MessageID != "password.forgot.not_delegated" {
		t.Errorf("got %+v", res)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}
