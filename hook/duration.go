package hook

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Duration is a [time.Duration] as config.toml spells it: either a string
// that [time.ParseDuration] accepts, or an integer number of seconds (the
// original settings speak of "timeout in seconds"):
//
//	timeout = "1m30s"
//	timeout = 90      # the same
//
// Module config sections use it for their durations, so that every
// duration key of the file reads the same way.
//
// # Notes
//
//   - Negative durations are an error; so are floats ("1.5") and strings
//     without a unit ("5"), which are ambiguous.
//   - Convert with time.Duration(d).
//   - String and MarshalText print the shortest form ("5m", not "5m0s"),
//     which reads back to the same value.
type Duration time.Duration

// maxSeconds is the largest integer number of seconds a Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// wantDuration describes what a duration key accepts, for error messages.
const wantDuration = `a duration (a string like "5s" or "1h30m", or a whole number of seconds)`

// UnmarshalTOML implements BurntSushi/toml's Unmarshaler: a string is
// parsed with [time.ParseDuration], an integer is a number of seconds.
func (d *Duration) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		return d.UnmarshalText([]byte(v))
	case int64:
		if v < 0 {
			return fmt.Errorf("must not be negative, got %d", v)
		}
		if v > maxSeconds {
			return fmt.Errorf("must be at most %d seconds, got %d", maxSeconds, v)
		}
		*d = Duration(time.Duration(v) * time.Second)
		return nil
	default:
		return fmt.Errorf("wrong type: want %s, got %s", wantDuration, tomlKind(v))
	}
}

// tomlKind names the TOML type of a value the TOML decoder hands to
// UnmarshalTOML.
func tomlKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case float64:
		return "a float"
	case time.Time:
		return "a datetime"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	}
	return fmt.Sprintf("%T", v)
}

// UnmarshalText implements [encoding.TextUnmarshaler]: the string form only.
func (d *Duration) UnmarshalText(text []byte) error {
	s := string(text)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`invalid duration %q: want a string like "5s", "250ms" or "1h30m", or a whole number of seconds`, s)
	}
	if v < 0 {
		return fmt.Errorf("must not be negative, got %s", Duration(v))
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements [encoding.TextMarshaler] with [Duration.String].
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is like [time.Duration.String] without zero trailing units:
// "5m" rather than "5m0s", "2h" rather than "2h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
