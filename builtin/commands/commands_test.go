package commands_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/commands"
	"github.com/hookrt/hookd/hook"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "xmlmsg_url: required"},
		{"localhost:7615/xmlmsg", "xmlmsg_url: must be an absolute http:// or https:// URL"},
		{"ftp://h/x", "xmlmsg_url: must be an absolute http:// or https:// URL"},
		{"http://localhost:7615/xmlmsg", ""},
	} {
		err := (&commands.Sink{XMLMsgURL: tc.url}).Validate()
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
			t.Errorf("Validate(%q) = %v; want %q", tc.url, err, tc.want)
		}
	}
}

// TestHandle: the command document is POSTed as text/xml; a 2xx delivers
// it, anything else is a failure to retry, and an event without a document
// fails for good.
func TestHandle(t *testing.T) {
	var got struct{ ctype, body string }
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.ctype, got.body = r.Header.Get("Content-Type"), string(b)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := &commands.Sink{XMLMsgURL: srv.URL + "/xmlmsg"}
	if err := s.Provision(context.Background(), hook.Env{Logger: slog.New(slog.DiscardHandler), RequestTimeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	targets := s.Targets()
	if len(targets) != 1 || targets[0].Name != hook.CommandsTarget || targets[0].Wants(&hook.Event{Fields: map[string]string{"EVENT": "START"}}) {
		t.Fatalf("targets %+v: want one command target that routing never matches", targets)
	}
	doc := `<module secret="x"><islLight><session id="1"><drop/></session></islLight></module>`
	ev := &hook.Event{ID: "e1", Fields: map[string]string{hook.CommandFieldXML: doc}}
	if _, err := s.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.ctype, "text/xml") || got.body != doc {
		t.Errorf("posted %q %q", got.ctype, got.body)
	}
	status = http.StatusBadGateway
	if _, err := s.Handle(context.Background(), ev); err == nil || hook.IsPermanent(err) {
		t.Errorf("502: %v; want a retryable failure", err)
	}
	if _, err := s.Handle(context.Background(), &hook.Event{ID: "e2", Fields: map[string]string{}}); !hook.IsPermanent(err) {
		t.Errorf("no document: %v; want a permanent failure", err)
	}
}
