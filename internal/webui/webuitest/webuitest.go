// Package webuitest holds what the tests of hookd's two server-rendered
// pages, the admin page (internal/admin) and the domain owners' portal
// (internal/portal), both need: a browser stand-in that keeps cookies,
// logs in through the form and reads the CSRF token of a page, and a
// backend that knows nothing, for the tests of what happens before a
// login. Both pages follow the same session and CSRF rules
// (internal/webui), so their tests speak to them the same way, from here.
// It is a test-support package: only tests import it.
package webuitest

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/testsupport"
)

// NewHTTPClient is the HTTP client of a browser stand-in: it keeps
// cookies and does not follow redirects (tests look at them).
func NewHTTPClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Client is a browser stand-in on the server at Base: it sends its
// requests with HTTP (see NewHTTPClient) and Origin with its POSTs, and
// fails T on any transport error.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
}

// Response is what a test reads of an answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends req and reads the whole answer.
func (c *Client) Do(req *http.Request) Response {
	c.T.Helper()
	resp, b := testsupport.Send(c.T, c.HTTP, req)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get loads path.
func (c *Client) Get(path string) Response {
	c.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.Base+path, nil)
	return c.Do(req)
}

// Post sends a form from this origin; headers (alternating names and
// values) may override or remove (with "") what a browser sends.
func (c *Client) Post(path string, form url.Values, headers ...string) Response {
	c.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.Base)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return c.Do(req)
}

// Upload sends a multipart form from this origin, with file as its
// "module" part (named plugin.wasm) when not nil.
func (c *Client) Upload(path string, form url.Values, file []byte) Response {
	c.T.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("module", "plugin.wasm")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.Base)
	return c.Do(req)
}

// Login posts token to the login form of the page mounted at prefix
// ("/admin", "/portal"), wants to be sent to its first page, and returns
// the CSRF token of that page.
func (c *Client) Login(prefix, token string) string {
	c.T.Helper()
	r := c.Post(prefix+"/login", url.Values{"token": {token}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != prefix+"/" {
		c.T.Fatalf("login: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return c.CSRF(prefix + "/")
}

// CSRFField finds a form's CSRF token: its first group is the token.
var CSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF loads page and returns the CSRF token of its forms.
func (c *Client) CSRF(page string) string {
	c.T.Helper()
	r := c.Get(page)
	m := CSRFField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		c.T.Fatalf("GET %s: %d, no CSRF token:\n%s", page, r.Status, r.Body)
	}
	return m[1]
}

// Follow loads the page a redirect points to.
func (c *Client) Follow(r Response) Response {
	c.T.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || loc == "" {
		c.T.Fatalf("want a 303 redirect, got %d %q:\n%s", r.Status, loc, r.Body)
	}
	return c.Get(loc)
}
