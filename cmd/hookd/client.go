package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The operator commands (deliveries, targets, replay, health) talk to a
// running hookd over its HTTP API, as curl would, with the conventions of
// this file: where hookd is (-addr, $HOOKD_ADDR), its bearer token
// (-token-file, $HOOKD_TOKEN; never a flag of its own, which ps would
// show), a timeout on every request, and the API's {"error": …} text in
// the error, with the status.

// defaultAddr is where hookd serve listens unless [server] listen says
// otherwise.
const defaultAddr = "http://127.0.0.1:7700"

// maxAnswer bounds what the client reads of one answer: a page of 1000
// deliveries is about 1 MB, one delivery with a long attempt history (each
// with up to 20 kB of response) a few MB.
const maxAnswer = 32 << 20

// clientOpts are the flags every operator command has.
type clientOpts struct {
	addr      string
	tokenFile string
	timeout   time.Duration
}

// addClientFlags adds -addr, -token-file and -timeout to f.
func addClientFlags(f *flagSet, timeout time.Duration) *clientOpts {
	o := &clientOpts{}
	addr := os.Getenv("HOOKD_ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	f.StringVar(&o.addr, "addr", addr, "hookd's API: `URL` or host:port; $HOOKD_ADDR when set")
	f.StringVar(&o.tokenFile, "token-file", "", "read the bearer token from `FILE` (mode 0600), else from $HOOKD_TOKEN")
	f.DurationVar(&o.timeout, "timeout", timeout, "give up on a request after `DURATION`")
	return o
}

// client is a connection to one hookd's API.
type client struct {
	base     *url.URL
	token    string
	http     *http.Client
	maxBytes int64 // of one answer: maxAnswer
}

// client checks the flags and returns a client: a bad -addr or -timeout
// is a usage error of f, an unreadable token file an error.
func (o *clientOpts) client(f *flagSet) (*client, error) {
	base, err := parseAddr(o.addr)
	if err != nil {
		return nil, f.usageErr(err)
	}
	if o.timeout <= 0 {
		return nil, f.usageErr(fmt.Errorf("-timeout %s: must be more than 0", o.timeout))
	}
	token, err := o.readToken()
	if err != nil {
		return nil, err
	}
	return &client{base: base, token: token, maxBytes: maxAnswer, http: &http.Client{
		Timeout: o.timeout,
		// The API never redirects; following one would send the token
		// elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// parseAddr reads -addr: http(s)://host:port[/prefix], or host:port for
// http.
func parseAddr(s string) (*url.URL, error) {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("-addr %q: must be http(s)://host:port or host:port, e.g. %s", s, defaultAddr)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// readToken reads the token from -token-file, else $HOOKD_TOKEN; none
// means no Authorization header (hookd on loopback without token_file).
func (o *clientOpts) readToken() (string, error) {
	if o.tokenFile != "" {
		tok, err := readTokenFile(o.tokenFile)
		if err != nil {
			return "", fmt.Errorf("-token-file: %w", err)
		}
		return tok, nil
	}
	tok := strings.TrimSpace(os.Getenv("HOOKD_TOKEN"))
	if len(tok) > maxToken || strings.ContainsAny(tok, " \t\r\n") {
		return "", errors.New("$HOOKD_TOKEN must hold one token (no spaces, at most 4 KiB)")
	}
	return tok, nil
}

// apiError is an answer that is not 2xx.
type apiError struct {
	Method, Path string
	Status       int
	Msg          string // the API's {"error": …}, or the start of the body
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Status == http.StatusUnauthorized {
		s += " (give hookd's token with -token-file FILE or $HOOKD_TOKEN)"
	}
	return s
}

// do sends one request to path (escaped, under -addr's path) and returns
// the answer's body when it is 2xx; body (when not nil) is sent as JSON.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	if body == nil {
		return c.send(ctx, method, path, query, "", nil)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return c.send(ctx, method, path, query, "application/json", b)
}

// send is do with a body already encoded as contentType (a multipart
// upload, a JSON document read from a file); a nil body sends none.
func (c *client) send(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) ([]byte, error) {
	u := *c.base // path is escaped already (url.PathEscape of a target's name)
	u.RawPath = c.base.EscapedPath() + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hookd-cli/"+hookdVersion())
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: interrupted", method, path)
		}
		return nil, fmt.Errorf("cannot reach hookd at %s (set -addr or $HOOKD_ADDR): %w", c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if int64(len(data)) > c.maxBytes {
		return nil, fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, c.maxBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &apiError{Method: method, Path: path, Status: resp.StatusCode, Msg: errorText(data)}
	}
	return data, nil
}

// errorText is the {"error": …} of an answer, or its start when it is not
// one (a proxy's HTML page), cleaned for the terminal.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return clean(e.Error, 500)
	}
	return clean(strings.TrimSpace(string(body)), 200)
}

// get sends a GET and decodes the answer into out; it returns the raw
// answer too, for -json.
func (c *client) get(ctx context.Context, path string, query url.Values, out any) ([]byte, error) {
	return c.call(ctx, http.MethodGet, path, query, nil, out)
}

// show GETs path into out for a command with -json: with asJSON it prints
// the API's answer as it came and returns printed true, so that the
// command stops there; otherwise the command prints out its own way.
func (c *client) show(ctx context.Context, path string, query url.Values, out any, asJSON bool, stdout io.Writer) (printed bool, err error) {
	raw, err := c.get(ctx, path, query, out)
	if err != nil || !asJSON {
		return err != nil, err
	}
	_, err = stdout.Write(raw)
	return true, err
}

// post sends a POST (body as JSON when not nil) and decodes the answer
// into out.
func (c *client) post(ctx context.Context, path string, query url.Values, body, out any) ([]byte, error) {
	return c.call(ctx, http.MethodPost, path, query, body, out)
}

func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) ([]byte, error) {
	data, err := c.do(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	return data, decodeAnswer(method, path, data, out)
}

// decodeAnswer decodes an answer into out (nil: not at all; an empty
// answer, such as a 204's, leaves out as it is).
func decodeAnswer(method, path string, data []byte, out any) error {
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not what hookd answers: %w", method, path, err)
		}
	}
	return nil
}
