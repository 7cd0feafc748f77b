package sdktest

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
)

// testEventGet: a field reads as sent, whatever its length or bytes, and
// a missing one reads as missing; names are case-sensitive.
func testEventGet(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	fields := map[string]string{
		"long": strings.Repeat("0123456789abcdef", 640), // 10 KiB, past the first probe
		// Around each SDK's scratch buffer, where a read takes a second
		// probe: Go's is 256 bytes, AssemblyScript's 512.
		"b255":    strings.Repeat("x", 255),
		"b256":    strings.Repeat("y", 256),
		"b257":    strings.Repeat("z", 257),
		"b511":    strings.Repeat("x", 511),
		"b512":    strings.Repeat("y", 512),
		"b513":    strings.Repeat("z", 513),
		"empty":   "",
		"special": "a&b=c+d%20e ü€😀\n<&\"'>",
		"Ω name":  "unicode name",
	}
	for name, want := range fields {
		f := maps.Clone(fields)
		f["name"] = name
		if got := Reply(t, p, "get", f); got != "true:"+want {
			t.Errorf("get(%q) = %.40q (%d bytes), want %d bytes", name, got, len(got), len(want)+5)
		}
	}
	if got := Reply(t, p, "get", map[string]string{"name": "missing"}); got != "false:" {
		t.Errorf("get(missing) = %q", got)
	}
	if got := Reply(t, p, "get", map[string]string{"name": "sessionid"}); got != "false:" {
		t.Errorf("names are case-sensitive, got %q", got)
	}
	if got := Reply(t, p, "get", map[string]string{"name": "EVENT_ID"}); got != "true:"+plugintest.Event(nil).ID {
		t.Errorf("get(EVENT_ID) = %q", got)
	}
}

// testEventName: the name is EVENT, with ISL's "NEW SESSION" spelled as
// the other events are.
func testEventName(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	for event, want := range map[string]string{"NEW SESSION": "NEWSESSION", "NEWSESSION": "NEWSESSION", "STOP": "STOP"} {
		if got := Reply(t, p, "name", map[string]string{"EVENT": event}); got != want {
			t.Errorf("name for EVENT %q = %q, want %q", event, got, want)
		}
	}
}

// testEventFields: all fields read as sent, in the host's order (sorted
// by name).
func testEventFields(t *testing.T, g Guest) {
	p := g.Load(t, hostfn.Grants{})
	ev := plugintest.Event(map[string]string{
		"op":      "fields",
		"long":    strings.Repeat("€", 3000),
		"special": "a&b=c+d%20e;f\x00g\n\"\\",
		"=&+% ":   "name of markup",
		"empty":   "",
		"emoji 😀": "😀",
	})
	out, err := p.Call(context.Background(), ev)
	if err != nil || out.Status != 0 {
		t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Reply, &got); err != nil {
		t.Fatalf("%.200s: %v", out.Reply, err)
	}
	if !maps.Equal(got, ev.Fields) {
		for k, v := range ev.Fields {
			if got[k] != v {
				t.Errorf("field %q = %.40q, want %.40q", k, got[k], v)
			}
		}
		t.Errorf("fields has %d fields, want %d", len(got), len(ev.Fields))
	}
	// Sorted by name, as the host sends them.
	if i, j := strings.Index(string(out.Reply), `"CPUSER_ID"`), strings.Index(string(out.Reply), `"DESK"`); i < 0 || j < i {
		t.Errorf("fields not in the event's order: %.200s", out.Reply)
	}
}
