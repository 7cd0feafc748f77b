package ops

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Bounds of a delivery-log query, the same in every view.
const (
	// MaxListLimit is the largest page of a list; DefaultListLimit the
	// page when none is asked for.
	MaxListLimit     = 1000
	DefaultListLimit = 100
	// MaxReplayLimit is the largest limit of one bulk replay: enough for
	// a round of a client that replays in rounds to show progress, small
	// enough that one request ends in seconds.
	MaxReplayLimit = 10000
	// MaxNameLen bounds a target name, an EVENT_ID and a session id in a
	// query.
	MaxNameLen = 255
	// maxSinceLen bounds a "since" value before any parsing is tried.
	maxSinceLen = 64
)

// ListParams are the parameters of a delivery-log list; ReplayParams
// those of a bulk replay.
var (
	ListParams   = []string{"state", "target", "event_id", "since", "before", "limit"}
	ReplayParams = []string{"state", "target", "since", "limit", "force"}
)

// Mode says how a view's query is read: an API client gets told about a
// parameter it misspelt (Strict), a browser form carries fields of its
// own (the CSRF token, "back") that are not filters (Lax).
type Mode int

const (
	// Strict refuses unknown and repeated parameters, so that a typo does
	// not silently list everything.
	Strict Mode = iota
	// Lax ignores parameters that are not filters.
	Lax
)

// ParseList reads a delivery-log list query: state, target, event_id,
// since (see [ParseSince]), before (the paging cursor: a delivery id) and
// limit (1 to [MaxListLimit]; 0 in the filter when not given, which the
// store reads as [DefaultListLimit]). An empty state, target or event_id
// selects everything; an empty since, before or limit is refused in
// Strict mode and ignored in Lax mode (a form sends its empty fields).
// The error says what was wrong and what is allowed.
func ParseList(q url.Values, now time.Time, mode Mode) (hook.DeliveryFilter, error) {
	var f hook.DeliveryFilter
	if err := checkParams(q, ListParams, mode); err != nil {
		return f, err
	}
	var err error
	if f.State, err = parseState(get(q, "state")); err != nil {
		return f, err
	}
	if f.Target, err = name(q, "target", "a target name"); err != nil {
		return f, err
	}
	if f.EventID, err = name(q, "event_id", "an EVENT_ID"); err != nil {
		return f, err
	}
	if v, ok := given(q, "since", mode); ok {
		if f.Since, err = ParseSince(v, now); err != nil {
			return f, err
		}
	}
	if v, ok := given(q, "before", mode); ok {
		if f.BeforeID, err = ParseID(v); err != nil {
			return f, fmt.Errorf("before %s: must be a delivery id (a positive integer)", Quote(v))
		}
	}
	if v, ok := given(q, "limit", mode); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return f, fmt.Errorf("limit %s: must be a number from 1 to %d", Quote(v), MaxListLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// ParseReplay reads a bulk replay's query: state (dead, discarded or
// retrying; dead when not given), target, since, limit (1 to
// [MaxReplayLimit]; 0, every match, when not given) and force (true
// replays into a disabled or paused target too).
func ParseReplay(q url.Values, now time.Time, mode Mode) (f hook.DeliveryFilter, force bool, err error) {
	if err := checkParams(q, ReplayParams, mode); err != nil {
		return f, false, err
	}
	f.State = hook.StateDead
	if v := get(q, "state"); v != "" {
		f.State = hook.DeliveryState(v)
		if !Replayable(f.State) {
			return f, false, fmt.Errorf("state %s: a replay takes dead, discarded or retrying deliveries (dead when left out)", Quote(v))
		}
	}
	if f.Target, err = name(q, "target", "a target name"); err != nil {
		return f, false, err
	}
	if v, ok := given(q, "since", mode); ok {
		if f.Since, err = ParseSince(v, now); err != nil {
			return f, false, err
		}
	}
	if v, ok := given(q, "limit", mode); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxReplayLimit {
			return f, false, fmt.Errorf("limit %s: must be a number from 1 to %d (leave it out to replay every match)", Quote(v), MaxReplayLimit)
		}
		f.Limit = n
	}
	force, err = ParseForce(get(q, "force"))
	return f, force, err
}

// Replayable reports whether a bulk replay takes deliveries in state st.
func Replayable(st hook.DeliveryState) bool {
	return st == hook.StateDead || st == hook.StateDiscarded || st == hook.StateRetrying
}

// ParseForce reads a force parameter: "" is false; otherwise true or
// false as strconv.ParseBool reads them ("1" too, as a form posts it).
func ParseForce(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	force, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("force %s: must be true or false", Quote(v))
	}
	return force, nil
}

// sinceLayouts are the times "since" accepts besides RFC 3339: what a
// datetime-local input sends, and shorter forms, all in UTC.
var sinceLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// ParseSince reads a "since": a duration back from now ("90m", "24h"), an
// RFC 3339 time, or a date and time in UTC ("2026-11-29 10:00", what a
// browser's datetime-local field sends).
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) <= maxSinceLen {
		if d, err := time.ParseDuration(s); err == nil && d >= 0 {
			return now.Add(-d), nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		for _, layout := range sinceLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("since %s: must be a duration back from now (90m, 24h), "+
		"an RFC 3339 time (2026-11-29T10:00:00Z) or a UTC date and time (2026-11-29 10:00)", Quote(s))
}

// ParseID parses a delivery id: a positive decimal integer.
func ParseID(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, strconv.ErrSyntax
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err == nil && id < 1 {
		err = strconv.ErrRange
	}
	return id, err
}

// StateNames lists the delivery states, for messages and usage texts.
func StateNames() string {
	names := make([]string, len(hook.DeliveryStates))
	for i, st := range hook.DeliveryStates {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// Quote quotes s for an error message, cut to 32 bytes: the message names
// the value without echoing a whole body back.
func Quote(s string) string {
	if len(s) <= 32 {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:32]) + "..."
}

// parseState reads a state filter ("" selects every state).
func parseState(v string) (hook.DeliveryState, error) {
	st := hook.DeliveryState(v)
	if v != "" && !st.Valid() {
		return "", fmt.Errorf("state %s is not one of %s", Quote(v), StateNames())
	}
	return st, nil
}

// name reads a bounded name parameter.
func name(q url.Values, key, what string) (string, error) {
	v := get(q, key)
	if len(v) > MaxNameLen {
		return "", fmt.Errorf("%s is %d bytes long; %s is at most %d", key, len(v), what, MaxNameLen)
	}
	return v, nil
}

// given returns the value of a parameter that must be parsed when given:
// in Strict mode, given at all (an empty one is refused as what it is);
// in Lax mode, given not empty (a form sends its empty fields).
func given(q url.Values, key string, mode Mode) (string, bool) {
	if mode == Strict {
		return q.Get(key), q.Has(key)
	}
	v := get(q, key)
	return v, v != ""
}

// get is q's value of key without surrounding spaces.
func get(q url.Values, key string) string { return strings.TrimSpace(q.Get(key)) }

// checkParams refuses, in Strict mode, parameters not in allowed and
// repeated ones.
func checkParams(q url.Values, allowed []string, mode Mode) error {
	if mode != Strict {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, name) {
			return fmt.Errorf("unknown query parameter %s: use %s", Quote(name), strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return fmt.Errorf("query parameter %s given more than once", Quote(name))
		}
	}
	return nil
}
