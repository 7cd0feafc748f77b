package httpevents_test

import (
	"strings"
	"testing"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, want string }{
		{"global without server", "[http_events]\nglobal = true\n", "global_server: required when global = true"},
		{"server with path", "[http_events]\nglobal = true\nglobal_server = \"localhost:8080/x\"\n", "global_server: must be host:port"},
		{"server without port", "[http_events]\nglobal = true\nglobal_server = \"localhost\"\n", "global_server: must be host:port"},
		{"server bad scheme", "[http_events]\nglobal = true\nglobal_server = \"ftp://h:1\"\n", "global_server: scheme must be http or https"},
		{"path without slash", "[http_events]\nglobal = true\nglobal_server = \"h:1\"\nglobal_path = \"x\"\n", "global_path: must start with /"},
		{"combine too long", "[http_events]\nglobal = true\nglobal_server = \"h:1\"\ncombine_interval = 301\n", "combine_interval: must be between 0 and 300s"},
		{"timeout too short", "[http_events]\nglobal = true\nglobal_server = \"h:1\"\ntimeout = \"1ms\"\n", "timeout: must be between 100ms and 5m"},
		{"bad cidr", "[http_events]\nper_domain = true\nallow_private = [\"10.0.0.300/8\"]\n", "allow_private:"},
		{"domain without id", "[[domain]]\nscript = \"http://x/\"\n", "[[domain]] #1: id: required"},
		{"domain twice", "[[domain]]\nid = \"1\"\nscript = \"http://x/\"\n[[domain]]\nid = \"1\"\nscript = \"http://y/\"\n", `[[domain]] id "1": id: defined twice`},
		{"domain script not a URL", "[[domain]]\nid = \"1\"\nscript = \"x/y\"\n", "script: must be an absolute http:// or https:// URL"},
		{"plugin settings on a URL", "[[domain]]\nid = \"1\"\nscript = \"http://x/\"\n[domain.plugin]\ninstances = 2\n", "plugin and config apply to .wasm scripts only"},
		{"plugin memory too small", "[[domain]]\nid = \"1\"\nscript = \"p.wasm\"\n[domain.plugin]\nmemory_pages = 1\n", "plugin.memory_pages: must be between 2 and"},
		{"plugin bad allow_private", "[[domain]]\nid = \"1\"\nscript = \"p.wasm\"\n[domain.plugin]\nallow_private = [\"x\"]\n", "plugin.allow_private"},
		{"plugin unknown key", "[[domain]]\nid = \"1\"\nscript = \"p.wasm\"\n[domain.plugin]\nmemroy = 1\n", `unknown key "domain.plugin.memroy"`},
		{"reload interval", "[plugins]\nreload_interval = \"1ms\"\n", "reload_interval: must be 0 (off) or at least 100ms"},
		{"domain unknown key", "[[domain]]\nid = \"1\"\nscript = \"http://x/\"\nscirpt = 1\n", `unknown key "domain.scirpt"`},
		{"strict wrong type", "[[domain]]\nid = \"1\"\nscript = \"http://x/\"\nstrict = \"yes\"\n", "domain.strict: wrong type"},
		{"unknown key", "[http_events]\nglobal = true\nglobal_server = \"h:1\"\nglobal_srict = true\n", `unknown key "http_events.global_srict"`},
		{"commands without url", "[commands]\n", "xmlmsg_url: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
	// A section with every switch off is off, as in the proxy: accepted.
	if _, err := parse(t, "[http_events]\nglobal_strict = true\n"); err != nil {
		t.Errorf("[http_events] with global and per_domain off: %v; want it accepted as off", err)
	}
	// Integer seconds and duration strings both work for the interval.
	for _, v := range []string{"30", `"30s"`, "0"} {
		if _, err := parse(t, "[http_events]\nglobal = true\nglobal_server = \"https://h:1\"\ncombine_interval = "+v+"\n"); err != nil {
			t.Errorf("combine_interval = %s: %v", v, err)
		}
	}
}
