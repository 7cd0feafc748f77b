package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseHelps: the text form of addHelps gives the synopsis (with its
// continuation lines), what the command does, and the name it is filed
// under; text in another form is the program's mistake and panics.
func TestParseHelps(t *testing.T) {
	got := parseHelps(`
hookd domains token create ID -name NAME [-json]
	Create a token.
	Printed once.

hookd plugin test -domain ID [-module FILE]
                  [-events FILE]
	Dry-run a plugin.

hookd targets list
	List every target.
`)
	want := map[string]cmdHelp{
		"domains token create": {"hookd domains token create ID -name NAME [-json]", "Create a token.\nPrinted once."},
		"plugin test":          {"hookd plugin test -domain ID [-module FILE]\n                  [-events FILE]", "Dry-run a plugin."},
		"targets list":         {"hookd targets list", "List every target."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseHelps:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"hookd\n\tno command", "domains list\n\tno hookd", "hookd domains list\nabout without a tab"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "cmd/hookd: help") {
					t.Errorf("parseHelps(%q): panic %v, want one naming the help", bad, r)
				}
			}()
			parseHelps(bad)
		}()
	}
}
