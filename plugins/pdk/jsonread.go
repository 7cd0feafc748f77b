package pdk

import (
	"errors"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonread.go, jsonwrite.go, config.go and jsonfields.go are a small JSON
// codec, so that plugins do not link encoding/json: importing it costs a
// plugin about 0.2 MB even when unused (its init pulls in fmt and os), and
// using it about 1 MB more, with a Go guest's loops slowed down by the
// host's deadline checks (~28 ns per iteration). Here parseJSON reads RFC
// 8259 JSON into generic values; jsonwrite.go writes what SignJWT and
// Fetch send; config.go decodes into Go values. The tests check all three
// against encoding/json.

// jsonNumber is a number as written, so that integers keep every digit.
type jsonNumber string

// jsonObject keeps the members of an object in order.
type jsonObject []jsonMember

type jsonMember struct {
	name  string
	value any
}

// parseJSON parses one JSON value. Values are nil, bool, string,
// jsonNumber, []any and jsonObject.
func parseJSON(b []byte) (any, error) {
	p := jsonParser{b: b}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.b) {
		return nil, p.errorf("data after the JSON value")
	}
	return v, nil
}

const maxJSONDepth = 10000 // as encoding/json

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) errorf(msg string) error {
	return errors.New("invalid JSON at offset " + strconv.Itoa(p.i) + ": " + msg)
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth >= maxJSONDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.space()
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		obj := jsonObject{}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return obj, nil
		}
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, p.errorf("want a member name")
			}
			name, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, p.errorf("want ':'")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, jsonMember{name, v})
			if done, err := p.next('}'); done || err != nil {
				return obj, err
			}
		}
	case c == '[':
		p.i++
		arr := []any{}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return arr, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if done, err := p.next(']'); done || err != nil {
				return arr, err
			}
		}
	case c == '"':
		return p.str()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(p.b)-p.i >= len(lit.text) && string(p.b[p.i:p.i+len(lit.text)]) == lit.text {
			p.i += len(lit.text)
			return lit.v, nil
		}
	}
	return nil, p.errorf("unexpected character " + strconv.QuoteRune(rune(p.b[p.i])))
}

// next reads ',' (false) or end (true) after an element.
func (p *jsonParser) next(end byte) (bool, error) {
	p.space()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return false, nil
		case end:
			p.i++
			return true, nil
		}
	}
	return false, p.errorf("want ',' or '" + string(end) + "'")
}

func (p *jsonParser) number() (jsonNumber, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return "", p.errorf("bad number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", p.errorf("bad number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", p.errorf("bad number")
		}
	}
	return jsonNumber(p.b[start:p.i]), nil
}

// str reads a string; invalid UTF-8 and lone surrogates become U+FFFD, as
// with encoding/json.
func (p *jsonParser) str() (string, error) {
	p.i++ // '"'
	start := p.i
	for p.i < len(p.b) { // fast path: nothing to unescape
		c := p.b[p.i]
		if c == '"' {
			p.i++
			return string(p.b[start : p.i-1]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.i++
	}
	out := slices.Clone(p.b[start:p.i])
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(p.b[p.i:])
			out = utf8.AppendRune(out, r)
			p.i += size
			continue
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		switch e := p.b[p.i]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4(p.i + 1)
			if !ok {
				return "", p.errorf("bad \\u escape")
			}
			p.i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := p.hex4(p.i + 3); ok && p.b[p.i+1] == '\\' && p.b[p.i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						p.i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.errorf("bad escape")
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[at : at+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}
