package hook

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of one event. Everything from outside is size-bound; an event is
// a handful of short fields.
const (
	// MaxEventFields is the most fields an event may have, EVENT_ID and
	// the fields hookd fills in included.
	MaxEventFields = 256
	// MaxFieldName is the longest field name, in bytes.
	MaxFieldName = 128
	// MaxEventBytes bounds the names and values of a stored event, EVENT_ID
	// and the fields hookd fills in (TIMESTAMP, SERVERID) included. The
	// WASM ABI promises plugins the same bound (hostapi.MaxEvent).
	MaxEventBytes = 64 << 10
)

// invalidEvent is a problem with an event's fields. It matches
// [ErrInvalidEvent] under errors.Is; its text is the bare message, meant
// for the caller who sent the event.
type invalidEvent struct{ msg string }

func (e *invalidEvent) Error() string        { return e.msg }
func (e *invalidEvent) Is(target error) bool { return target == ErrInvalidEvent }

// InvalidEvent returns an error about an event's fields that matches
// [ErrInvalidEvent]; parsers of event bodies use it for their own
// problems (bad JSON, a field given twice), so that every refusal of an
// event is recognised the same way.
func InvalidEvent(format string, args ...any) error {
	return &invalidEvent{msg: fmt.Sprintf(format, args...)}
}

// CheckFieldName reports what is wrong with a field name: it must be 1 to
// [MaxFieldName] bytes of printable ASCII without spaces.
func CheckFieldName(name string) error {
	switch {
	case name == "":
		return InvalidEvent("empty field name")
	case len(name) > MaxFieldName:
		return InvalidEvent("field name %s is %d bytes long: at most %d are allowed", quoteCut(name), len(name), MaxFieldName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return InvalidEvent("field name %q: only printable ASCII without spaces is allowed", name)
		}
	}
	return nil
}

// CheckFieldValue reports what is wrong with the value of field name: it
// must be valid UTF-8 without NUL bytes (both stores keep it as text).
func CheckFieldValue(name, value string) error {
	if !utf8.ValidString(value) {
		return InvalidEvent("field %q: value is not valid UTF-8", name)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return InvalidEvent("field %q: value contains a NUL byte", name)
	}
	return nil
}

// CheckFields checks an event's fields as the proxy sends them: at most
// [MaxEventFields], names and values as [CheckFieldName] and
// [CheckFieldValue] want them, MODULE and EVENT present and not empty,
// TIMESTAMP (when present) a unix time in seconds, and no EVENT_ID, which
// hookd assigns. The first problem is reported, in name order.
func CheckFields(fields map[string]string) error {
	if len(fields) > MaxEventFields {
		return InvalidEvent("too many fields: at most %d are allowed", MaxEventFields)
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if err := CheckFieldName(name); err != nil {
			return err
		}
		if err := CheckFieldValue(name, fields[name]); err != nil {
			return err
		}
	}
	if _, ok := fields[FieldEventID]; ok {
		return InvalidEvent("field %q: must not be sent, hookd assigns it", FieldEventID)
	}
	for _, name := range []string{FieldModule, FieldEvent} {
		v, ok := fields[name]
		if !ok {
			return InvalidEvent("missing required field %q", name)
		}
		if v == "" {
			return InvalidEvent("field %q: must not be empty", name)
		}
	}
	if ts, ok := fields[FieldTimestamp]; ok && ts != "" && !isUnixSeconds(ts) {
		return InvalidEvent("field %q: must be a unix time in seconds, got %s", FieldTimestamp, quoteCut(ts))
	}
	return nil
}

// NewEvent checks fields with [CheckFields] and returns the event hookd
// stores: a copy of fields, every value as received, with TIMESTAMP and
// SERVERID filled in when missing or empty (from now and serverID), and a
// new EVENT_ID, a UUIDv7, so that IDs sort by time. The whole event must
// fit in [MaxEventBytes] and [MaxEventFields].
//
// EVENT is kept as sent: scripts written for ISL Conference Proxy must
// see what the proxy sends, and the proxy's own pages spell the same
// event "NEW SESSION" and "NEWSESSION". Routing treats the spellings as
// one event through [Event.Name] ([CanonicalEventName]); the fields
// handed to scripts, plugins, JWT data claims and session records are
// the ones received.
//
//	ev, err := hook.NewEvent(map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE"}, time.Now(), "node-1")
//	// ev.ID == ev.Fields["EVENT_ID"]
//
// # Notes
//
//   - Errors match [ErrInvalidEvent]; their text says what is wrong.
//   - fields is not modified or kept.
func NewEvent(fields map[string]string, now time.Time, serverID string) (*Event, error) {
	if err := CheckFields(fields); err != nil {
		return nil, err
	}
	f := make(map[string]string, len(fields)+3)
	maps.Copy(f, fields)
	if f[FieldTimestamp] == "" {
		f[FieldTimestamp] = strconv.FormatInt(now.Unix(), 10)
	}
	if f[FieldServerID] == "" {
		f[FieldServerID] = serverID
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("event id: %w", err)
	}
	f[FieldEventID] = id.String()
	if len(f) > MaxEventFields {
		return nil, InvalidEvent("too many fields: %d with the ones hookd adds (%s, %s, %s); at most %d are allowed",
			len(f), FieldEventID, FieldTimestamp, FieldServerID, MaxEventFields)
	}
	if n := EventSize(f); n > MaxEventBytes {
		return nil, InvalidEvent("fields total %d bytes with the ones hookd adds; at most %d (64 KiB) are allowed", n, MaxEventBytes)
	}
	return &Event{ID: f[FieldEventID], Fields: f, Created: now}, nil
}

// EventSize is the number of bytes of fields' names and values: what
// [MaxEventBytes] bounds.
func EventSize(fields map[string]string) int {
	n := 0
	for k, v := range fields {
		n += len(k) + len(v)
	}
	return n
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
