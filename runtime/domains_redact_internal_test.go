package runtime

import (
	"encoding/json"
	"testing"
)

// TestUnescapeHTML: the views' JSON reads "<redacted>", not
// "\u003credacted\u003e", and a backslash followed by the text u003c
// stays what it was.
func TestUnescapeHTML(t *testing.T) {
	for _, s := range []string{"<redacted>", `a\u003cb`, `\`, `"<&>"`, "x\u2028y", `\\u0026`} {
		b, _ := json.Marshal(map[string]string{"k": s})
		got := unescapeHTML(b)
		var back map[string]string
		if err := json.Unmarshal(got, &back); err != nil || back["k"] != s {
			t.Errorf("unescapeHTML(%s) = %s: reads %q, %v; want %q", b, got, back["k"], err, s)
		}
	}
	if got := string(unescapeHTML([]byte(`{"k":"\u003credacted\u003e"}`))); got != `{"k":"<redacted>"}` {
		t.Errorf("unescapeHTML = %s", got)
	}
}
