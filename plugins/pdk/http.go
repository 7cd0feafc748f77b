package pdk

import (
	"errors"
	"runtime"
	"strconv"
)

// Request is an outbound HTTP request made through the host.
type Request struct {
	// Method defaults to GET.
	Method string `json:"method,omitempty"`
	// URL is absolute; its scheme, host and port must be in the plugin's
	// http_allow.
	URL string `json:"url"`
	// Header holds the request's headers, one value each.
	Header map[string]string `json:"headers,omitempty"`
	// Body is the request body, as text. "" sends none.
	Body string `json:"body,omitempty"`
}

// Response is the answer to a [Request]. Any HTTP status is a Response,
// not an error.
type Response struct {
	Status int `json:"status"`
	// Header holds the response's headers; repeated ones are joined with
	// ", ".
	Header map[string]string `json:"headers"`
	// Body is the response body as text, cut at the plugin's
	// http_max_response (1 MiB by default).
	Body string `json:"body"`
	// Truncated reports that Body was cut.
	Truncated bool `json:"truncated"`
}

// Fetch sends req through the host and returns the response.
//
//	res, err := pdk.Fetch(pdk.Request{
//		Method: "POST",
//		URL:    "https://api.example.com/events",
//		Header: map[string]string{"Content-Type": "application/json"},
//		Body:   `{"event":"NEWSESSION"}`,
//	})
//	switch {
//	case errors.Is(err, pdk.ErrDenied):
//		return pdk.FailPermanently(err)
//	case err != nil:
//		return pdk.Fail(err)
//	case res.Status/100 != 2:
//		return pdk.Fail(fmt.Errorf("api answered HTTP %d", res.Status))
//	}
//
// # Notes
//
//   - The errors are a [*HostError] unwrapping to: [ErrDenied] (the URL,
//     a redirect or the address it resolves to is not allowed, or the
//     plugin has no http_allow), [ErrLimit] (more requests than the
//     plugin's http_max_requests in this call, 4 by default),
//     [ErrTimeout] (the request's timeout or the call's deadline passed),
//     [ErrFailed] (a transport error; the host logs it), [ErrTooLarge] (a
//     request over 64 KiB) or [ErrBadArgument] (not a valid request: a bad
//     URL, method or header).
//   - Redirects are followed (at most 5), each one checked like the URL.
//   - The request's timeout is the smaller of the plugin's http_timeout
//     and what is left of the call (see [Deadline]).
func Fetch(req Request) (Response, error) {
	raw, err := req.appendJSON(nil)
	if err != nil {
		return Response{}, errors.New("pdk: http_request: " + err.Error())
	}
	n := httpRequest(ptr(raw), uint32(len(raw)))
	runtime.KeepAlive(raw)
	if n < 0 {
		return Response{}, hostError("http_request", n)
	}
	out, err := result("http_request", n)
	if err != nil {
		return Response{}, err
	}
	return parseResponse(out)
}

// appendJSON writes the request object of http_request.
func (r Request) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"url":`...)
	b = appendString(b, r.URL)
	if r.Method != "" {
		b = append(b, `,"method":`...)
		b = appendString(b, r.Method)
	}
	if len(r.Header) > 0 {
		b = append(b, `,"headers":`...)
		var err error
		if b, err = appendMap(b, r.Header); err != nil {
			return nil, err
		}
	}
	if r.Body != "" {
		b = append(b, `,"body":`...)
		b = appendString(b, r.Body)
	}
	return append(b, '}'), nil
}

// parseResponse reads the response object of http_request, ignoring
// members it does not know.
func parseResponse(raw []byte) (Response, error) {
	tree, err := parseJSON(raw)
	obj, ok := tree.(jsonObject)
	if err != nil || !ok {
		return Response{}, errors.New("pdk: http_request: the host's response is not a JSON object")
	}
	var res Response
	for _, m := range obj {
		switch m.name {
		case "status":
			n, _ := m.value.(jsonNumber)
			res.Status, _ = strconv.Atoi(string(n))
		case "headers":
			h, _ := m.value.(jsonObject)
			res.Header = make(map[string]string, len(h))
			for _, kv := range h {
				res.Header[kv.name], _ = kv.value.(string)
			}
		case "body":
			res.Body, _ = m.value.(string)
		case "truncated":
			res.Truncated, _ = m.value.(bool)
		}
	}
	return res, nil
}
