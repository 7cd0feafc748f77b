package webapi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/hookrt/hookd/builtin/webapi"
)

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want *webapi.Answer
		err  string
	}{
		{body: `{"result": {"code": "ok", "description": "Done.", "errors": [], "hs": "abc"}, "data": {"sid": "s1"}}`,
			want: &webapi.Answer{Code: "ok", Description: "Done.", Errors: []string{}, Data: json.RawMessage(`{"sid": "s1"}`)}},
		{body: `{"result": {"code": "invalid", "description": "Bad e-mail.", "errors": ["email"]}, "data": null}`,
			want: &webapi.Answer{Code: "invalid", Description: "Bad e-mail.", Errors: []string{"email"}}},
		{body: ` {"result": {"code": 0}} `, want: &webapi.Answer{Code: "0"}},
		{body: "\ufeff{\"result\": {\"code\": \"ok\"}}\r\n", want: &webapi.Answer{Code: "ok"}},
		{body: `{"result": {"code": -1.5e3}}`, want: &webapi.Answer{Code: "-1.5e3"}},
		{body: `{"result": {"code": "", "description": null, "errors": null}}`, want: &webapi.Answer{}},
		{body: `{"method": "account/signup/1", "response": {"result": {"code": "ok", "args": ["x"]}, "data": [1, 2]}}`,
			want: &webapi.Answer{Code: "ok", Data: json.RawMessage(`[1, 2]`)}},
		{body: `{"result": {"code": "top"}, "response": {"result": {"code": "inner"}}}`, want: &webapi.Answer{Code: "top"}},

		{body: ``, err: "answer is empty"},
		{body: `<html>`, err: `answer is not a JSON object (it starts with '<')`},
		{body: `[{"result": {}}]`, err: `answer is not a JSON object (it starts with '[')`},
		{body: `{"result": {"code": "ok"}`, err: "answer is not valid JSON: unexpected end of JSON input"},
		{body: `{"result": {"code": "ok"}} x`, err: "answer is not valid JSON: invalid character 'x' after top-level value"},
		{body: `{"data": {}}`, err: "answer has no result"},
		{body: `{"result": null}`, err: "answer has no result"},
		{body: `{"method": "m", "response": {"data": 1}}`, err: "answer has no result"},
		{body: `{"response": "ok"}`, err: "answer's response must be an object, got a string"},
		{body: `{"result": "ok"}`, err: "answer's result must be an object, got a string"},
		{body: `{"result": {"description": "x"}}`, err: "answer's result has no code"},
		{body: `{"result": {"code": {"id": 1}}}`, err: "answer's result.code must be a string or a number, got an object"},
		{body: `{"result": {"code": false}}`, err: "answer's result.code must be a string or a number, got a boolean"},
		{body: `{"result": {"code": "x", "description": 5}}`, err: "answer's result.description must be a string, got a number"},
		{body: `{"result": {"code": "x", "errors": "email"}}`, err: "answer's result.errors must be an array of field names (strings)"},
		{body: `{"result": {"code": "x", "errors": [{"field": "email"}]}}`, err: "answer's result.errors must be an array of field names (strings)"},
	} {
		got, err := webapi.ParseAnswer([]byte(tc.body))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseAnswer(%s):\n got %v\nwant %s", tc.body, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAnswer(%s):\n got %+v, %v\nwant %+v", tc.body, got, err, tc.want)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"result": {"code": "ok", "description": "Done.", "errors": ["a"]}, "data": {"sid": "s1"}}`,
		`{"method": "m", "response": {"result": {"code": 0}, "data": null}}`,
		`{"result": {"code": 1e400}}`, `{"result": {"code": "\ud800"}}`, `<html>`, `{"result": []}`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := webapi.ParseAnswer(body)
		if err != nil {
			if a != nil {
				t.Fatal("an answer and an error")
			}
			if msg := err.Error(); msg == "" || !utf8.ValidString(msg) {
				t.Fatalf("error text %q", msg)
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(body, []byte("\ufeff"))) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if a.Data != nil && !json.Valid(a.Data) {
			t.Fatalf("data %q is not JSON", a.Data)
		}
		if !a.OK(a.Code) {
			t.Fatal("OK(own code) is false")
		}
	})
}
