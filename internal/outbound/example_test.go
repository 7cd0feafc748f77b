package outbound_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
)

func ExampleParseRetryAfter() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Sun, 01 Mar 2026 12:05:00 GMT", "Sun, 01 Mar 2026 11:00:00 GMT", "99999999", "-1", "soon"} {
		d, ok := outbound.ParseRetryAfter(v, now)
		fmt.Printf("%-31q %v %v\n", v, d, ok)
	}
	// Output:
	// "120"                           2m0s true
	// "Sun, 01 Mar 2026 12:05:00 GMT" 5m0s true
	// "Sun, 01 Mar 2026 11:00:00 GMT" 0s true
	// "99999999"                      168h0m0s true
	// "-1"                            0s false
	// "soon"                          0s false
}

func ExampleClassify() {
	answers := []*outbound.Response{
		{Status: 204},
		{Status: 302, Header: http.Header{"Location": {"https://example.com/new"}}},
		{Status: 410},
		{Status: 429, Header: http.Header{"Retry-After": {"30"}}},
		{Status: 502, Body: []byte("<html>\n<head><title>502 Bad Gateway</title></head>\n</html>")},
	}
	for _, resp := range answers {
		res, err := outbound.Classify(resp, nil)
		hint, _ := hook.RetryAfterHint(err)
		fmt.Printf("%d disable=%v hint=%v err=%v\n", res.Status, hook.IsDisable(err), hint, err)
	}
	// Output:
	// 204 disable=false hint=0s err=<nil>
	// 302 disable=false hint=0s err=HTTP 302: redirects are not followed (Location: https://example.com/new); a delivery needs a 2xx answer
	// 410 disable=true hint=0s err=HTTP 410: (empty body); the endpoint is gone, so the target is disabled
	// 429 disable=false hint=30s err=HTTP 429: (empty body) (retry after 30s)
	// 502 disable=false hint=0s err=HTTP 502: <html> <head><title>502 Bad Gateway</title></head> </html>
}
