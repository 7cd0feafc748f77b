package delivery

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/outbound"
)

// Env is what [Build] needs from the runtime.
type Env struct {
	// PrivateDir is where the files the settings name are (storage.private_dir).
	PrivateDir string
	// Proxy is [delivery] proxy, the egress proxy of every target that
	// does not set its own; "" or "direct" is none.
	Proxy string
}

// HTTP is the HTTP side of a target's delivery settings, compiled: the
// header values read, the signer with its secrets and key, the TLS
// configuration, the proxy URL. It is immutable and safe for concurrent
// use. A nil *HTTP sets nothing: its methods act on the client's defaults.
type HTTP struct {
	headers compiledHeaders
	signer  *Signer
	tls     *tls.Config
	proxy   *url.URL
	now     func() time.Time // time.Now; tests pin it
}

// Build reads the files s names from env.PrivateDir and compiles the HTTP
// side of s. It returns nil and no error when nothing of it applies (nil
// or only filter, rate limit and order, and no proxy from env): such a
// target shares the module's client.
//
//	h, err := delivery.Build(cfg.Delivery, delivery.Env{PrivateDir: env.PrivateDir, Proxy: env.DeliveryProxy})
//	client := outbound.New(h.Options(outbound.Options{Timeout: cfg.Timeout}))
//
// # Notes
//
//   - Build runs [Validate] first: a caller that skipped it still gets
//     the same errors.
//   - Files are read once, here: a rotated secret takes effect when the
//     target is built again (a reload). Secret files (header values,
//     signing secrets, signing_key, tls.client_key) must not be readable
//     by group or others, as hookd's other key files; a one-line value is
//     trimmed of surrounding white space.
//   - Every module builds its own *HTTP from its own settings; nothing is
//     shared between targets.
func Build(s *hook.DeliverySettings, env Env) (*HTTP, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	h := &HTTP{now: time.Now}
	var p problems
	if s != nil && s.Proxy != "" {
		h.proxy, _ = parseProxy(s.Proxy) // valid: Validate said so
	} else if u, err := parseProxy(env.Proxy); err != nil {
		p.add("proxy (from [delivery] proxy)", err)
	} else {
		h.proxy = u
	}
	if s != nil {
		h.headers = buildHeaders(&p, s.Headers, env.PrivateDir)
		var err error
		if h.signer, err = buildSigner(s, env.PrivateDir); err != nil {
			p.errs = append(p.errs, err)
		}
		if h.tls, err = buildTLS(s.TLS, env.PrivateDir); err != nil {
			p.errs = append(p.errs, err)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if h.Shared() {
		return nil, nil
	}
	return h, nil
}

// buildHeaders reads the header values, in name order.
func buildHeaders(p *problems, headers map[string]hook.Secret, dir string) compiledHeaders {
	var out compiledHeaders
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		v := headers[name].Value
		if f := headers[name].File; f != "" {
			var err error
			key := fmt.Sprintf("headers.%q", name)
			if v, err = readLine(dir, f, "one header value"); err != nil {
				p.add(key, err)
				continue
			}
			if err := checkHeaderValue(v); err != nil {
				p.addf(key, "file %s: %w", f, err)
				continue
			}
		}
		out = append(out, struct{ name, value string }{http.CanonicalHeaderKey(name), v})
	}
	return out
}

// buildTLS reads the client certificate and key and the CA; nil when none
// is set (Go's defaults).
func buildTLS(t hook.TLSSettings, dir string) (*tls.Config, error) {
	if t == (hook.TLSSettings{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.ClientCert != "" {
		certPEM, err := readFile(dir, t.ClientCert, maxCertFile, false)
		if err != nil {
			return nil, fmt.Errorf("tls.client_cert: %w", err)
		}
		keyPEM, err := readFile(dir, t.ClientKey, jwtsign.MaxKeyFileSize, true)
		if err != nil {
			return nil, fmt.Errorf("tls.client_key: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls: %s and %s are not a PEM certificate and its private key: %w", t.ClientCert, t.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if t.CA != "" {
		b, err := readFile(dir, t.CA, maxCAFile, false)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("tls.ca: %s holds no PEM certificate: the CA certificates the receiver's must chain to are allowed", t.CA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Options returns base with the target's TLS configuration, proxy and a
// Prepare that sets the headers and signs; a nil h returns base as it is.
//
// # Notes
//
//   - A Prepare already in base runs first; then the headers are set,
//     then the request is signed, so that the signature is the last word.
//   - Signing reads the body through r.GetBody (the requests hookd makes
//     have one), signs "id.timestamp.body" with the request's X-Event-Id
//     as webhook-id (a combined request's: "<first id>+<n>"), and the
//     attempt's time: a retry is signed afresh with the same id. A request
//     without X-Event-Id (a synchronous WebAPI call) gets a fresh UUID.
func (h *HTTP) Options(base outbound.Options) outbound.Options {
	if h == nil {
		return base
	}
	if h.tls != nil {
		base.TLS = h.tls.Clone()
	}
	if h.proxy != nil {
		u := *h.proxy
		base.Proxy = &u
	}
	if len(h.headers) > 0 || h.signer != nil {
		prev := base.Prepare
		base.Prepare = func(r *http.Request) error {
			if prev != nil {
				if err := prev(r); err != nil {
					return err
				}
			}
			return h.prepare(r)
		}
	}
	return base
}

// Shared reports whether the target needs no client of its own: no
// headers, signing, TLS or proxy. A nil h is shared.
func (h *HTTP) Shared() bool {
	return h == nil || (len(h.headers) == 0 && h.signer == nil && h.tls == nil && h.proxy == nil)
}

// PublicKey returns the v1a public key ("whpk_" + base64) receivers
// verify with, or "" when the target does not sign with a key.
func (h *HTTP) PublicKey() string {
	if h == nil {
		return ""
	}
	return h.signer.PublicKey()
}

// prepare sets the headers and the signature on the outgoing request.
func (h *HTTP) prepare(r *http.Request) error {
	h.headers.apply(r.Header)
	if h.signer == nil {
		return nil
	}
	body, err := requestBody(r)
	if err != nil {
		return fmt.Errorf("signing: reading the body: %w", err)
	}
	h.signer.Sign(r.Header, webhookID(r.Header), h.now(), body)
	return nil
}

// webhookID is the webhook-id of a request: its X-Event-Id (the event's
// id, the same on every retry). A combined request (X-Hookd-Batch: n) is
// "<first event's id>+<n>": a retry of the same events has the same id,
// and one that carries more (events that came meanwhile) has another, so
// that a receiver that deduplicates on webhook-id drops no event. A
// request without X-Event-Id (a synchronous WebAPI call) gets a fresh
// UUID.
func webhookID(h http.Header) string {
	id := h.Get("X-Event-Id")
	if id == "" {
		return uuid.NewString()
	}
	if n := h.Get("X-Hookd-Batch"); n != "" {
		return id + "+" + n
	}
	return id
}

// requestBody returns the bytes r will send, leaving r able to send them:
// through GetBody when r has it, else by reading Body and putting the
// bytes back.
func requestBody(r *http.Request) ([]byte, error) {
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		return nil, nil
	case r.GetBody != nil:
		rc, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readAll(rc, r.ContentLength)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, nil
}

// readAll reads rc to its end in one allocation when size (the request's
// ContentLength) is right, as it is for the requests hookd makes; io.ReadAll
// would grow its buffer from 512 bytes.
func readAll(rc io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 64<<20 {
		return io.ReadAll(rc)
	}
	b := make([]byte, size, size+1)
	if n, err := io.ReadFull(rc, b); err == io.ErrUnexpectedEOF || err == io.EOF {
		return b[:n], nil // shorter than said: the transport refuses to send it, with its own error
	} else if err != nil {
		return nil, err
	}
	// Nothing more, unless ContentLength was short: look with the spare byte.
	if n, err := io.ReadFull(rc, b[size:size+1]); n == 0 && err == io.EOF {
		return b, nil
	} else if err != nil {
		return b[:size+int64(n)], err
	}
	rest, err := io.ReadAll(rc)
	return append(b[:size+1], rest...), err
}
