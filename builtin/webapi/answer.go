package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Answer is an account/1 service's answer: the result of a JSON1 answer,
//
//	{"result": {"code": "ok", "description": "…", "errors": ["email"]}, "data": {…}}
//
// or of the older envelope,
//
//	{"method": "account/signup/1", "response": {"result": {…}, "data": {…}}}
type Answer struct {
	// Code is result.code as written: a JSON string's value, or a JSON
	// number's text ("0", not 0.0 rewritten).
	Code string
	// Description is result.description, the service's text for the user.
	Description string
	// Errors are the names of the input fields that failed (result.errors).
	Errors []string
	// Data is the answer's data, nil when absent or null.
	Data json.RawMessage
}

// OK reports whether the answer's code is successCode.
func (a *Answer) OK(successCode string) bool { return a.Code == successCode }

// envelope is both answer shapes at once.
type envelope struct {
	Result   json.RawMessage `json:"result"`
	Data     json.RawMessage `json:"data"`
	Response json.RawMessage `json:"response"`
}

// result is the result object; its members are checked one by one so that
// errors say which is wrong.
type result struct {
	Code        json.RawMessage `json:"code"`
	Description json.RawMessage `json:"description"`
	Errors      json.RawMessage `json:"errors"`
}

// ParseAnswer parses an account/1 answer body.
//
// # Notes
//
//   - The body must be one JSON object with a result object (at the top,
//     or inside response); otherwise the error is "answer has no result".
//   - result.code must be a string or a number; description, when
//     present, a string; errors, when present, an array of strings.
//     Other members of result (hs, args, …) are ignored.
//   - A top-level result wins over response.result.
//   - A UTF-8 byte order mark before the object is ignored.
func ParseAnswer(body []byte) (*Answer, error) {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\ufeff"))) // a BOM, as some .NET services send
	if len(body) == 0 {
		return nil, errors.New("answer is empty")
	}
	if body[0] != '{' {
		return nil, fmt.Errorf("answer is not a JSON object (it starts with %q)", firstRune(body))
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("answer is not valid JSON: %w", err)
	}
	if isNull(env.Result) && !isNull(env.Response) {
		var inner envelope
		if err := json.Unmarshal(env.Response, &inner); err != nil {
			return nil, fmt.Errorf("answer's response must be an object, got %s", kind(env.Response))
		}
		env.Result, env.Data = inner.Result, inner.Data
	}
	if isNull(env.Result) {
		return nil, errors.New("answer has no result")
	}
	var r result
	if err := json.Unmarshal(env.Result, &r); err != nil {
		return nil, fmt.Errorf("answer's result must be an object, got %s", kind(env.Result))
	}
	a := &Answer{}
	if !isNull(env.Data) {
		a.Data = env.Data
	}
	switch code := bytes.TrimSpace(r.Code); {
	case isNull(code):
		return nil, errors.New("answer's result has no code")
	case code[0] == '"':
		if err := json.Unmarshal(code, &a.Code); err != nil {
			return nil, fmt.Errorf("answer's result.code: %w", err)
		}
	case code[0] == '-' || (code[0] >= '0' && code[0] <= '9'):
		a.Code = string(code)
	default:
		return nil, fmt.Errorf("answer's result.code must be a string or a number, got %s", kind(code))
	}
	if !isNull(r.Description) {
		if err := json.Unmarshal(r.Description, &a.Description); err != nil {
			return nil, fmt.Errorf("answer's result.description must be a string, got %s", kind(r.Description))
		}
	}
	if !isNull(r.Errors) {
		if err := json.Unmarshal(r.Errors, &a.Errors); err != nil {
			return nil, errors.New("answer's result.errors must be an array of field names (strings)")
		}
	}
	return a, nil
}

// isNull reports whether a raw member is absent or null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// kind names the JSON type of raw, a valid JSON value.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "nothing"
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	case raw[0] == '"':
		return "a string"
	case raw[0] == 't' || raw[0] == 'f':
		return "a boolean"
	case raw[0] == 'n':
		return "null"
	}
	return "a number"
}

// firstRune is the first character of b, for "it starts with '<'".
func firstRune(b []byte) rune {
	r := []rune(string(b[:min(len(b), 4)]))
	return r[0]
}
