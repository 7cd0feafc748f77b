// Package outbound is the one HTTP client every delivery uses: the JWT
// webhook, HTTP events, the external WebAPI and plugin HTTP calls all go
// through [Client.Do], so that timeouts, body limits, redirects and the SSRF
// guard are decided once, here, and not re-decided (differently) by each
// caller.
//
//	c := outbound.New(outbound.Options{UserAgent: env.UserAgent})
//	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
//	req.Header.Set("Content-Type", "application/json")
//	res, err := outbound.Classify(c.Do(ctx, req))
//
// # Timeouts
//
// [Options.Timeout] is one deadline over the whole attempt: connecting, the
// TLS handshake, waiting for the headers and reading the body. A receiver
// that sends its headers at once and then trickles the body must not hold a
// delivery worker for longer than a receiver that never answers.
//
// # Bodies
//
// At most [Options.MaxBody] bytes of an answer are kept (by default
// [hook.MaxReplyExcerpt], what the delivery log stores). Anything longer is
// cut and marked [Response.Truncated]; a short remainder is drained so the
// keep-alive connection can be reused, a long one closes the connection.
//
// # Redirects
//
// Redirects are never followed. A delivery is made to the URL that was
// configured; following a 3xx would let a receiver send it (signed) to
// somewhere else, including to an internal address the guard checked only
// for the first hop. [Classify] reports a 3xx as a failure naming the
// Location, so the operator can fix the URL.
//
// # SSRF guard
//
// URLs set by domain owners (per-domain event targets, plugin HTTP) must not
// reach the operator's internal network. A [Guard] checks the IP address
// actually dialled, after DNS resolution, from inside [net.Dialer]: a name
// that resolves to a public address when the URL is saved and to 127.0.0.1
// when it is used (DNS rebinding) is still refused. The transport never uses
// a proxy from the environment, since a proxy would dial on our behalf and
// bypass the guard. The operator's own global events server is trusted as
// configured and uses a client without a guard.
//
// # Mutual TLS and a target's own headers
//
// [Options.TLS] carries a target's client certificate and the CA of its
// receiver. A receiver that refuses the handshake for want of a client
// certificate is named as such in the delivery log ("the receiver requires
// a client certificate and none is configured"; "the receiver refused our
// client certificate"), not as a bare TLS alert. [Options.Prepare] is the
// one hook where a target's static headers and its signature are added,
// on Do's copy of the request, right before it is sent.
//
// # Egress proxy
//
// [Options.Proxy] sends every request through an HTTP or HTTPS proxy as a
// CONNECT tunnel, for plain http destinations too (net/http would send
// those to the proxy in absolute form): the receiver gets the same request
// as without the proxy, and there is one place where the destination is
// judged. The proxy URL's user:password, if any, is sent as Basic
// Proxy-Authorization. An https proxy's certificate is checked against the
// system roots (SSL_CERT_FILE adds a private CA). A proxy that refuses the
// tunnel is reported with its status ("proxy 10.0.0.5:3128 refused CONNECT
// to receiver.example:443: 407 Proxy Authentication Required") and a
// [*ProxyError] is wrapped.
//
// With a [Guard], the destination is resolved by hookd and every address
// must pass the Guard before the CONNECT is sent; a name hookd cannot
// resolve is not sent. The proxy then resolves the name again itself: a
// name that answers differently in between (DNS rebinding) is not caught
// by hookd, so a proxy used for domain-owned URLs should apply its own
// egress rules too. The CONNECT names the host, not the address hookd
// checked, so that a proxy's rules by host name keep working. The proxy's
// own address is dialled through the Guard like any other: a proxy on a
// private network must be allowed explicitly (allow_private).
//
// # Success and failure
//
// [Classify] turns a [Response] into the [hook.Result] and error a
// [hook.Handler] returns, under the "any 2xx is success" rule: 410 disables
// the target ([hook.Disable]), 429 and 503 honour Retry-After
// ([hook.RetryAfter]), everything else is an ordinary, retried failure whose
// text names the status and the start of the answer.
package outbound
