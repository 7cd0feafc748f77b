package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
)

// Limits on an event body; the body size itself is bounded by Options.MaxBody.
const (
	maxFields    = 256 // fields per event
	maxFieldName = 128 // bytes per field name
)

// The two content types an event body may have.
const (
	typeJSON = "application/json"
	typeForm = "application/x-www-form-urlencoded"
)

// eventError is a problem with an event body (answered 400). It matches
// [hook.ErrInvalidEvent] under errors.Is; its text is the bare message.
type eventError struct{ msg string }

func (e *eventError) Error() string        { return e.msg }
func (e *eventError) Is(target error) bool { return target == hook.ErrInvalidEvent }

// errEmptyBody is the answer to a body without content.
var errEmptyBody = &eventError{msg: "empty body: send the event's fields"}

func invalid(format string, args ...any) error {
	return &eventError{msg: fmt.Sprintf(format, args...)}
}

// mediaTypeError is an event body of a type other than JSON or form
// (answered 415).
type mediaTypeError struct{ msg string }

func (e *mediaTypeError) Error() string { return e.msg }

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
//   - At most 256 fields; names are 1–128 bytes of printable ASCII without
//     spaces; values are valid UTF-8 without NUL bytes, kept verbatim
//     ("NEW SESSION" is not rewritten here).
//   - MODULE and EVENT are required and non-empty; TIMESTAMP, if present,
//     is unix seconds as unsigned decimal; EVENT_ID must not be sent.
//   - Errors about the body match [hook.ErrInvalidEvent] under errors.Is,
//     and their text is meant for the caller, e.g.
//     `field "TIMESTAMP": must be a unix time in seconds, got "yesterday"`.
//     An unsupported contentType gives an error that does not.
//   - ParseEvent does not bound len(body); the HTTP handler does.
func ParseEvent(contentType string, body []byte) (map[string]string, error) {
	mt, err := eventMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, errEmptyBody
	}
	var fields map[string]string
	if mt == typeJSON {
		fields, err = parseJSON(body)
	} else {
		fields, err = parseForm(body)
	}
	if err != nil {
		return nil, err
	}
	if err := checkEnvelope(fields); err != nil {
		return nil, err
	}
	return fields, nil
}

// eventMediaType returns typeJSON or typeForm, or a *mediaTypeError.
func eventMediaType(contentType string) (string, error) {
	const allowed = typeJSON + " or " + typeForm
	if contentType == "" {
		return "", &mediaTypeError{"missing Content-Type: use " + allowed}
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != typeJSON && mt != typeForm) {
		return "", &mediaTypeError{fmt.Sprintf("unsupported Content-Type %q: use %s", contentType, allowed)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", &mediaTypeError{fmt.Sprintf("unsupported charset %q: use UTF-8", cs)}
	}
	return mt, nil
}

// addField checks one name/value pair and adds it to fields.
func addField(fields map[string]string, name, value string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if _, dup := fields[name]; dup {
		return invalid("field %q: given more than once", name)
	}
	if len(fields) == maxFields {
		return invalid("too many fields: at most %d are allowed", maxFields)
	}
	if name == hook.FieldEventID {
		return invalid("field %q: must not be sent, hookd assigns it", name)
	}
	if !utf8.ValidString(value) {
		return invalid("field %q: value is not valid UTF-8", name)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return invalid("field %q: value contains a NUL byte", name)
	}
	fields[name] = value
	return nil
}

// checkName checks that name is 1–128 bytes of printable ASCII, no spaces.
func checkName(name string) error {
	switch {
	case name == "":
		return invalid("empty field name")
	case len(name) > maxFieldName:
		return invalid("field name %s is %d bytes long: at most %d are allowed",
			quoteCut(name), len(name), maxFieldName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return invalid("field name %q: only printable ASCII without spaces is allowed", name)
		}
	}
	return nil
}

// checkEnvelope checks the fields every event needs.
func checkEnvelope(fields map[string]string) error {
	for _, name := range []string{hook.FieldModule, hook.FieldEvent} {
		v, ok := fields[name]
		if !ok {
			return invalid("missing required field %q", name)
		}
		if v == "" {
			return invalid("field %q: must not be empty", name)
		}
	}
	if ts, ok := fields[hook.FieldTimestamp]; ok && !isUnixSeconds(ts) {
		return invalid("field %q: must be a unix time in seconds, got %s", hook.FieldTimestamp, quoteCut(ts))
	}
	return nil
}

// isUnixSeconds reports whether s is an unsigned decimal that fits int64.
func isUnixSeconds(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false // ParseInt would accept a sign
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// quoteCut quotes s for an error message, cut to 32 bytes.
func quoteCut(s string) string {
	const max = 32
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}

// handleEmit serves POST /v1/events.
func (s *server) handleEmit(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if _, err := eventMediaType(ct); err != nil {
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body too large: the limit is %d bytes", s.maxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "cannot read request body")
		return
	}
	fields, err := ParseEvent(ct, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := s.b.Emit(r.Context(), fields)
	switch {
	case err == nil:
	case errors.Is(err, hook.ErrInvalidEvent):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, store.ErrUnavailable), r.Context().Err() != nil:
		s.backendError(w, r, err, "")
		return
	default:
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"event_id": id})
}
