package outbound

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps what [ParseRetryAfter] returns. A receiver asking for a
// pause of months is either confused or gone; a week is long enough for an
// outage, and the runtime applies its own, smaller cap on top.
const MaxRetryAfter = 7 * 24 * time.Hour

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110 section
// 10.2.3) into how long to wait from now: either delta-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", and the two obsolete date
// forms HTTP/1.1 recipients must accept).
//
//	d, ok := outbound.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
//
// # Notes
//
//   - ok is false for an empty, negative, fractional or otherwise malformed
//     value: the caller then uses its own schedule.
//   - A date in the past means "now": 0, true.
//   - The result is capped at [MaxRetryAfter], including for numbers too
//     large for a Duration.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(MaxRetryAfter/time.Second) {
			// Only a range error is possible here: the grammar allows any
			// number of digits, so a huge one is valid and merely absurd.
			return MaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > MaxRetryAfter:
		return MaxRetryAfter, true
	}
	return d, true
}

// isDigits reports whether s is 1*DIGIT: no sign, no spaces, no dot.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
