package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// maxBodyBytes bounds a request body: 1 MiB, about five times the largest
// form hookd can send.
//
// hookd admits an event of up to 64 KiB of names and values and 256
// fields. In the form every byte of a name or value can become three
// ("%C3%A9" for "é", "%01"), and every field adds "=" and "&", plus "_0"
// after its name in a combined request of one event and "&COUNT=1" at the
// end: at most 3*65536 + 4*256 + 7 = 197,639 bytes (193 KiB). A combined
// request of several events packs at most 48 KiB of raw fields, so at most
// about 3*48 KiB = 144 KiB. A smaller limit would answer 413 to an event
// hookd accepted, and a strict sender retries that until it gives up.
const maxBodyBytes = 1 << 20

// ack is the answer that tells the sender the event is handled and no
// XMLMSG command is wanted. In strict mode the answer must be valid XML.
const ack = "<nomessage/>"

// handler receives HTTP events at one path and stores them.
type handler struct {
	path   string
	store  *store
	logger *slog.Logger
}

func newHandler(path string, st *store, logger *slog.Logger) *handler {
	return &handler{path: path, store: st, logger: logger}
}

// outcome is what one request did, for its log line.
type outcome struct {
	status     int
	events     int
	stored     int
	duplicates int
	err        error
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := h.serve(w, r)
	// Logged before answering, so that whoever reads the answer can rely on
	// the line being there.
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", o.status,
		"events", o.events, "stored", o.stored, "duplicates", o.duplicates, "remote", r.RemoteAddr}
	switch {
	case o.status == http.StatusOK:
		h.logger.InfoContext(r.Context(), "request", attrs...)
	case o.status >= 500:
		h.logger.ErrorContext(r.Context(), "request", append(attrs, "error", o.err)...)
	default:
		h.logger.WarnContext(r.Context(), "request", append(attrs, "error", o.err)...)
	}

	switch o.status {
	case http.StatusOK:
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, ack)
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, o.err.Error(), o.status)
	case http.StatusInternalServerError:
		// The details are in the log; the sender only needs to retry.
		http.Error(w, "cannot store the events; try again later", o.status)
	default:
		http.Error(w, o.err.Error(), o.status)
	}
}

// serve checks, parses and stores the request's events.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) outcome {
	if r.URL.Path != h.path {
		return outcome{status: http.StatusNotFound, err: fmt.Errorf("no events are received at %s; the path is %s", r.URL.Path, h.path)}
	}
	if r.Method != http.MethodPost {
		return outcome{status: http.StatusMethodNotAllowed, err: errors.New("method must be POST")}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return outcome{status: http.StatusUnsupportedMediaType, err: errors.New("content type must be application/x-www-form-urlencoded")}
	}
	// Read here rather than with r.ParseForm, which would also take fields
	// from the URL's query string.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return outcome{status: http.StatusRequestEntityTooLarge, err: fmt.Errorf("body is larger than %d bytes", maxBodyBytes)}
		}
		return outcome{status: http.StatusBadRequest, err: fmt.Errorf("cannot read body: %w", err)}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return outcome{status: http.StatusBadRequest, err: fmt.Errorf("body is not URL-encoded form data: %w", err)}
	}
	evs, err := parseEvents(form)
	if err != nil {
		return outcome{status: http.StatusBadRequest, err: err}
	}
	stored, dups, err := h.store.insert(r.Context(), evs, time.Now().Unix())
	if err != nil {
		return outcome{status: http.StatusInternalServerError, events: len(evs), err: err}
	}
	return outcome{status: http.StatusOK, events: len(evs), stored: stored, duplicates: dups}
}
