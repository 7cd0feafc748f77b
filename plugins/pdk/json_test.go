//go:build !wasip1

package pdk

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The codec of json.go must agree with encoding/json on everything a
// plugin can meet; these tests compare the two.

var jsonSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e-7`, `-12.5E+3`, `1e400`, `12345678901234567890`,
	`""`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20AC\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`,
	"\"\xff\xfe raw\"", `"ü€😀"`, `[]`, `{}`, `[1,[2,[3,{}]]]`, `{"a":1,"a":2}`, ` { "k" : [ true , null ] } `,
	`{"block":["10.0.0.0/8"],"secret":"s"}`,
	// invalid
	``, ` `, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `[1 2]`, `"abc`, "\"a\x01b\"",
	`"\x"`, `"\u12"`, `tru`, `nul`, `[`, `{`, `{"a":`, `1 2`, `[]]`, `"\ud800\u00"`,
}

// sameAsEncodingJSON reports how parseJSON and json.Unmarshal differ on data.
func sameAsEncodingJSON(data []byte) string {
	var want any
	werr := json.Unmarshal(data, &want)
	tree, err := parseJSON(data)
	if err != nil {
		if werr == nil {
			return "parseJSON error " + err.Error() + ", encoding/json none"
		}
		return ""
	}
	got, err := generic(tree)
	if err != nil {
		if werr == nil {
			return "generic: " + err.Error()
		}
		return ""
	}
	if werr != nil {
		return "parseJSON accepted what encoding/json refused: " + werr.Error()
	}
	if !reflect.DeepEqual(got, want) {
		return "got " + sprint(got) + ", want " + sprint(want)
	}
	// and writing the tree again gives the same value
	var again any
	if err := json.Unmarshal(appendTree(nil, tree), &again); err != nil || !reflect.DeepEqual(again, want) {
		return "appendTree: " + string(appendTree(nil, tree))
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

func sprint(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestParseJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		if d := sameAsEncodingJSON([]byte(s)); d != "" {
			t.Errorf("%q: %s", s, d)
		}
	}
	for _, n := range []int{10000, 10001} {
		deep := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if d := sameAsEncodingJSON(deep); d != "" {
			t.Errorf("%d levels: %s", n, d)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := sameAsEncodingJSON(data); d != "" {
			t.Errorf("%q: %s", data, d)
		}
	})
}

// testConfig has a field of every kind decodeJSON supports.
type testConfig struct {
	Name     string            `json:"name"`
	Count    int               `json:"count"`
	Small    int8              `json:"small"`
	Size     uint16            `json:"size"`
	Ratio    float64           `json:"ratio"`
	Ratio32  float32           `json:"ratio32"`
	On       bool              `json:"on"`
	Tags     []string          `json:"tags"`
	Pair     [2]int            `json:"pair"`
	Limits   map[string]int    `json:"limits"`
	Labels   map[string]string `json:"labels,omitempty"`
	Any      any               `json:"any"`
	Ptr      *int              `json:"ptr"`
	Raw      json.RawMessage   `json:"raw"`
	Prefix   netip.Prefix      `json:"prefix"`
	When     time.Time         `json:"when"`
	Bytes    []byte            `json:"bytes"`
	Timeout  time.Duration     `json:"timeout"`
	Nested   *testNested       `json:"nested"`
	Skipped  string            `json:"-"`
	Untagged string
	testEmbedded
	hidden string
}

type testNested struct {
	URL     string   `json:"url"`
	Headers []string `json:"headers"`
}

type testEmbedded struct {
	Region string `json:"region"`
}

var configSeeds = []string{
	`{}`, `null`,
	`{"name":"a","count":-3,"small":127,"size":65535,"ratio":1.5,"ratio32":0.1,"on":true}`,
	`{"tags":["a","b"],"pair":[1],"limits":{"x":1,"y":2},"labels":{"k":"v"}}`,
	`{"any":{"a":[1,"x",null,true]},"ptr":7,"raw":{"b":[1, 2],"a":"\u00e9"},"prefix":"10.0.0.0/8"}`,
	`{"when":"2024-01-02T03:04:05Z","bytes":"aGVsbG8=","timeout":1500000000}`,
	`{"nested":{"url":"https://x","headers":["a"]},"region":"eu","Untagged":"u","NAME":"folded","untagged":"f"}`,
	`{"ptr":null,"tags":null,"limits":null,"any":null,"nested":null,"name":null,"count":null}`,
	`{"limits":{"a":1},"limits":{"b":2}}`, `{"tags":["x"],"tags":[]}`,
	// errors
	`{"unknown":1}`, `{"Skipped":"x"}`, `{"hidden":"x"}`, `{"count":1.5}`, `{"count":"1"}`, `{"small":128}`, `{"size":-1}`,
	`{"ratio32":1e39}`, `{"on":"true"}`, `{"tags":"a"}`, `{"tags":[1]}`, `{"pair":{}}`, `{"limits":{"a":"b"}}`,
	`{"prefix":"10.0.0.1/33"}`, `{"prefix":5}`, `{"when":"yesterday"}`, `{"bytes":"!!"}`, `{"nested":[]}`,
	`{"nested":{"url":1}}`, `[]`, `"x"`, `{"count":1e2}`, `{"raw":1}`,
}

// sameDecoding reports how decodeJSON and a strict encoding/json decoder
// differ on data.
func sameDecoding(data []byte) string {
	var want, got testConfig
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	werr := d.Decode(&want)
	if werr == nil && len(bytes.TrimLeft(data[d.InputOffset():], " \t\r\n")) > 0 {
		werr = errMore // json.Unmarshal refuses trailing data too
	}
	err := decodeJSON(data, &got)
	if (err == nil) != (werr == nil) {
		return "decodeJSON error " + errText(err) + ", encoding/json " + errText(werr)
	}
	if err != nil {
		return ""
	}
	// RawMessage keeps the text as written in encoding/json, compacted here.
	if len(want.Raw) > 0 {
		var a, b any
		_ = json.Unmarshal(want.Raw, &a)
		_ = json.Unmarshal(got.Raw, &b)
		if !reflect.DeepEqual(a, b) {
			return "raw " + string(got.Raw) + ", want " + string(want.Raw)
		}
		want.Raw, got.Raw = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		return "got " + sprint(got) + ", want " + sprint(want)
	}
	return ""
}

var errMore = jsonError("trailing data")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func TestDecodeJSON(t *testing.T) {
	for _, s := range configSeeds {
		if d := sameDecoding([]byte(s)); d != "" {
			t.Errorf("%s: %s", s, d)
		}
	}
	for s, want := range map[string]string{
		`{"unknown":1}`:            `unknown field "unknown"`,
		`{"nested":{"x":1}}`:       `unknown field "nested.x"`,
		`{"tags":[1]}`:             "tags[0]: cannot use the number 1 as string",
		`{"count":1.5}`:            "count: cannot use the number 1.5 as int",
		`{"limits":{"a":"b"}}`:     "limits.a: cannot use a string as int",
		`{"prefix":"10.0.0.1/33"}`: `prefix: netip.ParsePrefix("10.0.0.1/33"): prefix length out of range`,
		`[]`:                       "cannot use an array as pdk.testConfig",
		`{"a":}`:                   "invalid JSON at offset 5: unexpected character '}'",
	} {
		var c testConfig
		if err := decodeJSON([]byte(s), &c); err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", s, err, want)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if d := sameDecoding(data); d != "" {
			t.Errorf("%s: %s", data, d)
		}
	})
}

type marshalsItself struct{}

func (marshalsItself) MarshalJSON() ([]byte, error) { return []byte(`{"self":true}`), nil }

func TestAppendJSON(t *testing.T) {
	n := 5
	for _, v := range []any{
		nil, "a\"\\\n\r\t\x00\x1f<>&\u2028 ü \xff", true, 0, -7, int64(math.MinInt64), uint64(math.MaxUint64), int8(-3), float32(0.1),
		1e-7, 1e21, 123456789.0, 1e20, -0.0, 5e-324, math.MaxFloat64,
		map[string]string{"b": "1", "a": "2"}, map[string]any{"x": []any{1, "y", nil}, "m": map[string]int{"z": 1}},
		[]string{"a"}, []int(nil), [2]bool{true}, &n, (*int)(nil), json.RawMessage(`{"r": 1}`), marshalsItself{},
		struct {
			A string `json:"a"`
			B int    `json:"b,omitempty"`
			C string `json:"-"`
			D []int
			e int
		}{A: "x", C: "hidden", e: 1},
		netip.MustParsePrefix("10.0.0.0/8"), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		got, err := appendJSON(nil, v)
		want, werr := json.Marshal(v)
		if err != nil || werr != nil {
			t.Errorf("%#v: %v / %v", v, err, werr)
			continue
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Errorf("%#v: wrote invalid JSON %s", v, got)
			continue
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%#v: %s, want %s", v, got, want)
		}
		if _, isFloat := v.(float64); isFloat && string(got) != string(want) {
			t.Errorf("%v: %s, want %s as written by encoding/json", v, got, want)
		}
	}
	for _, v := range []any{math.Inf(1), math.NaN(), map[int]int{1: 1}, make(chan int), func() {}} {
		if b, err := appendJSON(nil, v); err == nil {
			t.Errorf("%T encoded as %s", v, b)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"\\\n<\u2028\xff\xc3")
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		if got != want {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	})
}
