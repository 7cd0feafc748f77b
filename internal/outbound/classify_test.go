package outbound

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

func TestClassifyWithoutNetwork(t *testing.T) {
	t.Parallel()
	transport := errors.New("connection refused (192.0.2.1:443)")
	tests := []struct {
		name       string
		resp       *Response
		err        error
		wantStatus int
		wantErr    string
	}{
		{name: "transport error is returned unchanged", err: transport, wantErr: transport.Error()},
		{name: "body error keeps the status", resp: &Response{Status: 200, Body: []byte("par")}, err: transport, wantStatus: 200, wantErr: transport.Error()},
		{name: "nothing at all", wantErr: "no response and no error"},
		{name: "299 is success", resp: &Response{Status: 299}, wantStatus: 299},
		{name: "304 without Location", resp: &Response{Status: 304, Header: http.Header{}}, wantStatus: 304, wantErr: "HTTP 304: redirects are not followed (no Location header)"},
		{name: "100 is not success", resp: &Response{Status: 100}, wantStatus: 100, wantErr: "HTTP 100: (empty body)"},
		{name: "long Location is cut", resp: &Response{Status: 301, Header: http.Header{"Location": {"https://example.com/" + strings.Repeat("a", 500)}}}, wantStatus: 301, wantErr: "aaa…); a delivery"},
	}
	for _, tt := range tests {
		res, err := Classify(tt.resp, tt.err)
		if res.Status != tt.wantStatus {
			t.Errorf("%s: Status = %d, want %d", tt.name, res.Status, tt.wantStatus)
		}
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := Classify(nil, transport); err != transport {
		t.Errorf("transport error was rewrapped: %v", err)
	}
}

func TestClassifyRetryAfterWithoutDate(t *testing.T) {
	t.Parallel()
	resp := &Response{Status: 503, Header: http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}}
	_, err := Classify(resp, nil)
	if d, ok := hook.RetryAfterHint(err); !ok || d < 58*time.Minute || d > time.Hour {
		t.Errorf("hint = %v, %v; want about 1h against the local clock", d, ok)
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 10, ""},
		{"hello", 0, ""},
		{"hello", 5, "hello"},
		{"hello world", 5, "hello…"},
		{"  <html>\n\t<body>\r\n</body>  ", 100, "<html> <body> </body>"},
		{"a\x00b\x1bc", 100, "a b c"},
		{"bad \xff\xfe utf8", 100, "bad utf8"},
		{"héllo", 2, "h…"}, // é is 2 bytes: not split
		{"héllo", 3, "hé…"},
		{"日本語", 4, "日…"},
		{"a\u200bb", 100, "a b"}, // zero-width space is not printable
		{"ab cd", 3, "ab…"},      // a pending space counts
	}
	for _, tt := range tests {
		if got := Excerpt([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzExcerpt(f *testing.F) {
	f.Add([]byte("<html>\n<title>502 Bad Gateway</title>"), 20)
	f.Add([]byte("h\xc3\xa9llo \xff"), 2)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n %= 300
		got := Excerpt(body, n)
		if !utf8.ValidString(got) {
			t.Fatalf("Excerpt(%q, %d) = %q: not UTF-8", body, n, got)
		}
		if len(strings.TrimSuffix(got, "…")) > max(n, 0) {
			t.Fatalf("Excerpt(%q, %d) = %q: longer than %d bytes", body, n, got, n)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) || r == '\n' {
				t.Fatalf("Excerpt(%q, %d) = %q: has %U", body, n, got, r)
			}
		}
		if strings.Contains(got, "  ") || strings.HasPrefix(got, " ") {
			t.Fatalf("Excerpt(%q, %d) = %q: runs of spaces", body, n, got)
		}
	})
}
