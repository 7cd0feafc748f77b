package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestProblem: exceptions, errors and warnings are the page's problems,
// other messages are not, and the ones a test provokes on purpose are
// left out only where its Expected says so.
func TestProblem(t *testing.T) {
	wrongToken := chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network",
		Text: "Failed to load resource: 401", URL: "http://127.0.0.1/admin/login"}
	csp := chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "security", Text: "Refused to execute inline script"}
	warning := chromedp.ConsoleMessage{Type: chromedp.ConsoleWarning, Source: "javascript", Text: "deprecated"}
	log := chromedp.ConsoleMessage{Type: chromedp.ConsoleLog, Source: "javascript", Text: "hello"}
	expected := func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "401") && strings.HasSuffix(m.URL, "/admin/login")
	}
	for _, c := range []struct {
		name string
		opts Options
		m    chromedp.ConsoleMessage
		want bool
	}{
		{"wrong token, nothing expected", Options{}, wrongToken, true},
		{"wrong token, expected", Options{Expected: expected}, wrongToken, false},
		{"CSP violation", Options{Expected: expected}, csp, true},
		{"warning", Options{Expected: expected}, warning, true},
		{"log line", Options{}, log, false},
	} {
		b := &Browser{opts: c.opts}
		if got := b.problem(c.m); got != c.want {
			t.Errorf("%s: problem = %v, want %v", c.name, got, c.want)
		}
	}
}
