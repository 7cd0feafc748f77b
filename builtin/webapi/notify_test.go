package webapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
)

func cpEvent(name string, fields ...string) *hook.Event {
	ev := &hook.Event{ID: "01a21c96-b83b-79df-b954-b6b05c9e8019", Fields: map[string]string{
		"MODULE": "ISL_CP", "EVENT": name, "SERVERID": "grid-1", "DOMAIN_ID": "3",
		"EVENT_ID": "01a21c96-b83b-79df-b954-b6b05c9e8019",
	}}
	for i := 0; i+1 < len(fields); i += 2 {
		ev.Fields[fields[i]] = fields[i+1]
	}
	return ev
}

// target returns the notification target of s.
func target(t *testing.T, s *webapi.Service) hook.Target {
	t.Helper()
	ts := s.Targets()
	if len(ts) != 1 || ts[0].Name != "webapi.notification" {
		t.Fatalf("targets %+v", ts)
	}
	return ts[0]
}

func TestNotificationTarget(t *testing.T) {
	t.Parallel()
	s, _ := provision(t, "http://127.0.0.1:1/", func(s *webapi.Service) { s.Timeout = hook.Duration(3 * time.Second) })
	tg := target(t, s)
	if tg.Policy.Timeout != 3*time.Second {
		t.Errorf("policy %+v: want the WebAPI timeout", tg.Policy)
	}
	for _, tc := range []struct {
		module, event string
		want          bool
	}{
		{"ISL_CP", "USER_CREATE", true},
		{"ISL_CP", "SIGNUP", true},
		{"ISL_CP", "USER_DELETE", false},
		{"ISL_LIGHT", "USER_CREATE", false},
		{"isl_cp", "USER_CREATE", false},
	} {
		ev := &hook.Event{Fields: map[string]string{"MODULE": tc.module, "EVENT": tc.event}}
		if got := tg.Wants(ev); got != tc.want {
			t.Errorf("%s %s: %v", tc.module, tc.event, got)
		}
	}
	off, _ := provision(t, "http://127.0.0.1:1/", func(s *webapi.Service) { s.UseNotification = false })
	if ts := off.Targets(); len(ts) != 0 {
		t.Errorf("notification off: targets %+v", ts)
	}
}

func TestNotificationValues(t *testing.T) {
	t.Parallel()
	got := webapi.NotificationValues(cpEvent("USER_CREATE", "USERNAME", "ann", "DOMAIN", "acme", "EMAIL", "a@x", "FULLNAME", "Ann", "USER_ID", "9", "CPUSER_ID", "8"))
	if want := (webapi.Values{Name: "ann", Domain: "acme", Email: "a@x", FullName: "Ann", ID: "9"}); got != want {
		t.Errorf("got %+v", got)
	}
	got = webapi.NotificationValues(cpEvent("USER_CREATE", "USERNAME", "ann", "CPUSER_ID", "8"))
	if want := (webapi.Values{Name: "ann", Domain: "3", ID: "8"}); got != want {
		t.Errorf("fallbacks: got %+v", got)
	}
}

func TestNotificationDelivered(t *testing.T) {
	t.Parallel()
	f := newFake(t, answerJSON(200, `{"result": {"code": "ok"}}`))
	s, _ := provision(t, f.URL+"/webapi2?key=k", func(s *webapi.Service) {
		s.NotificationParams = `{"user": {"name": {{name}}, "domain": {{domain}}}, "id": {{id}}, "mail": {{email}}, "full": {{fullname}}, "source": "hookd"}`
		s.NotificationMethod = "crm/account_created/2"
		s.Language = "sl"
	})
	ev := cpEvent("SIGNUP", "USERNAME", `ann "the admin"`, "DOMAIN", "acme", "EMAIL", "ann@acme.example", "FULLNAME", "Ann\nÜ", "USER_ID", "42")
	res, err := target(t, s).Handler.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Summary != "ok" || string(res.Reply) != `{"result": {"code": "ok"}}` || res.Latency <= 0 {
		t.Errorf("result %+v", res)
	}
	req := f.last(t)
	if want := `{"user": {"name": "ann \"the admin\"", "domain": "acme"}, "id": "42", "mail": "ann@acme.example", "full": "Ann\nÜ", "source": "hookd"}`; string(req.Body) != want {
		t.Errorf("body %s\nwant %s", req.Body, want)
	}
	if want := "key=k&method=crm/account_created/2&he=JSON1&ho=JSON1&hl=sl"; req.RawQuery != want {
		t.Errorf("query %q, want %q", req.RawQuery, want)
	}
	if got := req.Header.Get("X-Event-Id"); got != ev.ID {
		t.Errorf("X-Event-Id %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if st := s.Stats().Notification; st != (webapi.CallStats{Sent: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestNotificationFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		answer    http.HandlerFunc
		permanent bool
		disable   bool
		after     time.Duration
		err       string
		summary   string
	}{
		{name: "refused code", answer: answerJSON(200, `{"result": {"code": "unknown_domain", "description": "No such domain."}}`),
			permanent: true, err: `the service answered code "unknown_domain", not "ok": No such domain.`, summary: "refused: unknown_domain"},
		{name: "500", answer: answerJSON(500, `{"result": {"code": "ok"}}`), err: `HTTP 500: {"result": {"code": "ok"}}`},
		{name: "HTML 200", answer: answerJSON(200, `<html>busy</html>`), err: `HTTP 200 but answer is not a JSON object (it starts with '<'): <html>busy</html>`},
		{name: "410", answer: answerJSON(410, ``), disable: true, err: "HTTP 410: (empty body); the endpoint is gone, so the target is disabled"},
		{name: "503 Retry-After", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "90")
			w.WriteHeader(503)
		}, after: 90 * time.Second, err: "HTTP 503: (empty body) (retry after 1m30s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.answer)
			s, logs := provision(t, f.URL, nil)
			res, err := target(t, s).Handler.Handle(context.Background(), cpEvent("USER_CREATE", "USERNAME", "ann"))
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			if err.Error() != tc.err {
				t.Errorf("error %q\n want %q", err, tc.err)
			}
			if hook.IsPermanent(err) != tc.permanent || hook.IsDisable(err) != tc.disable {
				t.Errorf("error %v: permanent %v, disable %v", err, hook.IsPermanent(err), hook.IsDisable(err))
			}
			if d, ok := hook.RetryAfterHint(err); d != tc.after || ok != (tc.after > 0) {
				t.Errorf("retry after %s %v", d, ok)
			}
			if res.Status == 0 || res.Summary != tc.summary {
				t.Errorf("result %+v", res)
			}
			st := s.Stats().Notification
			if tc.permanent && st != (webapi.CallStats{Refused: 1}) || !tc.permanent && st != (webapi.CallStats{Failed: 1}) {
				t.Errorf("stats %+v", st)
			}
			contains(t, "log", logs.String(), "event_id="+cpEvent("").ID)
		})
	}
}

func TestNotificationTransportErrors(t *testing.T) {
	t.Parallel()
	s, _ := provision(t, closedURL(t), nil)
	_, err := target(t, s).Handler.Handle(context.Background(), cpEvent("USER_CREATE"))
	if err == nil || hook.IsPermanent(err) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("refused connection: %v", err)
	}

	f := newFake(t, nil)
	f.set(f.blocking)
	s, _ = provision(t, f.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // the attempt's deadline
	defer cancel()
	_, err = target(t, s).Handler.Handle(ctx, cpEvent("USER_CREATE"))
	if err == nil || hook.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	if q, _ := url.ParseQuery(f.last(t).RawQuery); q.Get("method") != "account/notification/1" {
		t.Errorf("method %q", q.Get("method"))
	}
}
