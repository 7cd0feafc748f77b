package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBodyBytes bounds a request body. An account/1 call is a few hundred
// bytes.
const maxBodyBytes = 64 << 10

// method is one account/1 method: it gets the request's JSON object (the
// body as sent, or "{}") and decides the answer.
type method func(ctx context.Context, body []byte) reply

// reply is what a method did: the answer for the caller, and what to add
// to the request's log line.
type reply struct {
	answer
	attrs []any // key/value pairs for the log line; never a password
	err   error // logged, never sent
}

// handler serves account/1 calls on any path:
//
//	POST <any path>?method=account/signup/1&he=JSON1&ho=JSON1&hl=en
type handler struct {
	store    *store
	delay    time.Duration
	stopping <-chan struct{} // closed when the service shuts down
	logger   *slog.Logger
	methods  map[string]method
}

func newHandler(st *store, delay time.Duration, stopping <-chan struct{}, logger *slog.Logger) *handler {
	h := &handler{store: st, delay: delay, stopping: stopping, logger: logger}
	h.methods = map[string]method{
		"account/signup/1":          h.signup,
		"account/password/forgot/1": h.forgotPassword,
		// hookd's default name; if the operator changes it, add it here.
		"account/notification/1": h.notification,
	}
	return h
}

// outcome is what one request did, for its log line.
type outcome struct {
	status int    // HTTP status; 0 when the client left before the answer
	text   string // plain-text body of a non-200 answer
	reply         // the JSON1 answer of a 200
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := r.URL.Query()
	o := h.serve(w, r, q)

	// Logged before answering, so that whoever reads the answer can rely on
	// the line being there.
	lang := q.Get("hl")
	if lang == "" {
		lang = q.Get("lang")
	}
	attrs := []any{"http_method", r.Method, "method", q.Get("method"), "lang", lang}
	if o.status != 0 {
		attrs = append(attrs, "status", o.status)
	}
	if o.status == http.StatusOK {
		attrs = append(attrs, "code", o.Result.Code)
		if len(o.Result.Errors) > 0 {
			attrs = append(attrs, "fields", strings.Join(o.Result.Errors, ","))
		}
	}
	attrs = append(attrs, o.attrs...)
	attrs = append(attrs, "duration", time.Since(start).Round(time.Millisecond), "remote", r.RemoteAddr)
	switch {
	case o.err != nil:
		h.logger.ErrorContext(r.Context(), "request", append(attrs, "error", o.err)...)
	case o.status == http.StatusOK && o.Result.Code == codeOK:
		h.logger.InfoContext(r.Context(), "request", attrs...)
	default:
		if o.text != "" {
			attrs = append(attrs, "error", o.text)
		}
		h.logger.WarnContext(r.Context(), "request", attrs...)
	}

	switch o.status {
	case 0: // nobody to answer
	case http.StatusOK:
		body, err := json.Marshal(o.answer)
		if err != nil { // cannot happen: answers are plain data
			panic(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, o.text, o.status)
	default:
		http.Error(w, o.text, o.status)
	}
}

// serve reads the request, waits out -delay and calls the method.
//
// Only the HTTP level answers with another status than 200: 405 for
// another method than POST, 413 for a body over maxBodyBytes. Everything
// about the call itself, errors included, is a JSON1 answer with 200.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, q url.Values) outcome {
	if r.Method != http.MethodPost {
		return outcome{status: http.StatusMethodNotAllowed, text: "method must be POST"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return outcome{status: http.StatusRequestEntityTooLarge, text: fmt.Sprintf("body is larger than %d bytes", maxBodyBytes)}
		}
		return outcome{status: http.StatusBadRequest, text: fmt.Sprintf("cannot read body: %v", err)}
	}

	// The delay comes after the body is read: only then does Go's server
	// watch the connection and cancel r.Context() when the client hangs up.
	if err := h.wait(r.Context()); err != nil {
		if errors.Is(err, errStopping) {
			return outcome{status: http.StatusOK, reply: reply{answer: fail(codeUnavailable, descShuttingDown)}}
		}
		// The caller gave up (hookd's timeout): it will not read an answer,
		// and it has told its user the call failed, so nothing is done.
		return outcome{reply: reply{attrs: []any{"error", fmt.Sprintf("client gave up during the delay (%v); nothing done", err)}}}
	}
	return outcome{status: http.StatusOK, reply: h.call(r.Context(), q, body)}
}

// errStopping is why a wait ended when the service shuts down.
var errStopping = errors.New("service is shutting down")

// wait waits for -delay, or less if the client leaves (ctx is done) or the
// service shuts down.
func (h *handler) wait(ctx context.Context) error {
	if h.delay <= 0 {
		return nil
	}
	t := time.NewTimer(h.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-h.stopping:
		return errStopping
	}
}

// call checks the control fields of the query and runs the method.
//
// he (input encoding) defaults to JSON1 and ho (output encoding) to he;
// only JSON1 is spoken. hl, the language of the descriptions, is logged
// but this example answers in English only.
func (h *handler) call(ctx context.Context, q url.Values, body []byte) reply {
	name := q.Get("method")
	m, known := h.methods[name]
	switch {
	case name == "":
		return reply{answer: fail(codeUnknownMethod, "No method was given.", "method")}
	case !known:
		return reply{answer: fail(codeUnknownMethod, fmt.Sprintf(descNoSuchMethod, name), "method")}
	}
	he := q.Get("he")
	if he != "" && !strings.EqualFold(he, "JSON1") {
		return reply{answer: fail(codeInvalidInput, descEncodingJSON1, "he")}
	}
	if ho := q.Get("ho"); ho != "" && !strings.EqualFold(ho, "JSON1") {
		return reply{answer: fail(codeInvalidInput, descEncodingJSON1, "ho")}
	}
	return m(ctx, body)
}
