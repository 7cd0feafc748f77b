package api

import (
	"fmt"
	"maps"
	"mime"
	"slices"
	"strings"
	"testing"
)

// fastCases are bodies at the edges of what the fast path reads: each must
// be parsed by it to what encoding/json gives, or left to encoding/json.
var fastCases = []string{
	`{"MODULE":"ISL_CP","EVENT":"USER_CREATE","DOMAIN_ID":"3","USERNAME":"u1"}`,
	" \t\r\n{ \"MODULE\" : \"M\" , \"EVENT\" : \"E\" } \n",
	`{}`, `{ }`, `{"A":""}`, `{"A":"é☃𝄞"}`, `{"A":"\u00e9"}`, `{"A":"a\"b"}`, `{"A":"a\\b"}`,
	`{"A":"` + "\xff" + `"}`, `{"A":"` + "\x7f" + `"}`, `{"A":"` + "\x01" + `"}`, `{"A":"\u0000"}`,
	`{"A":0}`, `{"A":-0}`, `{"A":01}`, `{"A":1.}`, `{"A":.5}`, `{"A":1.50}`, `{"A":-12e+3}`, `{"A":1E9}`,
	`{"A":1e}`, `{"A":-}`, `{"A":+1}`, `{"A":0x10}`, `{"A":1 2}`, `{"A":true}`, `{"A":null}`, `{"A":[]}`,
	`{"A":{}}`, `{"A":"x",}`, `{,}`, `{"A":"x""B":"y"}`, `{"A" "x"}`, `{"A":"x"}x`, `{"A":"x"}{}`,
	`{"A":"x","A":"y"}`, `{"A":"x","\u0041":"y"}`, `{"A B":"x"}`, `{"":"x"}`, `{"A":"x"`, `{"A":`, `{`,
	`[`, `[]`, `[{}]`, `[{"MODULE":"M","EVENT":"E"}]`, ` [ {"MODULE":"M","EVENT":"E"} , {"MODULE":"M","EVENT":"F"} ] `,
	`[{"MODULE":"M","EVENT":"E"},]`, `[{"MODULE":"M","EVENT":"E"}]x`, `[{"MODULE":"M"}]`, `[{"MODULE":"M","EVENT":"E"} {"MODULE":"M","EVENT":"E"}]`,
	`[{"MODULE":"M","EVENT":"E"},1]`, `{"` + strings.Repeat("N", 129) + `":"x"}`,
}

// TestFastJSONAgrees checks that whatever fastObject and fastArray accept,
// decodeJSON and decodeArray (encoding/json) accept too, with the same
// fields, and that the plain bodies are read by the fast path at all.
func TestFastJSONAgrees(t *testing.T) {
	for _, body := range fastCases {
		checkFastAgrees(t, []byte(body))
	}
	for _, body := range []string{fastCases[0], fastCases[1], `{"A":-12e+3}`, `{"A":"é☃𝄞"}`,
		` [ {"MODULE":"M","EVENT":"E"} , {"MODULE":"M","EVENT":"F"} ] `} {
		if _, ok := fastObject([]byte(body)); !ok {
			if _, ok := fastArray([]byte(body)); !ok {
				t.Errorf("%q: the fast path does not read it", body)
			}
		}
	}
}

// TestFastArrayBound checks that a batch of MaxBatch events is read by
// the fast path and one more is left to decodeArray, which refuses it.
func TestFastArrayBound(t *testing.T) {
	ev := `{"MODULE":"M","EVENT":"E"}`
	full := "[" + strings.Repeat(ev+",", MaxBatch-1) + ev + "]"
	if evs, ok := fastArray([]byte(full)); !ok || len(evs) != MaxBatch {
		t.Fatalf("a batch of %d: fast path ok=%v, %d events", MaxBatch, ok, len(evs))
	}
	over := "[" + strings.Repeat(ev+",", MaxBatch) + ev + "]"
	if _, ok := fastArray([]byte(over)); ok {
		t.Fatalf("a batch of %d read by the fast path", MaxBatch+1)
	}
	if _, _, err := ParseEvents(typeJSON, []byte(over)); err != errTooMany {
		t.Fatalf("a batch of %d: %v, want %v", MaxBatch+1, err, errTooMany)
	}
}

// FuzzFastJSON is TestFastJSONAgrees on any body.
func FuzzFastJSON(f *testing.F) {
	for _, body := range fastCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastAgrees(t, body) })
}

func checkFastAgrees(t *testing.T, body []byte) {
	t.Helper()
	if fast, ok := fastObject(body); ok {
		slow, err := decodeJSON(body)
		if err != nil {
			t.Fatalf("%q: fast path accepts it, encoding/json says %v", body, err)
		}
		if !maps.Equal(fast, slow) {
			t.Fatalf("%q: fast path gives %q, encoding/json %q", body, fast, slow)
		}
	}
	if fast, ok := fastArray(body); ok {
		slow, err := decodeArray(body)
		if err != nil {
			t.Fatalf("%q: fast path accepts the batch, encoding/json says %v", body, err)
		}
		if !slices.EqualFunc(fast, slow, maps.Equal) {
			t.Fatalf("%q: fast path gives %q, encoding/json %q", body, fmt.Sprint(fast), fmt.Sprint(slow))
		}
	}
}

// TestParseEventAllocs bounds the allocations of parsing a typical event:
// the body's copy, the map, the media type's parameters and hook.CheckFields' sorted names. encoding/json's token stream
// took 68 for this body.
func TestParseEventAllocs(t *testing.T) {
	body := []byte(fastCases[0])
	n := testing.AllocsPerRun(100, func() {
		if _, err := ParseEvent(typeJSON, body); err != nil {
			t.Fatal(err)
		}
	})
	if n > 12 {
		t.Errorf("ParseEvent of %s: %.0f allocations, want at most 12", body, n)
	}
}

// BenchmarkParseEvent is the parse of POST /v1/events for one event.
func BenchmarkParseEvent(b *testing.B) {
	body := []byte(fastCases[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseEvents(typeJSON, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBatch is the parse of a batch of 500 events.
func BenchmarkParseBatch(b *testing.B) {
	ev := `{"MODULE":"ISL_CP","EVENT":"USER_CREATE","DOMAIN_ID":"3","USERNAME":"u1"}`
	body := []byte("[" + strings.Repeat(ev+",", 499) + ev + "]")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseEvents(typeJSON, body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEventMediaTypeExact checks that the Content-Types eventMediaType
// answers without mime.ParseMediaType are answered as it would, and
// without allocating.
func TestEventMediaTypeExact(t *testing.T) {
	for _, ct := range []string{typeJSON, typeForm, typeNDJSON} {
		mt, _, err := mime.ParseMediaType(ct)
		if got, gerr := eventMediaType(ct); err != nil || gerr != nil || got != mt {
			t.Errorf("%q: got %q, %v; mime says %q, %v", ct, got, gerr, mt, err)
		}
		if n := testing.AllocsPerRun(10, func() { _, _ = eventMediaType(ct) }); n != 0 {
			t.Errorf("%q: %.0f allocations", ct, n)
		}
	}
}
