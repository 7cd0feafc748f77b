package testsupport

import (
	"io"
	"net/http"
	"testing"
)

// Send sends req with c and reads the whole answer, failing t on a
// transport error or a body cut short: the tests that look at answers
// (status, headers, body) all need exactly this, and the response's body
// is closed before it returns.
func Send(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}
