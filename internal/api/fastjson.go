package api

// The fast path of the JSON event parsers. encoding/json's token stream,
// which parseJSON and parseArray use so that duplicate names, nested values
// and trailing data are seen, costs about 60 allocations for a five-field
// event (a SyntaxError made and dropped at the end of every token, an
// interface per token): it was the largest allocation site of POST
// /v1/events. Almost every body is plain, flat JSON: strings without escapes
// and numbers. The fast path reads exactly that and nothing else, and
// answers "not mine" for anything it does not read, after which the
// encoding/json path decides with its own answers and error texts. So the
// fast path only has to agree with encoding/json on what it accepts
// (FuzzFastJSON checks that), never on errors.

import (
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// fastObject parses a whole body that is one flat JSON object of plain
// fields. ok false means the body is not one the fast path reads (which
// includes every invalid body): the caller parses it again with
// encoding/json.
func fastObject(body []byte) (fields map[string]string, ok bool) {
	s := string(body) // one copy: names and values are substrings of it
	fields, i, ok := fastFields(s, skipSpace(s, 0))
	if !ok || skipSpace(s, i) != len(s) {
		return nil, false
	}
	return fields, true
}

// fastArray parses a whole body that is a JSON array of 1 to MaxBatch
// flat objects of plain fields, each passing hook.CheckFields; ok false as
// for fastObject.
func fastArray(body []byte) (events []map[string]string, ok bool) {
	s := string(body)
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '[' {
		return nil, false
	}
	for i = skipSpace(s, i+1); ; {
		if len(events) == MaxBatch {
			return nil, false
		}
		fields, next, ok := fastFields(s, i)
		if !ok || hook.CheckFields(fields) != nil {
			return nil, false
		}
		events = append(events, fields)
		if i = skipSpace(s, next); i == len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
			continue
		case ']':
			if skipSpace(s, i+1) != len(s) {
				return nil, false
			}
			return events, true
		}
		return nil, false
	}
}

// fastFields reads the object that starts at s[i] and returns its fields
// and the index after its closing brace. Every name and value is checked
// by addField, as the encoding/json path does; a field it refuses makes
// ok false, so that the error comes from that path.
func fastFields(s string, i int) (fields map[string]string, next int, ok bool) {
	if i == len(s) || s[i] != '{' {
		return nil, 0, false
	}
	fields = make(map[string]string, 8)
	if i = skipSpace(s, i+1); i < len(s) && s[i] == '}' {
		return fields, i + 1, true
	}
	for {
		name, j, ok := plainString(s, i)
		if !ok {
			return nil, 0, false
		}
		if i = skipSpace(s, j); i == len(s) || s[i] != ':' {
			return nil, 0, false
		}
		i = skipSpace(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			value, j, ok = plainString(s, i)
		} else {
			value, j, ok = number(s, i)
		}
		if !ok || addField(fields, name, value) != nil {
			return nil, 0, false
		}
		if i = skipSpace(s, j); i == len(s) {
			return nil, 0, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
			continue
		case '}':
			return fields, i + 1, true
		}
		return nil, 0, false
	}
}

// plainString reads the JSON string that starts at s[i] when it has no
// escapes, no control characters and is valid UTF-8 (what encoding/json
// would decode to the same bytes), and returns its contents and the index
// after its closing quote.
func plainString(s string, i int) (str string, next int, ok bool) {
	if i == len(s) || s[i] != '"' {
		return "", 0, false
	}
	start, ascii := i+1, true
	for j := start; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			str = s[start:j]
			if !ascii && !utf8.ValidString(str) {
				return "", 0, false
			}
			return str, j + 1, true
		case c == '\\' || c < ' ':
			return "", 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", 0, false
}

// number reads the JSON number that starts at s[i] (RFC 8259:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) and returns its literal
// text, which is what encoding/json's UseNumber keeps.
func number(s string, i int) (lit string, next int, ok bool) {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		j = digits(s, j)
	default:
		return "", 0, false
	}
	if j < len(s) && s[j] == '.' {
		if k := digits(s, j+1); k > j+1 {
			j = k
		} else {
			return "", 0, false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digits(s, j); k > j {
			j = k
		} else {
			return "", 0, false
		}
	}
	return s[i:j], j, true
}

// digits returns the index of the first byte at or after i that is not an
// ASCII digit.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
