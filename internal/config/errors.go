package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem in a config file. [Decode], [ReadFile] and
// [Validator] return one, or several joined with [errors.Join] (one per
// line), each formatted as
//
//	config.toml:3:7: expected value but found '=' instead   (syntax)
//	config.toml: delivery.jitter: wrong type: want a number, got a string
//	config.toml: unknown key "jwt_webhook.urll"; allowed in [jwt_webhook]: url, …
//	config.toml: delivery.timeout: must be between 100ms and 5m, got 0s
//	config.toml: [jwt_webhook]: url: …   (a module's own Validate)
//
// where config.toml is the file name as given.
type Error struct {
	File string // the file name as given
	Line int    // 1-based line of a syntax error; 0 when not known
	Col  int    // 1-based byte column of a syntax error; 0 when not known
	Err  error  // what is wrong, starting with the key when there is one
	// key is the dotted key the problem is about when Err does not start
	// with it (an unknown key): what [SortErrors] orders by.
	key string
}

// Key returns the dotted key the problem is about ("delivery.timeout",
// "jwt_webhook.url"), or "" when it is about no key (a syntax error). A
// module's own problem ("[jwt_webhook]: url: required") is about the key
// its message starts with.
func (e *Error) Key() string {
	if e.key != "" {
		return e.key
	}
	var ke *keyError
	if !errors.As(e.Err, &ke) {
		return ""
	}
	k := ke.key
	if strings.HasPrefix(k, "[") && strings.HasSuffix(k, "]") { // "[id]": a module's Validate
		k = strings.Trim(k, "[]")
		if name, _, ok := strings.Cut(ke.msg, ":"); ok && isKeyName(name) {
			k += "." + name
		}
	}
	return k
}

// isKeyName reports whether s looks like a (dotted) bare TOML key.
func isKeyName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// Error returns the problem on one line: line breaks in the message (toml
// quotes input in some of its messages) are escaped as \n, so that a
// joined error has exactly one line per problem.
func (e *Error) Error() string {
	msg := lineBreaks.Replace(e.Err.Error())
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	return e.File + ": " + msg
}

var lineBreaks = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func (e *Error) Unwrap() error { return e.Err }

// keyError is a problem with one key: "delivery.timeout: must be …".
type keyError struct {
	key string
	msg string
	err error // the underlying error, if any, for errors.As
}

func (e *keyError) Error() string { return e.key + ": " + e.msg }
func (e *keyError) Unwrap() error { return e.err }

// syntaxError turns what toml.Decode returned into an *Error with the
// position of the problem in data.
func syntaxError(file string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Err: err}
	}
	line, col := pe.Position.Line, pe.Position.Col
	// toml's column is off at the first byte of a line, so compute it from
	// the byte offset when that offset falls on the reported line.
	if start := lineStart(data, line); start >= 0 && pe.Position.Start >= start {
		if c := pe.Position.Start - start + 1; c <= lineLen(data, start)+1 {
			col = c
		}
	}
	return &Error{File: file, Line: line, Col: col, Err: errors.New(pe.Message)}
}

// lineStart returns the byte offset of 1-based line n in data, or -1.
func lineStart(data []byte, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	if n < 1 {
		return -1
	}
	return off
}

func lineLen(data []byte, start int) int {
	if j := bytes.IndexByte(data[start:], '\n'); j >= 0 {
		return j
	}
	return len(data) - start
}

// The shapes of BurntSushi/toml's decoding errors, which are plain strings.
var (
	reLastKey      = regexp.MustCompile(`^toml: (?:line \d+ )?\(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)
	reIncompatible = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (.+)$`)
	reNotTable     = regexp.MustCompile(`^type mismatch for .+: expected table but found (.+)$`)
)

// decodeError turns what PrimitiveDecode returned for section into an
// *Error that names the key: "delivery.jitter: wrong type: want a number,
// got a string".
func decodeError(file, section string, err error) error {
	key, msg := section, err.Error()
	var pe toml.ParseError
	if errors.As(err, &pe) { // from an UnmarshalTOML, or a range check
		key, msg = cmpOr(pe.LastKey, section), pe.Message
	} else if m := reLastKey.FindStringSubmatch(msg); m != nil {
		if k, uerr := strconv.Unquote(m[1]); uerr == nil && k != "" {
			key = k
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "toml: ")
	}
	if m := reIncompatible.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("wrong type: want %s, got %s", wantOf(m[2]), tomlTypeName(m[1]))
	} else if m := reNotTable.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("wrong type: want a table, got %s", tomlTypeName(m[1]))
	}
	return &Error{File: file, Err: &keyError{key: key, msg: msg, err: err}}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// wantOf names a destination type as toml's messages spell it.
func wantOf(dst string) string {
	switch dst {
	case "string":
		return "a string"
	case "float":
		return "a number"
	case "integer":
		return "an integer"
	case "boolean":
		return "a boolean (true or false)"
	case "slice":
		return "an array"
	case "map":
		return "a table"
	case "primitive (string-like)":
		return "a string, number or boolean"
	}
	return dst
}

// tomlTypeName names a TOML value from the Go type toml decoded it to,
// as toml's messages spell it (fmt's %T with "any").
func tomlTypeName(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int64":
		return "an integer"
	case "float64":
		return "a float"
	case "bool":
		return "a boolean"
	case "time.Time":
		return "a datetime"
	case "[]any":
		return "an array"
	case "map[string]any":
		return "a table"
	case "[]map[string]any":
		return "an array of tables"
	}
	return goType
}
