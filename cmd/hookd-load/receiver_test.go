package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// postForm POSTs a form body and returns the status and the answer.
func postForm(t testing.TB, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEventsReceiverAcknowledgesStrictly(t *testing.T) {
	rc, tr, u := newTestReceiver(t, modeEvents, []string{"/global", "/domain/1"}, nil)
	ev := loadEvent(t, testRun, 1)
	tr.accept(ev.ID, 0, 0)
	// The form exactly as hookd's HTTP events encode it.
	body := string(hook.AppendForm(nil, ev.Fields, ""))
	for _, p := range []string{"/global", "/domain/1"} {
		status, answer := postForm(t, u+p, body)
		if status != http.StatusOK || answer != "<nomessage/>" {
			t.Fatalf("%s: %d %q", p, status, answer)
		}
	}
	got := tr.tally()
	if got.delivered != 2 || got.lost != 0 {
		t.Errorf("tally = %+v", got)
	}
	// A path the run does not expect: 404, counted, not a delivery.
	if status, _ := postForm(t, u+"/other", body); status != http.StatusNotFound || rc.badPath.Load() != 1 {
		t.Errorf("unexpected path: %d, counted %d", status, rc.badPath.Load())
	}
	// No EVENT_ID: 400. GET: 405.
	if status, _ := postForm(t, u+"/global", "MODULE=ISL_LIGHT&EVENT=NEWSESSION"); status != http.StatusBadRequest {
		t.Errorf("no EVENT_ID: %d", status)
	}
	resp, err := http.Get(u + "/global")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || rc.badRequest.Load() != 2 {
		t.Errorf("GET: %d, bad requests %d", resp.StatusCode, rc.badRequest.Load())
	}
}

func TestEventsReceiverCombinedAndEscaped(t *testing.T) {
	_, tr, u := newTestReceiver(t, modeEvents, nil, nil)
	evs := []*hook.Event{loadEvent(t, testRun, 1), loadEvent(t, testRun, 2), loadEvent(t, testRun, 3)}
	// A combined request, as hookd sends with combine_interval: every
	// field suffixed with its event's index, plus COUNT.
	var b []byte
	for i, ev := range evs {
		tr.accept(ev.ID, 0, 0)
		if i > 0 {
			b = append(b, '&')
		}
		b = hook.AppendForm(b, ev.Fields, "_"+string(rune('0'+i)))
	}
	b = append(b, "&COUNT=3"...)
	if status, answer := postForm(t, u+"/", string(b)); status != http.StatusOK || answer != "<nomessage/>" {
		t.Fatalf("combined: %d %q", status, answer)
	}
	if got := tr.tally(); got.delivered != 3 {
		t.Errorf("combined request: delivered %d, want 3", got.delivered)
	}
	// Escaped values, and a field that merely starts with EVENT_ID.
	ev := loadEvent(t, testRun, 4)
	tr.accept("id with space+plus", 0, 0)
	form := url.Values{"EVENT_ID": {"id with space+plus"}, "EVENT_IDX": {"nope"}, runField: {testRun}, "MODULE": {ev.Module()}}
	if status, _ := postForm(t, u+"/", form.Encode()); status != http.StatusOK {
		t.Fatalf("escaped: %d", status)
	}
	got := tr.tally()
	if got.delivered != 4 || got.unmatched != 0 {
		t.Errorf("escaped id: %+v", got)
	}
	// Another run's event: acknowledged, counted as stale.
	old := url.Values{"EVENT_ID": {"x"}, runField: {"earlier"}}
	if status, _ := postForm(t, u+"/", old.Encode()); status != http.StatusOK || tr.tally().stale != 1 {
		t.Errorf("stale: %d", status)
	}
}

func TestJWTOfBody(t *testing.T) {
	for body, want := range map[string]string{
		`{"jwt":"a.b.c"}`:       "a.b.c",
		" {\"jwt\": \"a.b.c\"}": "a.b.c",
		`{"jwt":"a\u002eb"}`:    "a.b",
		`{"other":"x"}`:         "",
		`{"jwt":""}`:            "",
		`not json`:              "",
	} {
		got, ok := jwtOf([]byte(body))
		if got != want || ok != (want != "") {
			t.Errorf("jwtOf(%s) = %q, %v; want %q", body, got, ok, want)
		}
	}
}
