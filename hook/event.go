package hook

import (
	"errors"
	"strconv"
	"time"
)

// Names of the envelope fields that every event carries, kept verbatim from
// ISL Conference Proxy's HTTP events. Field names are case-sensitive.
const (
	FieldEventID   = "EVENT_ID"
	FieldTimestamp = "TIMESTAMP"
	FieldModule    = "MODULE"
	FieldEvent     = "EVENT"
	FieldServerID  = "SERVERID"
	FieldDomainID  = "DOMAIN_ID"
	FieldSessionID = "SESSIONID"
)

// Modules and account events that hookd itself gives a meaning to. Any other
// module or event name passes through untouched.
const (
	ModuleCP = "ISL_CP" // account lifecycle events of the proxy

	EventUserCreate   = "USER_CREATE"
	EventUserDelete   = "USER_DELETE"
	EventUserUndelete = "USER_UNDELETE"
	EventDomainDelete = "DOMAIN_DELETE"
	EventNewSession   = "NEWSESSION"
)

// Event is one thing that happened in the proxy: the flat set of string fields
// of an ISL HTTP event, plus the EVENT_ID the runtime assigns.
//
// An Event handed to a [Handler] belongs to the runtime: handlers read it and
// must not modify it or keep it after Handle returns.
type Event struct {
	// ID is the runtime-assigned EVENT_ID. It is the same on every attempt,
	// so receivers can deduplicate on it. It is also present in Fields.
	ID string
	// Fields are the event's fields, names case-preserved.
	Fields map[string]string
	// Created is when the runtime committed the event.
	Created time.Time
}

// Get returns the named field, or "" if the event does not carry it.
func (e *Event) Get(name string) string { return e.Fields[name] }

// Module returns the MODULE field (e.g. ISL_LIGHT, ISL_CP).
func (e *Event) Module() string { return e.Fields[FieldModule] }

// Name returns the EVENT field in its canonical spelling (e.g.
// NEWSESSION, USER_CREATE): what routing, filters and counters compare,
// so that "NEW SESSION" and "NEWSESSION" are one event to them. The
// field itself keeps the spelling the proxy sent: read
// Get(FieldEvent) for that, as scripts and plugins see it.
func (e *Event) Name() string { return CanonicalEventName(e.Fields[FieldEvent]) }

// DomainID returns the DOMAIN_ID field.
func (e *Event) DomainID() string { return e.Fields[FieldDomainID] }

// ServerID returns the SERVERID field.
func (e *Event) ServerID() string { return e.Fields[FieldServerID] }

// SessionID returns the SESSIONID field, if any.
func (e *Event) SessionID() string { return e.Fields[FieldSessionID] }

// Timestamp returns TIMESTAMP as a time, and false when the field is missing
// or is not a unix time in seconds.
func (e *Event) Timestamp() (time.Time, bool) {
	n, err := strconv.ParseInt(e.Fields[FieldTimestamp], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// CanonicalEventName maps the alias spellings the proxy is known to use onto
// the canonical name: "NEW SESSION" is read as "NEWSESSION". It is for
// comparing names (routing, filters, metrics labels); stored fields are
// never rewritten with it.
func CanonicalEventName(name string) string {
	if name == "NEW SESSION" {
		return EventNewSession
	}
	return name
}

// ErrInvalidEvent is wrapped by errors about an event that cannot be accepted
// (a required field missing, a field too long); the text says what is wrong.
var ErrInvalidEvent = errors.New("invalid event")
