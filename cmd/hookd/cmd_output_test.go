package main

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 0, "plain text"},
		{"tab\there\nnewline\r", 0, `tab\there\nnewline\r`},
		{"\x1b[31mred\x1b[0m", 0, `\u001b[31mred\u001b[0m`},
		{"bidi \u202eevil", 0, `bidi \u202eevil`},
		{"bad \xff byte", 0, `bad \xff byte`},
		{"äöü ✓ 日本", 0, "äöü ✓ 日本"},
		{"abcdef", 3, "abc…"},
		{"abc", 3, "abc"},
		{"日本語です", 2, "日本…"},
	} {
		if got := clean(tc.in, tc.max); got != tc.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// FuzzClean: whatever a receiver answers, what reaches the terminal is
// valid UTF-8 without control characters.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "ok", "\x1b]0;title\x07", "\xff\xfe", "a\u202eb", "\r\n\t"} {
		f.Add(s, 0)
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = max(0, n%100)
		got := clean(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("clean(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if !unicode.IsGraphic(r) {
				t.Fatalf("clean(%q) = %q: holds %U", s, got, r)
			}
		}
		if n > 0 && utf8.RuneCountInString(strings.TrimSuffix(got, "…")) > 6*n { // an escape is at most 6 runes
			t.Fatalf("clean(%q, %d) = %q: not cut", s, n, got)
		}
	})
}

func TestRenderBar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		done, total int
		want        string
	}{
		{0, 10, "replaying [..........] 0/10   0%"},
		{5, 10, "replaying [#####.....] 5/10  50%"},
		{10, 10, "replaying [##########] 10/10 100%"},
		{12, 10, "replaying [##########] 10/10 100%"},
		{1, 3, "replaying [###.......] 1/3  33%"},
		{0, 0, "replaying [..........] 0/1   0%"},
	} {
		if got := renderBar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("renderBar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}
