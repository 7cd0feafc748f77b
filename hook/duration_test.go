package hook

import (
	"testing"
	"time"
)

func TestDurationString(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		250 * time.Millisecond:             "250ms",
		5 * time.Second:                    "5s",
		5 * time.Minute:                    "5m",
		10 * time.Minute:                   "10m",
		90 * time.Minute:                   "1h30m",
		2 * time.Hour:                      "2h",
		10*time.Hour + 5*time.Second:       "10h0m5s",
		time.Minute + 500*time.Millisecond: "1m0.5s",
		-5 * time.Second:                   "-5s",
	} {
		got := Duration(d).String()
		if got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
		text, err := Duration(d).MarshalText()
		if err != nil || string(text) != want {
			t.Errorf("MarshalText(%v) = %q, %v", d, text, err)
		}
		if d < 0 {
			continue
		}
		var back Duration
		if err := back.UnmarshalText(text); err != nil || back != Duration(d) {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, d)
		}
	}
}

func TestDurationUnmarshalTOML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      any
		want    Duration
		wantErr string
	}{
		{"5s", Duration(5 * time.Second), ""},
		{"1h30m", Duration(90 * time.Minute), ""},
		{"0", 0, ""},
		{int64(0), 0, ""},
		{int64(10), Duration(10 * time.Second), ""},
		{maxSeconds, Duration(maxSeconds * int64(time.Second)), ""},
		{maxSeconds + 1, 0, "must be at most 9223372036 seconds, got 9223372037"},
		{int64(-1), 0, "must not be negative, got -1"},
		{"-1m", 0, "must not be negative, got -1m"},
		{"5", 0, `invalid duration "5": want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`},
		{1.5, 0, `wrong type: want a duration (a string like "5s" or "1h30m", or a whole number of seconds), got a float`},
		{[]any{"5s"}, 0, `wrong type: want a duration (a string like "5s" or "1h30m", or a whole number of seconds), got an array`},
		{map[string]any{}, 0, `wrong type: want a duration (a string like "5s" or "1h30m", or a whole number of seconds), got a table`},
	} {
		var d Duration
		err := d.UnmarshalTOML(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("UnmarshalTOML(%#v): %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("UnmarshalTOML(%#v) error = %v, want %s", tc.in, err, tc.wantErr)
		case d != tc.want:
			t.Errorf("UnmarshalTOML(%#v) = %v, want %v", tc.in, d, tc.want)
		}
	}
}
