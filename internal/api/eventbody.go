package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// parseJSON decodes a flat JSON object of string (or number) fields: the
// plain body by fastObject, any other by decodeJSON.
func parseJSON(body []byte) (map[string]string, error) {
	if fields, ok := fastObject(body); ok {
		return fields, nil
	}
	return decodeJSON(body)
}

// decodeJSON decodes a flat JSON object of string (or number) fields with
// encoding/json. It streams tokens, so that duplicate names, nested values
// and trailing data are seen rather than silently merged, skipped or
// ignored.
func decodeJSON(body []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF { // only white space
		return nil, errEmptyBody
	}
	if err != nil {
		return nil, jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid("body must be a JSON object of the event's fields, got %s", jsonKind(tok))
	}
	fields, err := parseObject(dec, body)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("invalid JSON: unexpected data after the object")
	}
	return fields, nil
}

// parseObject reads the fields of a JSON object whose opening brace dec
// has just read, up to and including its closing brace. body is what dec
// reads, for the check of the raw bytes of each value.
func parseObject(dec *json.Decoder, body []byte) (map[string]string, error) {
	fields := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		name, ok := tok.(string)
		if !ok { // Token only returns strings in key position; be safe anyway
			return nil, invalid("invalid JSON at byte %d: expected a field name", dec.InputOffset())
		}
		if err := hook.CheckFieldName(name); err != nil {
			return nil, err
		}
		start := dec.InputOffset()
		if tok, err = dec.Token(); err != nil {
			return nil, jsonError(err)
		}
		var value string
		switch v := tok.(type) {
		case string:
			value = v
		case json.Number:
			value = v.String()
		default:
			return nil, invalid("field %q: must be a string or a number, got %s", name, jsonKind(tok))
		}
		// encoding/json replaces invalid UTF-8 with U+FFFD; look at the raw
		// bytes (the separators before the value are ASCII) to refuse it.
		if !utf8.Valid(body[start:dec.InputOffset()]) {
			return nil, invalid("field %q: value is not valid UTF-8", name)
		}
		if err := addField(fields, name, value); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonError(err)
	}
	return fields, nil
}

// jsonKind names the kind of JSON value that tok starts.
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an unknown value"
}

// jsonError turns a decoding error into an event error.
func jsonError(err error) error {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		return invalid("invalid JSON at byte %d: %s", syn.Offset, syn.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("invalid JSON: the body ends before the object does")
	}
	return invalid("invalid JSON: %v", err)
}

// parseForm decodes an application/x-www-form-urlencoded body, in order, so
// that the first bad or repeated field is the one reported.
func parseForm(body []byte) (map[string]string, error) {
	fields := map[string]string{}
	for pair := range strings.SplitSeq(string(body), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, invalid("invalid form encoding: %v", err)
		}
		if err := hook.CheckFieldName(name); err != nil {
			return nil, err
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, invalid("field %q: invalid form encoding: %v", name, err)
		}
		if err := addField(fields, name, value); err != nil {
			return nil, err
		}
	}
	return fields, nil
}
