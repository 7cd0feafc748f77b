package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
)

// event is one HTTP event, ready to be stored as a row.
type event struct {
	id        string // EVENT_ID, or "sha256:" + hex of raw
	timestamp sql.NullInt64
	module    string
	name      string // EVENT
	serverID  sql.NullString
	domainID  sql.NullString
	sessionID sql.NullString
	raw       string // every field of the event, URL-encoded, sorted by key
}

// maxBatch bounds COUNT, and so the work one request can cause: fields
// without an index belong to every event, so a body of a few bytes could
// otherwise ask for millions of rows. It never refuses a batch of hookd's,
// which combines at most 500 events per request.
const maxBatch = 4096

// columnFields are the fields that have a column of their own. Each may
// appear at most once per event: with two values, which one is the event's
// module, or its id?
var columnFields = []string{"EVENT_ID", "TIMESTAMP", "MODULE", "EVENT", "SERVERID", "DOMAIN_ID", "SESSIONID"}

// parseEvents reads the events of a form: a single event, or a combined
// batch when the form has a COUNT field.
func parseEvents(form url.Values) ([]event, error) {
	if _, combined := form["COUNT"]; !combined {
		ev, err := newEvent(form, "")
		if err != nil {
			return nil, err
		}
		return []event{ev}, nil
	}
	forms, err := splitBatch(form)
	if err != nil {
		return nil, err
	}
	evs := make([]event, len(forms))
	for i, f := range forms {
		if evs[i], err = newEvent(f, "_"+strconv.Itoa(i)); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// splitBatch turns a combined form (MODULE_0, EVENT_0, …, MODULE_1, …,
// COUNT=n) into one form per event, with the index suffixes removed: event
// 1 of a batch gets the same fields, and so the same raw_fields, as if it
// had been sent alone.
//
// A field without an index below n (say SERVERID, or FOO_7 in a batch of
// 3) belongs to every event of the batch; a field of the event's own wins
// over it. COUNT itself is not stored.
func splitBatch(form url.Values) ([]url.Values, error) {
	counts := form["COUNT"]
	if len(counts) != 1 {
		return nil, errors.New("field COUNT is repeated")
	}
	n, err := strconv.Atoi(counts[0])
	if err != nil || n < 1 || n > maxBatch {
		return nil, fmt.Errorf("field COUNT must be a number from 1 to %d, got %q", maxBatch, counts[0])
	}
	own := make([]url.Values, n)
	shared := url.Values{}
	for key, vals := range form {
		if key == "COUNT" {
			continue
		}
		name, i, ok := splitIndex(key, n)
		if !ok {
			shared[key] = vals
			continue
		}
		if own[i] == nil {
			own[i] = url.Values{}
		}
		own[i][name] = vals
	}
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = maps.Clone(shared)
		maps.Copy(forms[i], own[i])
	}
	return forms, nil
}

// splitIndex splits "EVENT_ID_12" into "EVENT_ID" and 12, if 12 < n. The
// index is plain decimal digits without leading zeros.
func splitIndex(key string, n int) (string, int, bool) {
	j := strings.LastIndexByte(key, '_')
	if j <= 0 {
		return "", 0, false
	}
	digits := key[j+1:]
	if digits == "" || len(digits) > 1 && digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return "", 0, false
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i >= n {
		return "", 0, false
	}
	return key[:j], i, true
}

// newEvent makes the row of one event from its fields. suffix ("_1") is
// added to field names in errors, so that they name what the sender sent.
//
// Values are stored verbatim: EVENT "NEW SESSION" stays "NEW SESSION".
// Only MODULE and EVENT are required. An absent SERVERID, DOMAIN_ID or
// SESSIONID is NULL, and so is a TIMESTAMP that is absent or not a
// non-negative integer (raw_fields keeps it as sent). Refusing such an
// event would gain nothing: a strict sender would retry it forever.
func newEvent(f url.Values, suffix string) (event, error) {
	for _, name := range columnFields {
		if len(f[name]) > 1 {
			return event{}, fmt.Errorf("field %s%s is repeated", name, suffix)
		}
	}
	ev := event{
		module:    f.Get("MODULE"),
		name:      f.Get("EVENT"),
		serverID:  optional(f, "SERVERID"),
		domainID:  optional(f, "DOMAIN_ID"),
		sessionID: optional(f, "SESSIONID"),
		raw:       f.Encode(), // sorted by key
	}
	switch {
	case ev.module == "":
		return event{}, fmt.Errorf("field MODULE%s is missing or empty", suffix)
	case ev.name == "":
		return event{}, fmt.Errorf("field EVENT%s is missing or empty", suffix)
	}
	if ts, err := strconv.ParseInt(f.Get("TIMESTAMP"), 10, 64); err == nil && ts >= 0 {
		ev.timestamp = sql.NullInt64{Int64: ts, Valid: true}
	}
	ev.id = f.Get("EVENT_ID")
	if ev.id == "" {
		ev.id = hashID(ev.raw)
	}
	return ev, nil
}

// hashID is the id of an event sent without EVENT_ID (ISL Conference Proxy
// sends none): "sha256:" and the hex SHA-256 of its raw fields. A retry
// carries the same fields, so it gets the same id and is stored once. Two
// events with exactly the same fields (same TIMESTAMP second, same
// SESSIONID, …) are stored once too.
func hashID(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// optional is the field's value, or NULL when the field is absent.
func optional(f url.Values, name string) sql.NullString {
	vals := f[name]
	if len(vals) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: vals[0], Valid: true}
}
