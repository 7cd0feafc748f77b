package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpNamesSignupFlags: the usage of plugin run and plugin test names
// their sign-up flags in the synopsis and says what they do, and plugin
// test's exit line counts a sign-up that could not be decided.
func TestHelpNamesSignupFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"plugin", "run", "-h"}, []string{
			"usage: hookd plugin run FILE.wasm (-event EVENT.json | -signup SIGNUP.json) [-config FILE] [-domain ID]",
			"ask its on_signup about one", `"language", "domain"`, "or the decision"}},
		{[]string{"plugin", "test", "-h"}, []string{
			"[-events FILE.json | -last N] [-signups FILE.json] [-stubs FILE.json]",
			"With -signups", "no_export", "in the language\na live sign-up would be decided in",
			"Exit 1 when an event would not be acknowledged or a sign-up could not be decided."}},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errb); code != 0 {
			t.Fatalf("hookd %s: exit %d, %s", strings.Join(tc.args, " "), code, errb.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("hookd %s: no %q in\n%s", strings.Join(tc.args, " "), w, out.String())
			}
		}
	}
}
