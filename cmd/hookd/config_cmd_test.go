package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigCommand: `hookd config` prints the effective config with its
// secrets redacted; -h prints its usage to stdout.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(`
[store]
driver = "postgres"
dsn = "postgres://hookd:pg-s3cret@db:5432/hookd?sslmode=disable"
[webapi]
url = "https://svc:api-s3cret@api.example/webapi"
signup = true
`), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "-config", cfg}, &out, &errb); code != 0 {
		t.Fatalf("config: exit %d, %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{`dsn = "postgres://hookd:<redacted>@db:5432/hookd?sslmode=disable"`,
		`url = "https://svc:<redacted>@api.example/webapi"`, `retry_schedule = ["5s", "5m", "30m", "2h", "5h", "10h"]`,
		`path = "` + filepath.Join(dir, "data", "hookd.db") + `"`, "[webapi]"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "s3cret") {
		t.Errorf("a secret is printed:\n%s", text)
	}

	for _, args := range [][]string{{"config", "-h"}, {"help", "config"}} {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), args, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: hookd config [-config FILE]") ||
			!strings.Contains(out.String(), "<redacted>") || errb.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"config", "-config", cfg, "extra"}, 2, "unexpected arguments: extra"},
		{[]string{"config", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"config", "-config", filepath.Join(dir, "missing.toml")}, 1, "missing.toml"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}
