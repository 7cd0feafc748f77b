package delivery

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/hookrt/hookd/hook"
)

// Bounds of a target's static headers. A handful of headers is what an
// endpoint's authentication needs; a value of 8 KiB holds any token a
// receiver will take (most servers refuse header blocks beyond 8–16 KiB).
const (
	MaxHeaders     = 32
	MaxHeaderValue = 8 << 10
)

// refusedHeaders are the names a target may not set, lower case, with the
// reason the error gives. The transport owns the hop-by-hop ones and the
// framing; hookd sets its own on every request (a receiver deduplicates on
// X-Event-Id, a combined one counts X-Hookd-Batch), and the signature's
// are the signer's.
var refusedHeaders = map[string]string{
	"connection":          "a hop-by-hop header is not allowed (the transport manages the connection)",
	"keep-alive":          "a hop-by-hop header is not allowed (the transport manages the connection)",
	"proxy-authenticate":  "a hop-by-hop header is not allowed (for a proxy's credentials, give them in the proxy URL)",
	"proxy-authorization": "a hop-by-hop header is not allowed (for a proxy's credentials, give them in the proxy URL)",
	"proxy-connection":    "a hop-by-hop header is not allowed (the transport manages the connection)",
	"te":                  "a hop-by-hop header is not allowed (the transport negotiates encodings)",
	"trailer":             "a hop-by-hop header is not allowed (requests carry no trailers)",
	"transfer-encoding":   "a hop-by-hop header is not allowed (the transport frames the body)",
	"upgrade":             "a hop-by-hop header is not allowed (deliveries do not switch protocols)",
	"host":                "Host is not allowed (it is the URL's host)",
	"content-length":      "Content-Length is not allowed (the transport sets it from the body)",
	"content-type":        "hookd sets Content-Type itself (the body's format)",
	"user-agent":          "hookd sets User-Agent itself",
	"x-event-id":          "hookd sets X-Event-Id itself (the event's id, for deduplication)",
	"x-hookd-batch":       "hookd sets X-Hookd-Batch itself (the count of a combined request)",
	"traceparent":         "hookd sets traceparent itself (tracing)",
	"tracestate":          "hookd sets tracestate itself (tracing)",
	HeaderID:              "the Standard Webhooks signature sets webhook-id (signing = \"standard-webhooks\")",
	HeaderTimestamp:       "the Standard Webhooks signature sets webhook-timestamp (signing = \"standard-webhooks\")",
	HeaderSignature:       "the Standard Webhooks signature sets webhook-signature (signing = \"standard-webhooks\")",
}

// checkHeaders judges the header names, the literal values and the file
// names, in name order so that the errors come out the same every time.
func checkHeaders(p *problems, headers map[string]hook.Secret) {
	if len(headers) > MaxHeaders {
		p.addf("headers", "%d headers: at most %d are allowed", len(headers), MaxHeaders)
	}
	seen := make(map[string]string, len(headers))
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		key := fmt.Sprintf("headers.%q", name)
		if err := checkHeaderName(name); err != nil {
			p.add(key, err)
			continue
		}
		lower := strings.ToLower(name)
		if other, ok := seen[lower]; ok {
			p.addf(key, "given twice, also as %q: header names are case-insensitive", other)
			continue
		}
		seen[lower] = name
		v := headers[name]
		if err := checkSecretForm(v); err != nil {
			p.add(key, err)
			continue
		}
		if v.File != "" {
			if err := checkFileName(v.File); err != nil {
				p.add(key, err)
			}
			continue
		}
		if err := checkHeaderValue(v.Value); err != nil {
			p.add(key, err)
		}
	}
}

// checkHeaderName says whether name is a header a target may set.
func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("an empty header name is not allowed")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("not a header name: letters, digits and !#$%%&'*+-.^_`|~ are allowed (RFC 9110 token)")
		}
	}
	if why, ok := refusedHeaders[strings.ToLower(name)]; ok {
		return fmt.Errorf("%s", why)
	}
	return nil
}

// checkHeaderValue says what is wrong with a header value, literal or read
// from a file, without quoting it (it may be a secret).
func checkHeaderValue(v string) error {
	switch {
	case v == "":
		return fmt.Errorf("an empty value is not allowed")
	case len(v) > MaxHeaderValue:
		return fmt.Errorf("the value is %d bytes: at most %d are allowed", len(v), MaxHeaderValue)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("the value holds a control character (byte %d is %#02x): CR, LF, NUL and other control characters are not allowed", i, c)
		}
	}
	return nil
}

// isTokenChar reports whether c may appear in an RFC 9110 token (tchar).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// compiledHeaders is the headers ready to set: canonical names, values
// read. Set, never Add: a target's header replaces one the request may
// already carry.
type compiledHeaders []struct{ name, value string }

func (hs compiledHeaders) apply(h http.Header) {
	for _, kv := range hs {
		h.Set(kv.name, kv.value)
	}
}
