package pdkas_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/plugintest/sdktest"
	"github.com/hookrt/hookd/internal/wasmhost"
)

// These tests run the SDK for real: test/guest.ts, compiled with asc as a
// plugin author compiles, in hookd's engine. The "op" field of each event
// picks what the guest does (see its source). TestSDK runs sdktest's
// scenarios, which the Go PDK passes too; the tests after it are of what
// only this SDK has.

func TestMain(m *testing.M) { plugintest.Main(m) }

const testGuest = "test/guest.ts"

// asGuest is this SDK's side of sdktest: where AssemblyScript does what
// Go cannot (fail with an empty message, claims as JSON text, a cap on
// commands the guest can reach), and its config type, with defaults and
// more types than the Go guest's.
var asGuest = sdktest.Guest{
	Build:     buildAS,
	TestGuest: testGuest,
	NoHandler: "test/nohandler.ts",
	Minimal:   "test/minimal.ts",
	Failures: []sdktest.Failure{
		{Op: "failempty", Session: "5a1b", Status: 1, Msg: "pdk: failed without a message"},
		{Op: "toomany", Session: "5a1b", Status: 2, Msg: "pdk: reply not sent: 101 commands; at most 100 fit in a reply"},
	},
	Config: sdktest.Config{
		Given:   `{"secret":"s\u00fc\"","limit":-9007199254740993,"ratio":2.5e-3,"on":true,"tags":["a","b"],"extra":{"b":true,"n":1.50,"a":[null,{}],"s":"\ud83d\ude00\ud800"}}`,
		Want:    `{"secret":"sü\"","key":"default.pem","limit":-9007199254740993,"ratio":0.0025,"on":true,"tags":["a","b"],"extra":{"b":true,"n":1.50,"a":[null,{}],"s":"😀` + "\uFFFD" + `"}}`, // the lone surrogate read as U+FFFD
		Default: `{"secret":"","key":"default.pem","limit":7,"ratio":0.5,"on":false,"tags":[],"extra":null}`,
		Invalid: map[string]string{
			`{"limit":"three"}`:             "pdk: config: limit: cannot use a string as i64",
			`{"limit":1.5}`:                 "pdk: config: limit: cannot use the number 1.5 as i64",
			`{"limit":9223372036854775808}`: "pdk: config: limit: cannot use the number 9223372036854775808 as i64",
			`{"on":"yes"}`:                  "pdk: config: on: cannot use a string as bool",
			`{"tags":"a"}`:                  "pdk: config: tags: cannot use a string as string[]",
			`{"tags":["a",1]}`:              "pdk: config: tags[1]: cannot use the number 1 as string",
			`{"secret":["s"]}`:              "pdk: config: secret: cannot use an array as string",
		},
	},
	SignErrors: []sdktest.SignError{
		{Name: "claims not an object", Key: "relay.pem", Claims: `[1]`, Want: "E-1 pdk: jwt_sign: ERR_BAD_ARGUMENT"},
	},
}

func TestSDK(t *testing.T) {
	t.Parallel()
	sdktest.Run(t, asGuest)
}

// TestEventBytes: values that are not UTF-8 read as U+FFFD per bad byte
// with get, and as sent with getBytes.
func TestEventBytes(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	bad := "a\xffb\xc3(c\xe2\x82d\xf0\x9f\x98\x80" // invalid, a truncated pair, a cut sequence, then a valid 😀
	if got, want := sdktest.Reply(t, p, "get", map[string]string{"name": "bad", "bad": bad}), "true:a\uFFFDb\uFFFD(c\uFFFD\uFFFDd😀"; got != want {
		t.Errorf("get of invalid UTF-8 = %q, want %q", got, want)
	}
	if got, want := sdktest.Reply(t, p, "getbytes", map[string]string{"name": "bad", "bad": bad}), "61ff62c328"; !strings.HasPrefix(got, want) {
		t.Errorf("getBytes = %q, want the bytes as sent (%s…)", got, want)
	}
	if got := sdktest.Reply(t, p, "getbytes", map[string]string{"name": "missing"}); got != "null" {
		t.Errorf("getBytes(missing) = %q", got)
	}
}

// TestXMLEscape: xmlEscape makes any text safe in an attribute and in
// element text, as Go's xml.EscapeText does.
func TestXMLEscape(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	text := "<&>\"' \t\r\n\x01 ü 😀 \uFFFE"
	doc := sdktest.Reply(t, p, "escape", map[string]string{"text": text})
	var x struct {
		A    string `xml:"a,attr"`
		Text string `xml:",chardata"`
	}
	if err := xmlUnmarshal(doc, &x); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	want := "<&>\"' \t\r\n\uFFFD ü 😀 \uFFFD"
	if x.A != want || x.Text != want {
		t.Errorf("attribute %q, text %q; want %q (%s)", x.A, x.Text, want, doc)
	}
}

// TestAbort: a throw, or a runtime error (an index out of range), cannot be
// caught in AssemblyScript: the call traps with the message logged, the
// instance is replaced, and the next call runs on a fresh one.
func TestAbort(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	for op, want := range map[string]string{
		"throw": "abort: boom <&\"> at ",
		"index": "abort: Index out of range at ~lib/array.ts:",
	} {
		out, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": op, "text": map[string]string{"throw": `boom <&">`, "index": "5"}[op]}))
		if !errors.Is(err, wasmhost.ErrTrap) {
			t.Errorf("op %s: err %v, want a trap", op, err)
		}
		if len(out.Logs) == 0 || out.Logs[0].Level != hostapi.LevelError || !strings.HasPrefix(out.Logs[0].Text, want) {
			t.Errorf("op %s: logs %v, want an error line %q…", op, out.Logs, want)
		}
		if out := sdktest.Call(t, p, "nomessage", nil); out.Status != 0 {
			t.Errorf("after %s: status %d (%s)", op, out.Status, out.Error)
		}
	}
}

// jsonEqual compares two JSON documents as values (numbers as written).
func jsonEqual(a, b string) bool {
	var x, y any
	da, db := json.NewDecoder(strings.NewReader(a)), json.NewDecoder(strings.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// TestJSON: the reader accepts RFC 8259 JSON and writes it back as it was
// written (numbers included), and refuses what is not JSON with the
// offset.
func TestJSON(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	for in, want := range map[string]string{
		` {"a" : [1, -0.5e+10, true, false, null, "x\ty\u00e9\/"], "b":{}} `: `{"a":[1,-0.5e+10,true,false,null,"x\ty\u00e9/"],"b":{}}`,
		`"\ud83d\ude00"`:            `"😀"`,
		`"\udc00 \ud800x"`:          `"\uFFFD \uFFFDx"`,
		`12345678901234567890123`:   `12345678901234567890123`,
		`{"a":1,"a":2}`:             `{"a":1,"a":2}`,
		`[`:                         "error invalid JSON at offset 1: unexpected end",
		`{"a" 1}`:                   "error invalid JSON at offset 5: want ':'",
		`[1,]`:                      "error invalid JSON at offset 3: unexpected character ']'",
		`01`:                        "error invalid JSON at offset 1: data after the JSON value",
		`"a` + "\x01" + `"`:         "error invalid JSON at offset 2: control character in string",
		`"\x"`:                      "error invalid JSON at offset 1: bad escape",
		`"\u12"`:                    "error invalid JSON at offset 3: bad \\u escape",
		`tru`:                       "error invalid JSON at offset 0: unexpected character 't'",
		`-`:                         "error invalid JSON at offset 1: bad number",
		strings.Repeat("[", 600):    "error invalid JSON at offset 512: nested too deeply",
		strings.Repeat(`{"a":`, 20): "error invalid JSON at offset 100: unexpected end",
	} {
		got := sdktest.Reply(t, p, "json", map[string]string{"text": in})
		if strings.HasPrefix(want, "error ") {
			if got != want {
				t.Errorf("parse %.40q: %q, want %q", in, got, want)
			}
			continue
		}
		if !jsonEqual(got, want) || strings.Contains(got, " ") && !strings.Contains(want, " ") {
			t.Errorf("parse %.40q: %s, want %s", in, got, want)
		}
	}
}

func TestJSONWriter(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	text := "q\" b\\ nl\n tab\t nul\x00 ü 😀 <&>"
	got := sdktest.Reply(t, p, "jsonwrite", map[string]string{"text": text})
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(got))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	quoted, _ := json.Marshal(text)
	want := `{"s":` + string(quoted) + `,"i":-9223372036854775808,"f":1.5,"whole":3,"nan":null,"b":true,"n":null,"a":[1,["x","y"],{}],"raw":{"k":[1,2]}}`
	if !jsonEqual(got, want) {
		t.Errorf("wrote %s\nwant  %s", got, want)
	}
	if v["whole"] != json.Number("3") {
		t.Errorf("a whole number is written %v, want 3", v["whole"])
	}
}

// TestTrace: AssemblyScript's trace(), which a JavaScript host would
// print, is a debug line of the plugin's log.
func TestTrace(t *testing.T) {
	t.Parallel()
	out := sdktest.Call(t, asGuest.Load(t, hostfn.Grants{}), "trace", nil)
	if len(out.Logs) != 1 || out.Logs[0] != (hostapi.LogLine{Level: hostapi.LevelDebug, Source: "log", Text: "trace: traced 1.5 2.0"}) {
		t.Errorf("trace() logged %v", out.Logs)
	}
}

// TestRandom: Math.random is seeded from the host's CSPRNG (WASI
// random_get), not AssemblyScript's "env" seed import.
func TestRandom(t *testing.T) {
	t.Parallel()
	a := sdktest.Reply(t, asGuest.Load(t, hostfn.Grants{}), "random", nil)
	b := sdktest.Reply(t, asGuest.Load(t, hostfn.Grants{}), "random", nil)
	if a == b {
		t.Errorf("two instances drew the same numbers %s", a)
	}
	for _, s := range strings.Fields(a + " " + b) {
		if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || f >= 1 {
			t.Errorf("Math.random() = %s", s)
		}
	}
}

// TestMemoryReclaimed: what a call allocates is collected after it (the
// minimal runtime's collector runs at the end of every call), so memory
// does not grow with the number of calls.
func TestMemoryReclaimed(t *testing.T) {
	t.Parallel()
	p := asGuest.Load(t, hostfn.Grants{})
	var pages []string
	for range 40 {
		got := sdktest.Reply(t, p, "alloc", map[string]string{"text": "512"}) // 512 KiB each call, 20 MiB in all
		n, size, _ := strings.Cut(got, " ")
		if n != "524288" {
			t.Fatalf("alloc = %q", got)
		}
		pages = append(pages, size)
	}
	if first, last := pages[0], pages[len(pages)-1]; first != last {
		t.Errorf("memory grew from %s to %s pages over 40 calls: %v", first, last, pages)
	}
	// Over the module's maximum (128 pages, 8 MiB) in one call: a trap,
	// and the instance is replaced.
	if _, err := p.Call(context.Background(), plugintest.Event(map[string]string{"op": "alloc", "text": "16384"})); !errors.Is(err, wasmhost.ErrTrap) {
		t.Errorf("16 MiB in one call: %v, want a trap", err)
	}
	if got := sdktest.Reply(t, p, "alloc", map[string]string{"text": "1"}); !strings.HasPrefix(got, "1024 ") {
		t.Errorf("after the trap: %q", got)
	}
}

// TestEnvImportRefused: a plugin that uses an API AssemblyScript takes from
// a JavaScript host is refused at load, with the import named.
func TestEnvImportRefused(t *testing.T) {
	t.Parallel()
	wasm := buildAS(t, "test/envimport.ts")
	_, err := plugintest.Engine(t).Load(context.Background(), wasm, wasmhost.Limits{Instances: 1}, hostfn.Grants{})
	want := "it imports env.Date.now; a plugin may import only from hookd_v1 and wasi_snapshot_preview1"
	if !errors.Is(err, wasmhost.ErrABI) || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want ErrABI saying %q", err, want)
	}
}

// TestFetchLarge: a response of the default 1 MiB limit fits the module's
// memory (a response body is held three times: as the host's JSON, as a
// UTF-16 string, and half-built), cut where the host cuts it.
func TestFetchLarge(t *testing.T) {
	t.Parallel()
	srv := sdktest.Receiver(t)
	p := asGuest.Load(t, sdktest.HTTPGrants(t, hostfn.HTTPOptions{Allow: []string{srv.URL}}))
	got := sdktest.Reply(t, p, "fetchsize", map[string]string{"url": srv.URL + "/big"})
	f := strings.Fields(got)
	if len(f) != 4 || f[0] != "200" || f[1] != strconv.Itoa(1<<20) || f[2] != "truncated" {
		t.Errorf("fetch of 2 MiB: %q, want 200 %d truncated <pages>", got, 1<<20)
	}
	t.Logf("memory after a 1 MiB response: %s pages", f[len(f)-1])
}

// TestImports: a plugin imports only the host functions it calls, so the
// test guest, which uses no state, loads in a hookd without state
// functions, and no AssemblyScript "env" import is left.
func TestImports(t *testing.T) {
	t.Parallel()
	for _, entry := range []string{testGuest, "test/minimal.ts"} {
		imports := wasmImports(t, buildAS(t, entry))
		for _, imp := range imports {
			mod, name, _ := strings.Cut(imp, ".")
			switch {
			case mod == hostapi.ModuleName && strings.HasPrefix(name, "state_"):
				t.Errorf("%s imports %s, which it does not use", entry, imp)
			case mod == hostapi.ModuleName:
				if _, ok := hostapi.Signature(name); !ok {
					t.Errorf("%s imports %s, not in the ABI", entry, imp)
				}
			case imp == "wasi_snapshot_preview1.random_get":
			default:
				t.Errorf("%s imports %s", entry, imp)
			}
		}
	}
	min := wasmImports(t, buildAS(t, "test/minimal.ts"))
	if len(min) > 3 {
		t.Errorf("the minimal plugin imports %v", min)
	}
}
