package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// answer is a JSON1 answer, the shape every account/1 call gets back with
// HTTP 200:
//
//	{"result": {"code": "ok", "description": "Account created."}, "data": {"id": 1, …}}
//	{"result": {"code": "invalid_input", "description": "…", "errors": ["email"]}, "data": null}
//
// The caller (hookd, or the proxy) decides on result.code; description is
// shown to the user as it is; errors names the input fields that failed.
type answer struct {
	Result result `json:"result"`
	Data   any    `json:"data"` // null when the call failed
}

type result struct {
	Code        string   `json:"code"`
	Description string   `json:"description"`
	Errors      []string `json:"errors,omitempty"`
}

// The result codes this service answers.
const (
	codeOK            = "ok"
	codeInvalidInput  = "invalid_input"
	codeUsernameTaken = "username_taken"
	codeUnknownMethod = "unknown_method"
	codeInternalError = "internal_error" // the database failed; details are in the log
	codeUnavailable   = "unavailable"    // the service is shutting down
)

// Descriptions shared by the methods. They are shown to users as they are;
// this example speaks English only, whatever hl asks for.
const (
	descInternalError  = "The service cannot do this right now; please try again later."
	descShuttingDown   = "The service is restarting; please try again in a moment."
	descNotJSON        = "The request body is not valid JSON."
	descNotJSONObject  = "The request body must be a JSON object."
	descEncodingJSON1  = "Only the JSON1 encoding is supported."
	descNoSuchMethod   = "The method %q is not known."
	descFieldWrongType = "The field %s must be a %s."
)

func ok(description string, data any) answer {
	return answer{Result: result{Code: codeOK, Description: description}, Data: data}
}

func fail(code, description string, fields ...string) answer {
	return answer{Result: result{Code: code, Description: description, Errors: fields}}
}

// decodeObject checks that body is one JSON object and, if v is not nil,
// decodes it into v. Members v does not have are ignored. An empty body
// counts as {}. The returned body is the object as sent (or "{}").
//
// On bad input it returns an invalid_input answer: malformed JSON, another
// JSON value than an object, or a member of the wrong type (named in
// errors).
func decodeObject(body []byte, v any) ([]byte, *answer) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		a := fail(codeInvalidInput, descNotJSON)
		return nil, &a
	}
	if bytes.TrimSpace(body)[0] != '{' {
		a := fail(codeInvalidInput, descNotJSONObject)
		return nil, &a
	}
	if v == nil {
		return body, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, isType := errors.AsType[*json.UnmarshalTypeError](err); isType && te.Field != "" {
			a := fail(codeInvalidInput, fmt.Sprintf(descFieldWrongType, te.Field, te.Type), te.Field)
			return nil, &a
		}
		a := fail(codeInvalidInput, descNotJSON)
		return nil, &a
	}
	return body, nil
}
