package jwtwebhook

import (
	"encoding/json"
	"testing"
)

var stringCases = []string{"", "plain", `"quoted" \back\slash/`, "<script>&amp;</script>", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"é☃𝄞", "\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe2\x80"}

// TestAppendStringIsMarshal checks appendString against encoding/json.
func TestAppendStringIsMarshal(t *testing.T) {
	for _, s := range stringCases {
		checkAppendString(t, s)
	}
}

// FuzzAppendString is TestAppendStringIsMarshal on any string.
func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}

func checkAppendString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("%q: got %s, want %s", s, got[1:], want)
	}
}
