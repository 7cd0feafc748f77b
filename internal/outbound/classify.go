package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// excerptLen is how much of a body or header an error text quotes: enough to
// recognise "502 Bad Gateway" or a JSON error, short enough for a log line.
const excerptLen = 200

// Classify applies the "any 2xx is success" rule to what [Client.Do]
// returned, giving the [hook.Result] and error a [hook.Handler] returns.
// Its arguments are Do's results, so the two calls chain:
//
//	res, err := outbound.Classify(c.Do(ctx, req))
//
// The Result is filled whenever there is a Response (Status, Reply = the
// already bounded Body, Latency), also for failures, since the delivery log
// records every attempt. The error is:
//
//   - nil for any 2xx;
//   - for a 3xx, a failure naming the Location: redirects are not followed,
//     so the configured URL needs fixing;
//   - for 410 Gone, [hook.Disable]: the receiver says the endpoint is gone;
//   - for 429 and 503 with a valid Retry-After, [hook.RetryAfter] with the
//     receiver's wish (an HTTP-date is read against the answer's own Date
//     header when there is one, so a skewed clock on either side does not
//     matter);
//   - for any other status, a failure quoting the start of the body;
//   - for a transport error, that error unchanged.
func Classify(resp *Response, err error) (hook.Result, error) {
	var res hook.Result
	if resp != nil {
		res = hook.Result{Status: resp.Status, Reply: resp.Body, Latency: resp.Latency}
	}
	if err != nil {
		return res, err
	}
	if resp == nil {
		return res, errors.New("outbound: no response and no error to classify")
	}

	code := resp.Status
	switch {
	case code >= 200 && code <= 299:
		return res, nil
	case code >= 300 && code <= 399:
		loc := "no Location header"
		if l := resp.Header.Get("Location"); l != "" {
			loc = "Location: " + Excerpt([]byte(l), excerptLen)
		}
		return res, fmt.Errorf("HTTP %d: redirects are not followed (%s); a delivery needs a 2xx answer", code, loc)
	case code == http.StatusGone:
		return res, hook.Disable(fmt.Errorf("%w; the endpoint is gone, so the target is disabled", statusError(resp)))
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if v := resp.Header.Get("Retry-After"); v != "" {
			now := time.Now()
			if date, derr := http.ParseTime(resp.Header.Get("Date")); derr == nil {
				now = date
			}
			if d, ok := ParseRetryAfter(v, now); ok {
				return res, hook.RetryAfter(d, statusError(resp))
			}
		}
	}
	return res, statusError(resp)
}

// statusError is "HTTP 500: <start of the body>".
func statusError(resp *Response) error {
	ex := Excerpt(resp.Body, excerptLen)
	if ex == "" {
		ex = "(empty body)"
	}
	return fmt.Errorf("HTTP %d: %s", resp.Status, ex)
}

// Excerpt returns the start of body as one printable line for an error text:
// at most n bytes of valid UTF-8 (plus "…" when body was cut), with control
// characters, invalid bytes and runs of white space each turned into a single
// space.
//
//	Excerpt([]byte("<html>\n  <h1>Bad Gateway</h1>"), 200) == "<html> <h1>Bad Gateway</h1>"
//
// # Notes
//
//   - Runes are never split, so the result is valid UTF-8 even when n falls
//     in the middle of one.
//   - The text is not otherwise escaped: it is meant to be read, and the
//     log's encoder quotes it.
func Excerpt(body []byte, n int) string {
	if n <= 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(min(n, len(body)))
	space := false // a space is pending: written only if text follows
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		i += size
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = sb.Len() > 0
			continue
		}
		need := utf8.RuneLen(r)
		if space {
			need++
		}
		if sb.Len()+need > n {
			sb.WriteString("…")
			return sb.String()
		}
		if space {
			sb.WriteByte(' ')
			space = false
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
