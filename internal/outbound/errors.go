package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// transportError is a failure of Do with a text meant for the delivery log
// and an operator, not for a Go programmer: net/http's own texts repeat the
// method and the URL, and bury the cause at the end ("Post
// \"https://…\": dial tcp 10.0.0.1:443: connect: connection refused").
// The errors it wraps stay reachable through errors.Is and errors.As.
type transportError struct {
	msg  string
	errs []error
}

func (e *transportError) Error() string   { return e.msg }
func (e *transportError) Unwrap() []error { return e.errs }

// describe turns err, which Do got from net/http, into a transportError.
// parent is the caller's context, rctx the one carrying the client's own
// timeout; inBody says the headers had already arrived.
func (c *Client) describe(parent, rctx context.Context, req *http.Request, err error, elapsed time.Duration, inBody bool) error {
	wait := "waiting for the response"
	if inBody {
		wait = "reading the response body"
	}
	elapsed = elapsed.Round(time.Millisecond)

	// Deadlines first: once a context is done, whatever error the transport
	// happened to see (a closed connection, an i/o timeout) is a consequence.
	switch {
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		return &transportError{
			msg:  fmt.Sprintf("timeout after %s %s (the attempt's deadline)", elapsed, wait),
			errs: []error{err, context.DeadlineExceeded},
		}
	case parent.Err() != nil:
		cause := context.Cause(parent)
		return &transportError{
			msg:  fmt.Sprintf("canceled after %s %s: %v", elapsed, wait, cause),
			errs: []error{err, cause},
		}
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return &transportError{
			msg:  fmt.Sprintf("timeout after %s %s", c.timeout, wait),
			errs: []error{err, context.DeadlineExceeded},
		}
	}

	msg := cause(req.URL.Host, err, c.clientCert)
	if inBody {
		msg += " while reading the response body"
	}
	return &transportError{msg: msg, errs: []error{err}}
}

// cause names what went wrong in err, without the "Post \"url\":" prefix.
// addr is the host:port the request was for; clientCert says a client
// certificate is configured, for the texts of a receiver that wants one.
func cause(addr string, err error, clientCert bool) string {
	var (
		own     *transportError
		refused *refusedError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		opErr   *net.OpError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &own):
		return own.msg // already a log text (the proxy tunnel's)
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused (%s)", peer(addr, err))
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("connection reset by the server (%s)", peer(addr, err))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("no route to the server (%s)", peer(addr, err))
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("dns lookup of %s failed: no such host", dnsErr.Name)
		}
		return fmt.Sprintf("dns lookup of %s failed: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &certErr):
		return fmt.Sprintf("tls certificate of %s not accepted: %v", hostOf(addr), certErr.Err)
	case errors.As(err, &recErr):
		return fmt.Sprintf("tls handshake with %s failed: the server does not answer in TLS", addr)
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return tlsAlert(addr, opErr.Err, clientCert)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("connection closed by the server (%s) before the answer was complete", addr)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timeout: %v", unwrapURL(err))
	}
	return unwrapURL(err).Error()
}

// tlsAlert describes a TLS alert the server sent. crypto/tls keeps its alert
// type unexported; its texts ("tls: certificate required") are stable.
// The ones a server sends when it wants a client certificate it did not get,
// or did not like, are named as such: the usual cause is a target's tls
// settings, not the network.
func tlsAlert(addr string, alert error, clientCert bool) string {
	text := strings.TrimPrefix(alert.Error(), "tls: ")
	switch text {
	case "certificate required", "bad certificate":
		if !clientCert {
			return fmt.Sprintf("tls handshake with %s failed: the receiver requires a client certificate and none is configured (alert: %s)", addr, text)
		}
	case "handshake failure":
		if !clientCert {
			return fmt.Sprintf("tls handshake with %s failed (alert: %s): no common TLS parameters, or the receiver requires a client certificate and none is configured", addr, text)
		}
	}
	switch text {
	case "certificate required", "bad certificate", "unknown certificate authority",
		"certificate unknown", "certificate expired", "certificate revoked",
		"unsupported certificate", "access denied", "handshake failure":
		if clientCert {
			return fmt.Sprintf("tls handshake with %s failed: the receiver refused our client certificate (alert: %s)", addr, text)
		}
	}
	return fmt.Sprintf("tls handshake with %s failed: the receiver sent the alert %q", addr, text)
}

// peer returns the address that was dialled, or the URL's host:port when the
// error does not say.
func peer(addr string, err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return addr
}

// hostOf returns the host of addr ("host:port" or a bare host).
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// unwrapURL drops the *url.Error layer, whose text repeats method and URL.
func unwrapURL(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}
