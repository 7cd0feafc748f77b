package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hookrt/hookd/hook"
)

// MaxBatch is the most events one POST /v1/events may carry. A batch is
// committed in one transaction, all or none: larger batches would hold the
// store's one SQLite writer for longer than a request should.
const MaxBatch = 1000

// DefaultMaxBatchBody is the body limit of a batch when
// [Options.MaxBatchBody] is 0: a thousand events of a kilobyte.
const DefaultMaxBatchBody = 1 << 20

// errTooMany is the answer to a batch of more than MaxBatch events
// (answered 413, like a body that is too large).
var errTooMany = hook.InvalidEvent("too many events: at most %d are allowed in one request", MaxBatch)

// ParseEvents decodes the body of POST /v1/events, one event or a batch,
// and reports which it was:
//
//   - application/json: an object is one event (as [ParseEvent] decodes
//     it); an array of such objects is a batch;
//   - application/x-ndjson (or application/jsonl): a batch, one object
//     per line; blank lines are skipped;
//   - application/x-www-form-urlencoded: one event.
//
// A batch has 1 to [MaxBatch] events, each checked by the rules of
// [ParseEvent]; an error names the event ("event 3: …") or the line
// ("line 3: …"), and refuses the whole batch.
//
//	evs, batch, err := api.ParseEvents("application/x-ndjson",
//		[]byte(`{"MODULE":"ISL_CP","EVENT":"USER_CREATE"}`+"\n"+`{"MODULE":"ISL_CP","EVENT":"USER_DELETE"}`))
//	// len(evs) == 2, batch == true
func ParseEvents(contentType string, body []byte) (events []map[string]string, batch bool, err error) {
	mt, err := eventMediaType(contentType)
	if err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false, errEmptyBody
	}
	switch {
	case mt == typeNDJSON:
		events, err = parseNDJSON(body)
		return events, true, err
	case mt == typeJSON && bytes.TrimLeft(body, " \t\r\n")[0] == '[':
		events, err = parseArray(body)
		return events, true, err
	}
	fields, err := ParseEvent(contentType, body)
	if err != nil {
		return nil, false, err
	}
	return []map[string]string{fields}, false, nil
}

// parseArray decodes a JSON array of event objects: the plain body by
// fastArray, any other by decodeArray.
func parseArray(body []byte) ([]map[string]string, error) {
	if events, ok := fastArray(body); ok {
		return events, nil
	}
	return decodeArray(body)
}

// decodeArray decodes a JSON array of event objects with encoding/json.
func decodeArray(body []byte) ([]map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the opening bracket, seen by the caller
		return nil, jsonError(err)
	}
	var events []map[string]string
	for dec.More() {
		n := len(events) + 1
		if n > MaxBatch {
			return nil, errTooMany
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, inEvent(n, jsonError(err))
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return nil, inEvent(n, invalid("must be a JSON object of the event's fields, got %s", jsonKind(tok)))
		}
		fields, err := parseObject(dec, body)
		if err == nil {
			err = hook.CheckFields(fields)
		}
		if err != nil {
			return nil, inEvent(n, err)
		}
		events = append(events, fields)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("invalid JSON: unexpected data after the array")
	}
	if len(events) == 0 {
		return nil, invalid("empty batch: send at least one event")
	}
	return events, nil
}

// parseNDJSON decodes one event object per line.
func parseNDJSON(body []byte) ([]map[string]string, error) {
	var events []map[string]string
	line := 0
	for len(body) > 0 {
		var text []byte
		text, body, _ = bytes.Cut(body, []byte{'\n'})
		line++
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if len(events) == MaxBatch {
			return nil, errTooMany
		}
		fields, err := parseJSON(text)
		if err == nil {
			err = hook.CheckFields(fields)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		events = append(events, fields)
	}
	if len(events) == 0 {
		return nil, invalid("empty batch: send at least one event")
	}
	return events, nil
}

// inEvent names the n-th event of a JSON array in err.
func inEvent(n int, err error) error { return fmt.Errorf("event %d: %w", n, err) }
