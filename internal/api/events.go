package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/hookrt/hookd/hook"
)

// The content types an event body may have: one event as JSON or a form;
// a batch as a JSON array or as NDJSON (application/jsonl is its other name).
const (
	typeJSON   = "application/json"
	typeForm   = "application/x-www-form-urlencoded"
	typeNDJSON = "application/x-ndjson"
	typeJSONL  = "application/jsonl"
)

// errEmptyBody is the answer to a body without content.
var errEmptyBody = hook.InvalidEvent("empty body: send the event's fields")

// invalid is a problem with an event body (answered 400).
var invalid = hook.InvalidEvent

// mediaTypeError is an event body of a type other than JSON or form
// (answered 415).
type mediaTypeError struct{ msg string }

func (e *mediaTypeError) Error() string { return e.msg }

// isMediaTypeError reports whether err is about the body's media type
// rather than its content.
func isMediaTypeError(err error) bool {
	_, ok := errors.AsType[*mediaTypeError](err)
	return ok
}

// ParseEvent decodes and checks the body of POST /v1/events: the event's
// fields, as a flat JSON object (contentType application/json) or as an
// HTML form (application/x-www-form-urlencoded, as ISL's proxy posts HTTP
// events).
//
//	fields, err := api.ParseEvent("application/x-www-form-urlencoded",
//		[]byte("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&TIMESTAMP=1700000000"))
//	// fields["EVENT"] == "NEW SESSION"
//
// # Notes
//
//   - JSON values must be strings; numbers are accepted and kept as their
//     literal text. Booleans, null, arrays and objects are refused, and so
//     are duplicate names, data after the object and a top level that is
//     not an object. A form field given twice is refused too.
//   - The fields must pass [hook.CheckFields], the one event rule: at most
//     256 fields; names 1–128 bytes of printable ASCII without spaces;
//     values valid UTF-8 without NUL bytes, kept verbatim ("NEW SESSION"
//     is not rewritten here); MODULE and EVENT present and not empty;
//     TIMESTAMP, if set, unix seconds; no EVENT_ID.
//   - Errors about the body match [hook.ErrInvalidEvent] under errors.Is,
//     and their text is meant for the caller, e.g.
//     `field "TIMESTAMP": must be a unix time in seconds, got "yesterday"`.
//     An unsupported contentType gives an error that does not, and so does
//     a body that contradicts it (JSON sent as a form, a form sent as
//     JSON): `body looks like JSON but Content-Type is
//     application/x-www-form-urlencoded; send Content-Type: application/json`.
//     The HTTP handler answers both with 415.
//   - ParseEvent does not bound len(body); the HTTP handler does.
func ParseEvent(contentType string, body []byte) (map[string]string, error) {
	fields, err := ParseFields(contentType, body)
	if err != nil {
		return nil, err
	}
	if err := hook.CheckFields(fields); err != nil {
		return nil, err
	}
	return fields, nil
}

// ParseFields decodes an event body as [ParseEvent] does, checking each
// field's name and value but not the envelope (MODULE, EVENT, TIMESTAMP,
// no EVENT_ID): for `hookd plugin run`, whose event files may carry the
// EVENT_ID of the delivery they reproduce.
func ParseFields(contentType string, body []byte) (map[string]string, error) {
	mt, err := eventMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if mt == typeNDJSON {
		return nil, &mediaTypeError{fmt.Sprintf("Content-Type %q is for a batch; one event is %s or %s", contentType, typeJSON, typeForm)}
	}
	if len(body) == 0 {
		return nil, errEmptyBody
	}
	if mt == typeJSON {
		fields, err := parseJSON(body)
		if err != nil && looksLikeForm(body) {
			return nil, errFormAsJSON
		}
		return fields, err
	}
	if looksLikeJSON(body) {
		return nil, errJSONAsForm
	}
	return parseForm(body)
}

// A body whose Content-Type contradicts it is answered 415 with what to
// send instead: curl's -d sends application/x-www-form-urlencoded unless
// told otherwise, and a JSON body parsed as a form would otherwise be
// refused for a "missing" MODULE that is plainly there.
var (
	errJSONAsForm = &mediaTypeError{"body looks like JSON but Content-Type is " + typeForm + "; send Content-Type: " + typeJSON}
	errFormAsJSON = &mediaTypeError{"body looks like a form (NAME=value&...) but Content-Type is " + typeJSON + "; send Content-Type: " + typeForm}
)

// looksLikeJSON reports whether a body sent as a form is a JSON object or
// array: its first byte other than white space is '{' or '['. No event
// field name the proxy sends starts with either, so a form that does is
// refused with the hint rather than parsed into a nonsense field.
func looksLikeJSON(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// looksLikeForm reports whether a body sent as JSON, and refused as JSON,
// is a form: it starts with a field name of letters, digits or '_'
// followed by '='.
func looksLikeForm(body []byte) bool {
	name, _, ok := bytes.Cut(body, []byte{'='})
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// eventMediaType returns typeJSON, typeForm or typeNDJSON, or a
// *mediaTypeError.
func eventMediaType(contentType string) (string, error) {
	const allowed = typeJSON + ", " + typeForm + " or " + typeNDJSON
	switch contentType {
	case "":
		return "", &mediaTypeError{"missing Content-Type: use " + allowed}
	case typeJSON, typeForm, typeNDJSON:
		// What mime.ParseMediaType would return, without its parameter
		// map: the handler looks at the type three times per request.
		return contentType, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if mt == typeJSONL {
		mt = typeNDJSON
	}
	if err != nil || (mt != typeJSON && mt != typeForm && mt != typeNDJSON) {
		return "", &mediaTypeError{fmt.Sprintf("unsupported Content-Type %q: use %s", contentType, allowed)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", &mediaTypeError{fmt.Sprintf("unsupported charset %q: use UTF-8", cs)}
	}
	return mt, nil
}

// addField checks one name/value pair, in the order of the body, and adds
// it to fields.
func addField(fields map[string]string, name, value string) error {
	if err := hook.CheckFieldName(name); err != nil {
		return err
	}
	if _, dup := fields[name]; dup {
		return invalid("field %q: given more than once", name)
	}
	if len(fields) == hook.MaxEventFields {
		return invalid("too many fields: at most %d are allowed", hook.MaxEventFields)
	}
	if err := hook.CheckFieldValue(name, value); err != nil {
		return err
	}
	fields[name] = value
	return nil
}

// handleEmit serves POST /v1/events: one event, or a batch committed all
// or none (see ParseEvents).
func (s *server) handleEmit(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	mt, err := eventMediaType(ct)
	if err != nil {
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	limit := s.maxBody
	if mt != typeForm { // a JSON body may be an array
		limit = max(s.maxBody, s.maxBatchBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.tooLarge(w, limit, mt != typeForm)
			return
		}
		writeError(w, http.StatusBadRequest, "cannot read request body")
		return
	}
	events, batch, err := ParseEvents(ct, body)
	switch {
	case errors.Is(err, errTooMany):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	case isMediaTypeError(err):
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case !batch && int64(len(body)) > s.maxBody:
		s.tooLarge(w, s.maxBody, false)
		return
	}
	ids, repeated, err := s.b.EmitManyWithKey(r.Context(), r.Header.Get("Idempotency-Key"), events)
	switch {
	case err == nil:
	case errors.Is(err, hook.ErrInvalidEvent):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, hook.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
		return
	case errors.Is(err, hook.ErrClosed):
		// An embedding program closed its runtime under a live API: the
		// event was not taken, and saying so beats a bare 500.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, errStopping)
		return
	case errors.Is(err, hook.ErrUnavailable), r.Context().Err() != nil:
		s.backendError(w, r, err, "")
		return
	default:
		s.internalError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if repeated {
		// The events were committed by an earlier request with this key.
		status = http.StatusOK
	}
	answer := emitAnswer{Repeated: repeated}
	if batch {
		answer.EventIDs = ids
	} else {
		answer.EventID = ids[0]
	}
	writeJSON(w, status, &answer)
}

// emitAnswer is the answer to POST /v1/events: event_id for one event,
// event_ids for a batch, and repeated when an earlier request with the
// same Idempotency-Key committed them. A struct rather than a map: it
// encodes to the same bytes without the map and its boxed values.
type emitAnswer struct {
	EventID  string   `json:"event_id,omitempty"`
	EventIDs []string `json:"event_ids,omitempty"`
	Repeated bool     `json:"repeated,omitempty"`
}

// errStopping is the answer to an event sent to a runtime that was closed.
const errStopping = "hookd is stopping and takes no events: send the event to another node, or again once it has restarted"

// tooLarge answers 413 for a body over limit. A JSON or NDJSON body may
// be a batch, whose limit is higher: the answer names both.
func (s *server) tooLarge(w http.ResponseWriter, limit int64, mayBeBatch bool) {
	msg := fmt.Sprintf("request body too large: the limit is %d bytes", limit)
	if mayBeBatch && limit != s.maxBody {
		msg = fmt.Sprintf("request body too large: the limit is %d bytes for a batch, %d for one event", limit, s.maxBody)
	}
	writeError(w, http.StatusRequestEntityTooLarge, msg)
}
