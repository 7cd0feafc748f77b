package outbound

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"007", 7 * time.Second, true},
		{"604800", MaxRetryAfter, true},
		{"604801", MaxRetryAfter, true},
		{"99999999999999999999999999", MaxRetryAfter, true},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second, true},  // IMF-fixdate
		{"Sunday, 01-Mar-26 12:01:30 GMT", 90 * time.Second, true}, // obsolete RFC 850
		{"Sun Mar  1 12:01:30 2026", 90 * time.Second, true},       // obsolete asctime
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},                 // past: now
		{"Mon, 01 Jan 2035 00:00:00 GMT", MaxRetryAfter, true},     // absurd: capped
		{"", 0, false},
		{"   ", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{"2026-03-01T12:01:30Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "-1", "99999999999999999999", "Sun, 01 Mar 2026 12:01:30 GMT",
		"Sunday, 01-Mar-26 12:01:30 GMT", "Sun Mar  1 12:01:30 2026", "Fri, 31 Dec 9999 23:59:59 GMT",
		"Mon, 01 Jan 0001 00:00:00 GMT", "", " 5 ", "1e3"} {
		f.Add(s, int64(1772366400))
	}
	f.Fuzz(func(t *testing.T, v string, unix int64) {
		d, ok := ParseRetryAfter(v, time.Unix(unix, 0))
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, %v]", v, d, MaxRetryAfter)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false; want 0 when not ok", v, d)
		}
	})
}
