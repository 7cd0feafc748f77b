package pdkas_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// The SDK's parsers, fuzzed through the test guest against Go's: the JSON
// reader (config, HTTP responses) against encoding/json, the event decoder
// (form encoding, UTF-8) against the event hookd sent.
//
//	go test -run '^$' -fuzz FuzzJSON -fuzztime 30s ./plugins/pdk-as/
//	go test -run '^$' -fuzz FuzzFields -fuzztime 30s ./plugins/pdk-as/

// fuzzGuest loads the test guest once for a fuzz target.
func fuzzGuest(f *testing.F) *wasmhost.Plugin {
	f.Helper()
	return plugintest.Load(f, buildAS(f, testGuest), wasmhost.Limits{Instances: 1, MaxReply: 1 << 20}, hostfn.Grants{})
}

// FuzzJSON: what encoding/json accepts, the guest parses to the same value
// and writes back (numbers as written); what it refuses, the guest refuses
// with an offset.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-0.5e+10,true,false,null,"x\ty\u00e9\/"],"b":{}}`, `"\ud83d\ude00"`, `"\udc00"`, `[`, `{"a" 1}`,
		`[1,]`, `01`, "\"a\x01\"", `"\x"`, `tru`, `-`, `1e`, ` 0.0E-0 `, "\"\xff\xc3(\"", `{"":""}`, `[[[]]]`,
	} {
		f.Add(s)
	}
	p := fuzzGuest(f)
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 4096 || strings.Count(in, "[")+strings.Count(in, "{") >= 500 {
			return // the guest refuses nesting past 512; keep events small
		}
		out, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "json", "text": in}))
		if err != nil || out.Status != 0 {
			t.Fatalf("%q: status %d err %v (%s); logs %v", in, out.Status, err, out.Error, out.Logs)
		}
		got := string(out.Reply)
		// The guest reads the field as UTF-8 text: bytes that are not
		// become U+FFFD before it parses them.
		text := perByte(in)
		if !json.Valid([]byte(text)) {
			if !strings.HasPrefix(got, "error invalid JSON at offset ") {
				t.Fatalf("%q is not JSON, the guest parsed it as %q", in, got)
			}
			return
		}
		want, err := decode(text)
		if err != nil {
			t.Fatal(err)
		}
		have, err := decode(got)
		if err != nil {
			t.Fatalf("%q: the guest wrote %q, which is not JSON: %v", in, got, err)
		}
		if !reflect.DeepEqual(have, want) {
			t.Fatalf("%q: the guest read %#v, encoding/json %#v", in, have, want)
		}
	})
}

// FuzzFields: the guest decodes the form-encoded event into the fields
// hookd sent (invalid UTF-8 as U+FFFD per byte).
func FuzzFields(f *testing.F) {
	for _, s := range [][2]string{{"a", "b"}, {"=&+% ", "%zz%4"}, {"ü€😀", "\xff\xe2\x82"}, {"x", ""}, {"\x00", "a\nb"}} {
		f.Add(s[0], s[1])
	}
	p := fuzzGuest(f)
	f.Fuzz(func(t *testing.T, name, value string) {
		if name == "" || len(name)+len(value) > 4096 || name == "op" {
			return
		}
		ev := plugintest.Event(map[string]string{"op": "fields", name: value})
		out, err := p.Call(context.Background(), ev)
		if err != nil || out.Status != 0 {
			t.Fatalf("%q=%q: status %d err %v (%s)", name, value, out.Status, err, out.Error)
		}
		var got map[string]string
		if err := json.Unmarshal(out.Reply, &got); err != nil {
			t.Fatalf("%q: %v", out.Reply, err)
		}
		want := make(map[string]string, len(ev.Fields))
		for k, v := range ev.Fields {
			want[perByte(k)] = perByte(v)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q=%q: the guest read %q, want %q", name, value, got, want)
		}
	})
}

// perByte replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD, as the SDK decodes text (and encoding/json does).
func perByte(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func decode(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
